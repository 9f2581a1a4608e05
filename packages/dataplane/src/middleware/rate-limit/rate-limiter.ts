// One rateLimit middleware on one route, compiled per generation. Per request: the key, then a
// decision from the worker's lease of the per-instance bucket (no IPC while the lease lasts), or
// from Redis when `gateway.redis` is set. While Redis is unreachable the rule's `onStoreError`
// decides: `local` counts in the per-instance bucket instead, `deny` refuses with 503.
import type { RateLimitRule } from '@gatehouse/config';
import { rateLimitBucketId } from './lease-messages.ts';
import {
  ALLOW,
  BANNED,
  DENY,
  type LeaseBucket,
  type LeaseEntry,
  type LeaseTable,
  type Verdict,
  WAIT,
} from './lease-table.ts';
import type { RedisRateLimitStore } from './redis-store.ts';
import { REDIS_ALLOW, REDIS_BANNED, type RedisVerdict } from './redis-verdict.ts';
import { type BucketRule, bucketRule } from './token-bucket.ts';

/** What the step answers; `ALLOWED` is shared, refusals are built per request (they are rare). */
export interface RateLimitDecision {
  readonly outcome: 'allow' | 'deny' | 'banned' | 'store-unavailable';
  readonly limit: number;
  readonly remaining: number;
  /** Whole seconds until a retry can succeed (Retry-After, RateLimit-Reset). */
  readonly retryAfterSeconds: number;
}

export const ALLOWED: RateLimitDecision = Object.freeze({
  outcome: 'allow',
  limit: 0,
  remaining: 0,
  retryAfterSeconds: 0,
});

function seconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

class LeaseWait {
  private readonly resolve: (d: RateLimitDecision) => void;
  private readonly limiter: RateLimiter;
  constructor(limiter: RateLimiter, resolve: (d: RateLimitDecision) => void) {
    this.limiter = limiter;
    this.resolve = resolve;
  }
  leaseDecided(verdict: Verdict, entry: LeaseEntry): void {
    this.resolve(this.limiter.fromLease(verdict, entry, Date.now()));
  }
}

export class RateLimiter {
  readonly route: string;
  readonly middleware: string;
  readonly rule: RateLimitRule;
  readonly bucketId: string;
  readonly bucket: BucketRule;
  private readonly table: LeaseTable;
  private readonly lease: LeaseBucket;
  private readonly store: RedisRateLimitStore | null;

  constructor(
    route: string,
    middleware: string,
    rule: RateLimitRule,
    table: LeaseTable,
    store: RedisRateLimitStore | null,
  ) {
    this.route = route;
    this.middleware = middleware;
    this.rule = rule;
    this.bucketId = rateLimitBucketId(route, middleware);
    this.bucket = bucketRule(rule.unit, rule.requestsPerUnit, rule.burst, rule.banAfter, rule.banDurationMs);
    this.table = table;
    this.lease = table.bucket(this.bucketId, rule.banAfter > 0);
    this.store = store;
  }

  decide(key: string, now: number): RateLimitDecision | Promise<RateLimitDecision> {
    const store = this.store;
    if (store?.usable(now)) {
      return store.check(this.bucketId, key, this.bucket).then(
        (v) => this.fromRedis(v),
        () => this.storeFailed(key),
      );
    }
    if (store !== null && this.rule.onStoreError === 'deny') return this.unavailable();
    return this.local(key, now);
  }

  private storeFailed(key: string): RateLimitDecision | Promise<RateLimitDecision> {
    return this.rule.onStoreError === 'deny' ? this.unavailable() : this.local(key, Date.now());
  }

  private unavailable(): RateLimitDecision {
    return { outcome: 'store-unavailable', limit: this.bucket.capacity, remaining: 0, retryAfterSeconds: 1 };
  }

  /** The per-instance bucket, through this worker's lease. */
  local(key: string, now: number): RateLimitDecision | Promise<RateLimitDecision> {
    const entry = this.table.take(this.lease, key, now);
    if (entry.verdict === ALLOW) return ALLOWED;
    if (entry.verdict !== WAIT) return this.fromLease(entry.verdict, entry, now);
    return new Promise((resolve) => this.table.park(entry, new LeaseWait(this, resolve)));
  }

  fromLease(verdict: Verdict, entry: LeaseEntry, now: number): RateLimitDecision {
    if (verdict === ALLOW) return ALLOWED;
    if (verdict === BANNED) {
      return {
        outcome: 'banned',
        limit: this.bucket.capacity,
        remaining: 0,
        retryAfterSeconds: seconds(entry.bannedUntil - now),
      };
    }
    const retryAt = verdict === DENY && entry.retryAt > now ? entry.retryAt : now + 1000;
    return { outcome: 'deny', limit: this.bucket.capacity, remaining: 0, retryAfterSeconds: seconds(retryAt - now) };
  }

  private fromRedis(v: RedisVerdict): RateLimitDecision {
    if (v.verdict === REDIS_ALLOW) return ALLOWED;
    return {
      outcome: v.verdict === REDIS_BANNED ? 'banned' : 'deny',
      limit: this.bucket.capacity,
      remaining: 0,
      retryAfterSeconds: seconds(v.waitMs),
    };
  }
}

/** The response fields of a refusal: Retry-After and the IETF RateLimit-* fields. */
export function rateLimitHeaders(d: RateLimitDecision): Record<string, string> {
  const reset = String(d.retryAfterSeconds);
  return {
    'retry-after': reset,
    'ratelimit-limit': String(d.limit),
    'ratelimit-remaining': String(d.remaining),
    'ratelimit-reset': reset,
  };
}
