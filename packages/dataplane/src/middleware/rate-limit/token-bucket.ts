// The arithmetic of one rate-limit bucket, shared by the primary's per-instance ledger and the unit
// tests; the Redis store runs the same rules in Lua (redis-script.ts). Pure: time is an argument.
//
// Goma's semantics: a bucket holds `requestsPerUnit + burst` tokens, starts full, and refills at
// `requestsPerUnit` per unit. A request takes one token. With `banAfter`, each refused request is a
// strike; the `banAfter`-th strike within `banDuration` of the previous one bans the key for
// `banDuration` (that request still gets 429, the next ones 403).
//
// Tokens may sit in a worker's lease: they are still in the bucket, only elsewhere, so the refill
// stops at `capacity - outstanding` and a lease can never add to what the bucket would allow.

export interface BucketRule {
  /** requestsPerUnit + burst. */
  readonly capacity: number;
  /** requestsPerUnit / unit, in tokens per millisecond. */
  readonly ratePerMs: number;
  /** 0: no bans. */
  readonly banAfter: number;
  readonly banDurationMs: number;
}

export interface BucketState {
  /** Tokens in the ledger itself (fractional while refilling). */
  available: number;
  /** Tokens leased to workers and not reported back as used. */
  outstanding: number;
  updatedAt: number;
  strikes: number;
  strikesExpireAt: number;
  bannedUntil: number;
}

export function newBucket(rule: BucketRule, now: number): BucketState {
  return { available: rule.capacity, outstanding: 0, updatedAt: now, strikes: 0, strikesExpireAt: 0, bannedUntil: 0 };
}

/** Adds the tokens earned since `updatedAt`, up to what the leases leave room for. */
export function refill(b: BucketState, rule: BucketRule, now: number): void {
  if (now > b.updatedAt) {
    const room = rule.capacity - b.outstanding;
    const next = b.available + (now - b.updatedAt) * rule.ratePerMs;
    b.available = next > room ? Math.max(room, b.available) : next;
    b.updatedAt = now;
  }
}

/** Milliseconds until the bucket holds one whole token again (0 when it does). */
export function msUntilToken(b: BucketState, rule: BucketRule): number {
  if (b.available >= 1) return 0;
  if (rule.ratePerMs <= 0) return Number.POSITIVE_INFINITY;
  return Math.ceil((1 - b.available) / rule.ratePerMs);
}

/** True when the bucket is full, not banned and has no strikes: it can be forgotten. */
export function isIdle(b: BucketState, rule: BucketRule, now: number): boolean {
  return (
    b.outstanding === 0 &&
    b.available >= rule.capacity &&
    b.bannedUntil <= now &&
    (b.strikes === 0 || b.strikesExpireAt <= now)
  );
}

/**
 * Counts `count` refused requests. Returns the ban's end when this strike starts a ban, else 0.
 * Strikes older than `banDuration` (after the last one) are forgotten, as in Goma's Redis store.
 */
export function strike(b: BucketState, rule: BucketRule, count: number, now: number): number {
  if (rule.banAfter <= 0 || count <= 0) return 0;
  if (b.strikesExpireAt <= now) b.strikes = 0;
  b.strikes += count;
  b.strikesExpireAt = now + rule.banDurationMs;
  if (b.strikes < rule.banAfter) return 0;
  b.strikes = 0;
  b.bannedUntil = now + rule.banDurationMs;
  return b.bannedUntil;
}

/**
 * How many tokens one lease may take. Large batches keep the hot path off the IPC channel when the
 * bucket is far from empty; near empty they shrink to one, so that tokens do not strand in a worker
 * whose clients went elsewhere. Never more than `windowMs` worth of refill, nor a share above
 * 1/(2 × workers) of what is left, and at least what the waiting requests need.
 */
export function leaseSize(
  available: number,
  rule: BucketRule,
  workers: number,
  waiting: number,
  windowMs: number,
): number {
  const whole = Math.floor(available);
  if (whole < 1) return 0;
  const share = Math.floor(whole / (2 * Math.max(1, workers)));
  const window = Math.max(1, Math.floor(rule.ratePerMs * windowMs));
  const size = Math.max(Math.min(share, window), waiting, 1);
  return Math.min(size, whole);
}

export const UNIT_MS = { second: 1000, minute: 60_000, hour: 3_600_000 } as const;
export type RateUnit = keyof typeof UNIT_MS;

export function bucketRule(
  unit: RateUnit,
  requestsPerUnit: number,
  burst: number,
  banAfter: number,
  banDurationMs: number,
): BucketRule {
  return {
    capacity: requestsPerUnit + burst,
    ratePerMs: requestsPerUnit / UNIT_MS[unit],
    banAfter,
    banDurationMs,
  };
}
