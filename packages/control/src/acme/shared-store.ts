// ACME across instances, through `gateway.redis`: pending challenges (so that whichever instance the
// ACME server reaches can answer), issued certificates (so that every instance serves the result),
// and a lock per name (so that one instance orders it at a time).
//
// Keys, all under `gatehouse:acme:`:
//   lock:<provider>:<name>      the instance ordering that name (SET NX PX; released only by its owner)
//   http:<token>, alpn:<name>   challenges pending anywhere (expire after CHALLENGE_TTL_MS)
//   cert:<provider>:<name>      the newest certificate and key (JSON)
//   instances                   sorted set: instance id → last heartbeat
//   ack:<nonce>                 set: instances that serve a published challenge set
// Channels: `gatehouse:acme:challenges` (a nonce: re-read the challenges, then acknowledge it) and
// `gatehouse:acme:certificates` (a certificate changed).
//
// The private keys of issued certificates are stored in Redis: give Redis a password and TLS, and
// reach it only from the gateways.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { RedisConfig } from '@gatehouse/config';
import { type ResolvedRedisTls, redisTlsOptions } from '@gatehouse/pki';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';

const PREFIX = 'gatehouse:acme:';
const CHALLENGES_CHANNEL = `${PREFIX}challenges`;
const CERTIFICATES_CHANNEL = `${PREFIX}certificates`;
/** An order holds its name's lock at most this long (then another instance may take over). */
export const LOCK_TTL_MS = 5 * 60_000;
const CHALLENGE_TTL_MS = 10 * 60_000;
const HEARTBEAT_MS = 5_000;
/** An instance that has not beaten for this long is not waited for. */
const INSTANCE_TTL_MS = 20_000;
const ACK_TIMEOUT_MS = 10_000;

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

export interface SharedCertificate {
  certPem: string;
  keyPem: string;
  directoryUrl: string;
}

export interface RemoteChallenges {
  http: Map<string, string>;
  alpn: Map<string, { certPem: string; keyPem: string }>;
}

export interface SharedStoreEvents {
  /** Another instance changed the challenges: push `remote` to the workers, then resolve. */
  onChallenges(remote: RemoteChallenges): Promise<void>;
  /** Another instance stored a certificate for (provider, name). */
  onCertificate(provider: string, name: string): void;
}

/** `gateway.redis` and, with `tls`, the material the primary resolved for it (null: plain TCP). */
export interface RedisConnection {
  config: RedisConfig;
  tls: ResolvedRedisTls | null;
}

/** What makes two connections the same (the config's source positions left out). */
export function connectionKey(redis: RedisConnection): string {
  const { host, port, password, db, timeoutMs } = redis.config;
  return JSON.stringify([host, port, password, db, timeoutMs, redis.tls]);
}

export class SharedAcmeStore {
  readonly instance = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private readonly redis: Redis;
  private readonly subscriber: Redis;
  private readonly logger: Logger;
  private readonly heartbeat: NodeJS.Timeout;

