// The rate limit across instances: one bucket per key in Redis, checked by one Lua script that reads
// and writes atomically (no read-then-write race between instances) with the token-bucket rules of
// token-bucket.ts, on Redis's own clock so that instances with skewed clocks agree.
//
// Every call has a short timeout. After a failure the store is "down" for a second: requests do
// not touch Redis in that time (the rule's onStoreError decides: the per-instance limit or a
// refusal), then one request probes it again. Nothing waits longer than the timeout.
import type { ResolvedRedisTls } from '@gatehouse/pki';
import { redisTlsOptions } from '@gatehouse/pki/redis-tls-options';
import { Redis } from 'ioredis';
import type { BucketRule } from './token-bucket.ts';
import type { RedisVerdict } from './redis-verdict.ts';

export { REDIS_ALLOW, REDIS_BANNED, REDIS_DENY } from './redis-verdict.ts';

/** After a failure, Redis is left alone this long before one request tries it again. */
export const REDIS_DOWN_MS = 1000;

// KEYS: bucket hash, ban flag, strike counter. ARGV: capacity, tokens per ms, banAfter, ban ms.
// Returns {verdict, whole tokens left, ms (until the next token, or left of the ban)}.
const SCRIPT = `
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local banAfter = tonumber(ARGV[3])
local banMs = tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if banAfter > 0 then
  local ttl = redis.call('PTTL', KEYS[2])
  if ttl > 0 then return {2, 0, ttl} end
end
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = capacity
  at = now
end
if now > at then
  tokens = math.min(capacity, tokens + (now - at) * rate)
  at = now
end
local verdict = 1
if tokens >= 1 then
  tokens = tokens - 1
  verdict = 0
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(at))
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) / rate) + 1000)
if verdict == 0 then return {0, math.floor(tokens), 0} end
local wait = math.ceil((1 - tokens) / rate)
if banAfter > 0 then
  local strikes = redis.call('INCR', KEYS[3])
  redis.call('PEXPIRE', KEYS[3], banMs)
  if strikes >= banAfter then
    redis.call('SET', KEYS[2], '1', 'PX', banMs)
    redis.call('DEL', KEYS[3])
  end
end
return {1, 0, wait}
`;

export interface RedisStoreOptions {
  host: string;
  port: number;
  password: string | null;
  db: number;
  /** PEM strings, resolved by the primary; null: plain TCP. Verification is never turned off. */
  tls: ResolvedRedisTls | null;
  timeoutMs: number;
}

export type StoreStateListener = (ok: boolean, error: string | null) => void;

type ScriptedRedis = Redis & {
  ghRateLimit(k1: string, k2: string, k3: string, a1: number, a2: number, a3: number, a4: number): Promise<number[]>;
};

export class RedisRateLimitStore {
  readonly addr: string;
  readonly signature: string;
  private readonly client: ScriptedRedis;
  private readonly onState: StoreStateListener;
  private downUntil = 0;
  private probing = false;
  /** False from the first failure until a call succeeds again. */
  ok = true;
  private closed = false;
  /** Why the connection last failed; cleared when it is ready again. */
  private connectionError: string | null = null;

  /**
   * `reportedDown`: the store this one replaces was down when closed; this one starts down too, so
   * that its first success (not its first failure) is what gets reported.
   */
  constructor(options: RedisStoreOptions, signature: string, onState: StoreStateListener, reportedDown = false) {
    this.addr = `${options.host}:${options.port}`;
    this.signature = signature;
    this.onState = onState;
    this.ok = !reportedDown;
    const client = new Redis({
      host: options.host,
      port: options.port,
      db: options.db,
      ...(options.password === null ? {} : { password: options.password }),
      ...(options.tls === null ? {} : { tls: redisTlsOptions(options.tls) }),
      commandTimeout: options.timeoutMs,
      connectTimeout: Math.max(options.timeoutMs, 1000),
      maxRetriesPerRequest: 0,
      retryStrategy: (times: number) => Math.min(100 * times, 1000),
      // Redis is a shared counter here, not a queue: a command that cannot be sent now is useless later.
      autoResendUnfulfilledCommands: false,
    }) as ScriptedRedis;
    client.defineCommand('ghRateLimit', { numberOfKeys: 3, lua: SCRIPT });
    // Failures surface through the commands; the connection's own error (a refused connection, a
    // certificate that does not verify) is kept to say why, since the command only says it failed.
    client.on('error', (error: Error) => {
      this.connectionError = error.message;
    });
    // A reconnection ends an outage without waiting for a request to probe it.
    client.on('ready', () => this.succeeded());
    this.client = client;
  }

  /** True when a check should go to Redis now (it is up, or it is time to probe it again). */
  usable(now: number): boolean {
    if (this.ok) return true;
    if (this.probing || now < this.downUntil) return false;
    this.probing = true;
    return true;
  }

  /** One atomic check of `key` in bucket `bucketId`. Rejects on any Redis failure or timeout. */
  async check(bucketId: string, key: string, rule: BucketRule): Promise<RedisVerdict> {
    // The hash tag keeps the three keys of one bucket key in one Redis Cluster slot.
    const base = `gatehouse:rl:{${bucketId}\u0000${key}}`;
    try {
      const reply = await this.client.ghRateLimit(
        `${base}:b`,
        `${base}:ban`,
        `${base}:s`,
        rule.capacity,
        rule.ratePerMs,
        rule.banAfter,
        rule.banDurationMs,
      );
      this.succeeded();
      return { verdict: Number(reply[0]), remaining: Number(reply[1]), waitMs: Number(reply[2]) };
    } catch (error) {
      this.failed(error as Error);
      throw error;
    }
  }

  private succeeded(): void {
    this.probing = false;
    this.connectionError = null;
    // A store closed by a reload answers its last replies; its successor reports the state.
    if (this.ok || this.closed) return;
    this.ok = true;
    this.onState(true, null);
  }

  private failed(error: Error): void {
    this.probing = false;
    this.downUntil = Date.now() + REDIS_DOWN_MS;
    if (!this.ok || this.closed) return;
    this.ok = false;
    this.onState(false, this.connectionError ?? error.message);
  }

  /**
   * Ends the connection once its commands in flight are answered (a reload swapped the store):
   * what fails after that is not an outage, so it is not reported.
   */
  close(): void {
    this.closed = true;
    if (this.client.status === 'ready') this.client.quit().catch(() => this.client.disconnect());
    else this.client.disconnect();
  }
}
