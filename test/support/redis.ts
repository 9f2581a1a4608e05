// A real redis-server on a free loopback port; the bench starts it the same way and owns the code.
export { type RedisServer, type RedisTlsFiles, startRedis } from '../../bench/lib/redis.ts';
