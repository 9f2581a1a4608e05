// The Redis stores of one worker, one per connection settings (`gateway.redis` plus the TLS material
// the primary resolved). Generations with the same settings share a store; a reload that changes
// them (a rotated Redis CA or client certificate included) gets a new connection, and the old one is
// closed once no generation of this worker uses it.
import { GenerationBuildError } from '../../errors.ts';
import type { Snapshot } from '../../messages.ts';
import type { RedisRateLimitStore, StoreStateListener } from './redis-store.ts';

export class RedisStores {
  private readonly stores = new Map<string, RedisRateLimitStore>();
  /** Generation number → signature of the store it was built with. */
  private readonly users = new Map<number, string>();
  private readonly onState: (addr: string) => StoreStateListener;
  /** What this worker last reported to the primary: a new store carries it on (see RedisRateLimitStore). */
  private down = false;

  constructor(onState: (addr: string) => StoreStateListener) {
    this.onState = onState;
  }

  /**
   * The store of this snapshot's `gateway.redis`, or null without one. Rejects rather than drop TLS.
   * The store's module, and ioredis with it (some 10 MiB per process), is loaded only here.
   */
  async use(snapshot: Snapshot): Promise<RedisRateLimitStore | null> {
    const redis = snapshot.config.gateway.redis;
    if (redis === null) return null;
    const tls = snapshot.redisTls;
    if (redis.tls !== null && tls === null) {
      throw new GenerationBuildError('gateway.redis.tls is set but the snapshot carries no Redis TLS material');
    }
    const settings = {
      host: redis.host,
      port: redis.port,
      password: redis.password,
      db: redis.db,
      tls,
      timeoutMs: redis.checkTimeoutMs,
    };
    // Nothing awaited after this: a concurrent use() cannot make a second store for the signature.
    const { RedisRateLimitStore } = await import('./redis-store.ts');
    const signature = JSON.stringify(settings);
    let store = this.stores.get(signature);
    if (store === undefined) {
      const report = this.onState(`${redis.host}:${redis.port}`);
      store = new RedisRateLimitStore(
        settings,
        signature,
        (ok, error) => {
          this.down = !ok;
          report(ok, error);
        },
        this.down,
      );
      this.stores.set(signature, store);
    }
    this.users.set(snapshot.generation, signature);
    return store;
  }

  /** Closes every store that none of `generations` (the current and the prepared one) uses. */
  keepOnly(generations: ReadonlyArray<number | undefined>): void {
    for (const generation of this.users.keys()) {
      if (!generations.includes(generation)) this.users.delete(generation);
    }
    const used = new Set(this.users.values());
    for (const [signature, store] of this.stores) {
      if (used.has(signature)) continue;
      this.stores.delete(signature);
      store.close();
    }
  }
}