  private constructor(redis: Redis, subscriber: Redis, logger: Logger, events: SharedStoreEvents) {
    this.redis = redis;
    this.subscriber = subscriber;
    this.logger = logger;
    const beat = () => {
      this.redis.zadd(`${PREFIX}instances`, Date.now(), this.instance).catch(() => {});
    };
    beat();
    this.heartbeat = setInterval(beat, HEARTBEAT_MS);
    this.heartbeat.unref();
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === CHALLENGES_CHANNEL) {
        void this.remoteChallenges()
          .then((remote) => events.onChallenges(remote))
          .then(() =>
            this.redis
              .multi()
              .sadd(`${PREFIX}ack:${message}`, this.instance)
              .pexpire(`${PREFIX}ack:${message}`, 60_000)
              .exec(),
          )
          .catch((error: unknown) => this.logger.warn({ err: error }, 'shared ACME challenges could not be applied'));
      } else if (channel === CERTIFICATES_CHANNEL) {
        try {
          const { provider, name } = JSON.parse(message) as { provider: string; name: string };
          events.onCertificate(provider, name);
        } catch {
          // not ours
        }
      }
    });
  }

  static async connect(
    connection: RedisConnection,
    logger: Logger,
    events: SharedStoreEvents,
  ): Promise<SharedAcmeStore> {
    const { config, tls: material } = connection;
    // The material the primary read and checked for this generation, never re-read here.
    if (config.tls !== null && material === null) {
      // Never fall back to plain TCP for a Redis the config says is reached over TLS.
      throw new Error('gateway.redis.tls is set but no Redis TLS material was resolved');
    }
    const tls = material ? redisTlsOptions(material) : undefined;
    const options = {
      host: config.host,
      port: config.port,
      db: config.db,
      ...(config.password ? { password: config.password } : {}),
      ...(tls ? { tls } : {}),
      commandTimeout: config.timeoutMs,
      connectTimeout: config.timeoutMs,
      maxRetriesPerRequest: 1,
      lazyConnect: true,
    };
    const redis = new Redis(options);
    const subscriber = new Redis(options);
    for (const client of [redis, subscriber]) {
      client.on('error', (error: Error) => logger.debug({ err: error }, 'redis connection error'));
    }
    await Promise.all([redis.connect(), subscriber.connect()]);
    await subscriber.subscribe(CHALLENGES_CHANNEL, CERTIFICATES_CHANNEL);
    return new SharedAcmeStore(redis, subscriber, logger, events);
  }

  close(): void {
    clearInterval(this.heartbeat);
    void this.redis.zrem(`${PREFIX}instances`, this.instance).catch(() => {});
    this.redis.disconnect();
    this.subscriber.disconnect();
  }

  /** True when this instance now holds the lock of (provider, name). */
  async lock(provider: string, name: string): Promise<boolean> {
    const ok = await this.redis.set(`${PREFIX}lock:${provider}:${name}`, this.instance, 'PX', LOCK_TTL_MS, 'NX');
    return ok === 'OK';
  }

  async unlock(provider: string, name: string): Promise<void> {
    await this.redis.eval(RELEASE, 1, `${PREFIX}lock:${provider}:${name}`, this.instance);
  }

  async certificate(provider: string, name: string): Promise<SharedCertificate | null> {
    const text = await this.redis.get(`${PREFIX}cert:${provider}:${name}`);
    if (text === null) return null;
    try {
      return JSON.parse(text) as SharedCertificate;
    } catch {
      return null;
    }
  }

  async putCertificate(provider: string, name: string, certificate: SharedCertificate): Promise<void> {
    await this.redis.set(`${PREFIX}cert:${provider}:${name}`, JSON.stringify(certificate));
    await this.redis.publish(CERTIFICATES_CHANNEL, JSON.stringify({ provider, name }));
  }

  async putHttpChallenge(token: string, keyAuthorization: string): Promise<void> {
    await this.redis.set(`${PREFIX}http:${token}`, keyAuthorization, 'PX', CHALLENGE_TTL_MS);
  }

  async putAlpnChallenge(name: string, pair: { certPem: string; keyPem: string }): Promise<void> {
    await this.redis.set(`${PREFIX}alpn:${name}`, JSON.stringify(pair), 'PX', CHALLENGE_TTL_MS);
  }

  async deleteChallenge(kind: 'http' | 'alpn', key: string): Promise<void> {
    await this.redis.del(`${PREFIX}${kind}:${key}`);
    await this.redis.publish(CHALLENGES_CHANNEL, randomBytes(8).toString('hex'));
  }

  /**
   * Tells every instance to re-read the challenges and waits until each live one (heartbeat within
   * INSTANCE_TTL_MS) says its workers serve them. Rejects when one stays silent: the ACME server is
   * then not asked to validate.
   */
  async announceChallenges(): Promise<void> {
    const nonce = randomBytes(8).toString('hex');
    const ackKey = `${PREFIX}ack:${nonce}`;
    await this.redis.publish(CHALLENGES_CHANNEL, nonce);
    const deadline = Date.now() + ACK_TIMEOUT_MS;
    for (;;) {
      const alive = await this.redis.zrangebyscore(`${PREFIX}instances`, Date.now() - INSTANCE_TTL_MS, '+inf');
      const acked = new Set(await this.redis.smembers(ackKey));
      const missing = alive.filter((id) => !acked.has(id));
      if (missing.length === 0) return;
      if (Date.now() > deadline) throw new Error(`instances ${missing.join(', ')} did not confirm the ACME challenges`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Every challenge pending in Redis (this instance's own included). */
  async remoteChallenges(): Promise<RemoteChallenges> {
    const out: RemoteChallenges = { http: new Map(), alpn: new Map() };
    for (const kind of ['http', 'alpn'] as const) {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, found] = await this.redis.scan(cursor, 'MATCH', `${PREFIX}${kind}:*`, 'COUNT', 100);
        cursor = next;
        keys.push(...found);
      } while (cursor !== '0');
      if (keys.length === 0) continue;
      const values = await this.redis.mget(...keys);
      keys.forEach((key, i) => {
        const value = values[i];
        if (value === null || value === undefined) return;
        const id = key.slice(`${PREFIX}${kind}:`.length);
        if (kind === 'http') out.http.set(id, value);
        else {
          try {
            out.alpn.set(id, JSON.parse(value) as { certPem: string; keyPem: string });
          } catch {
            // a damaged entry is left out
          }
        }
      });
    }
    return out;
  }
}
