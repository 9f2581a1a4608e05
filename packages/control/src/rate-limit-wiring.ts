// The primary's side of rate limiting: the per-instance buckets workers lease tokens from (the
// ledger, rate-limit-ledger.ts), who holds leases, and the shared Redis store's state as the
// workers report it (one log line per outage, and /status).
import type { GatewayConfig } from '@gatehouse/config';
import type { LeaseAsk } from '@gatehouse/dataplane';
import type { Logger } from 'pino';
import type { RateLimitStoreStatus } from './gateway-api.ts';
import { RateLimitLedger } from './rate-limit-ledger.ts';
import type { ManagedWorker } from './workers.ts';

/** How often the rate-limit ledger forgets buckets that are full again. */
const RATE_LIMIT_SWEEP_MS = 5_000;

export class RateLimitWiring {
  /** The per-instance rate-limit buckets; workers lease tokens from it. */
  readonly ledger: RateLimitLedger;
  private readonly logger: Logger;
  private readonly workerCount: () => number;
  /** Workers that lease tokens, by id: answers, wakes and bans go to them. */
  private readonly leaseHolders = new Map<number, ManagedWorker>();
  private sweep: NodeJS.Timeout | null = null;
  /** Workers whose Redis store is down, and since when the store is in its current state. */
  private readonly storeDown = new Set<number>();
  private storeSince: string | null = null;

  constructor(logger: Logger, workerCount: () => number) {
    this.logger = logger;
    this.workerCount = workerCount;
    this.ledger = new RateLimitLedger((id, items) => {
      this.leaseHolders.get(id)?.trySend({ type: 'gh:rl-answer', items });
    });
  }

  ask(worker: ManagedWorker, items: LeaseAsk[]): void {
    if (!this.leaseHolders.has(worker.id)) {
      this.leaseHolders.set(worker.id, worker);
      worker.onExit(() => {
        this.leaseHolders.delete(worker.id);
        this.ledger.workerGone(worker.id);
      });
    }
    if (this.sweep === null) {
      this.sweep = setInterval(() => this.ledger.sweep(), RATE_LIMIT_SWEEP_MS);
      this.sweep.unref();
    }
    this.ledger.workers = this.workerCount();
    this.ledger.ask(worker.id, items);
  }

  /** Workers report their Redis store's state changes; the instance logs each outage once. */
  storeState(worker: ManagedWorker, addr: string, ok: boolean, error: string | null): void {
    const before = this.storeDown.size;
    if (ok) this.storeDown.delete(worker.id);
    else {
      this.storeDown.add(worker.id);
      worker.onExit(() => this.storeDown.delete(worker.id));
    }
    if (before === 0 && this.storeDown.size > 0) {
      this.storeSince = new Date().toISOString();
      this.logger.warn(
        { addr, error },
        'rate-limit store unreachable; rate limits follow onStoreError (local: per-instance limit)',
      );
    } else if (before > 0 && this.storeDown.size === 0) {
      this.storeSince = new Date().toISOString();
      this.logger.info({ addr }, 'rate-limit store reachable again');
    }
  }

  /** For /status: the shared rate-limit store, when gateway.redis is set. */
  storeStatus(config: GatewayConfig): RateLimitStoreStatus | null {
    const redis = config.gateway.redis;
    if (redis === null) return null;
    return {
      addr: `${redis.host}:${redis.port}`,
      state: this.storeDown.size > 0 ? 'fallback' : 'ok',
      since: this.storeSince,
      workersFallingBack: this.storeDown.size,
    };
  }

  stop(): void {
    if (this.sweep !== null) clearInterval(this.sweep);
    this.sweep = null;
  }
}
