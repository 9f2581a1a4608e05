// The per-instance rate limit: every bucket of every worker lives here, in the primary, and workers
// lease tokens from it in batches (dataplane middleware/rate-limit/lease-table.ts). The configured
// rate therefore holds for the whole instance whatever the worker count, and a worker's hot path
// touches the IPC channel only once per lease, not once per request.
//
// What a worker reports (`left`, `give`) replaces what the ledger believed it held: tokens the worker
// used in between are gone, tokens it gives back return to the bucket. A worker that dies takes its
// lease with it (those tokens count as used: never more than the rule allows).
import type { GatewayConfig } from '@gatehouse/config';
import {
  type BucketRule,
  type BucketState,
  bucketRule,
  isIdle,
  type LeaseAnswer,
  type LeaseAsk,
  leaseSize,
  msUntilToken,
  newBucket,
  rateLimitBucketId,
  refill,
  strike,
} from '@gatehouse/dataplane';

/** A lease never holds more than this much of the bucket's refill. */
export const LEASE_WINDOW_MS = 100;

interface KeyEntry {
  readonly bucket: BucketState;
  /** Tokens leased, per worker id. */
  readonly leased: Map<number, number>;
  /** Workers told "empty" that must hear when tokens come back before the refill. */
  told: Set<number> | null;
}

interface RuleEntry {
  rule: BucketRule;
  readonly keys: Map<string, KeyEntry>;
}

export type SendAnswers = (workerId: number, items: LeaseAnswer[]) => void;

export class RateLimitLedger {
  private readonly rules = new Map<string, RuleEntry>();
  private readonly send: SendAnswers;
  private readonly now: () => number;
  /** Live workers, for the lease size; set by the primary. */
  workers = 1;

  constructor(send: SendAnswers, now: () => number = Date.now) {
    this.send = send;
    this.now = now;
  }

  /**
   * The buckets of a new generation. A bucket whose rule is unchanged keeps its state (a reload
   * does not hand every client a fresh burst); a changed rule starts afresh; ids that are gone are
   * kept until `retain` is called with the committed set, since workers may still ask for them.
   */
  define(rules: ReadonlyMap<string, BucketRule>): void {
    for (const [id, rule] of rules) {
      const entry = this.rules.get(id);
      if (entry === undefined) this.rules.set(id, { rule, keys: new Map() });
      else if (!sameRule(entry.rule, rule)) {
        entry.rule = rule;
        entry.keys.clear();
      }
    }
  }

  /** Drops every bucket not in `ids` (after a commit). */
  retain(ids: ReadonlySet<string>): void {
    for (const id of this.rules.keys()) if (!ids.has(id)) this.rules.delete(id);
  }

  bucketCount(): number {
    return this.rules.size;
  }

  keyCount(): number {
    let n = 0;
    for (const entry of this.rules.values()) n += entry.keys.size;
    return n;
  }

  /** One gh:rl-ask from a worker; answers go back to it in one message. */
  ask(workerId: number, items: readonly LeaseAsk[]): void {
    const now = this.now();
    const answers: LeaseAnswer[] = [];
    for (const item of items) {
      const answer = this.askOne(workerId, item, now);
      if (answer !== null) answers.push(answer);
    }
    if (answers.length > 0) this.send(workerId, answers);
  }

  private askOne(workerId: number, item: LeaseAsk, now: number): LeaseAnswer | null {
    const wants = item.waiting > 0 || item.prefetch;
    const ruleEntry = this.rules.get(item.bucket);
    if (ruleEntry === undefined) {
      // A bucket this instance does not know (a worker on a generation being replaced): refuse,
      // briefly, rather than allow without a count.
      return wants ? answer(item, 0, item.waiting, 0, now + 1000, 0) : null;
    }
    const rule = ruleEntry.rule;
    let entry = ruleEntry.keys.get(item.key);
    if (entry === undefined) {
      if (!wants) return null;
      entry = { bucket: newBucket(rule, now), leased: new Map(), told: null };
      ruleEntry.keys.set(item.key, entry);
    }
    const b = entry.bucket;
    refill(b, rule, now);
    const before = entry.leased.get(workerId) ?? 0;
    const give = Math.max(0, Math.min(item.give, before));
    const left = Math.max(0, Math.min(item.left, before - give));
    b.outstanding -= before - left;
    b.available += give;
    if (left === 0) entry.leased.delete(workerId);
    else entry.leased.set(workerId, left);
    if (give > 0 && b.available >= 1) this.wake(item.bucket, item.key, entry, workerId);
    if (!wants) return null;
    if (b.bannedUntil > now) return answer(item, 0, 0, 0, 0, b.bannedUntil);
    const size = leaseSize(b.available, rule, this.workers, item.waiting, LEASE_WINDOW_MS);
    if (size > 0) {
      b.available -= size;
      b.outstanding += size;
      entry.leased.set(workerId, left + size);
      entry.told?.delete(workerId);
    }
    const denied = Math.max(0, item.waiting - size);
    const bannedUntil = strike(b, rule, denied, now);
    if (bannedUntil > 0) {
      this.banEverywhere(item.bucket, item.key, entry, workerId, bannedUntil);
      return answer(item, size, denied, 0, 0, bannedUntil);
    }
    if (size > 0) return answer(item, size, denied, Math.floor(b.available), 0, 0);
    if (entry.leased.size > 0) {
      if (entry.told === null) entry.told = new Set();
      entry.told.add(workerId);
    }
    return answer(item, 0, denied, 0, now + msUntilToken(b, rule), 0);
  }

  /** Tokens came back: workers told "empty" may ask again before the refill. */
  private wake(bucket: string, key: string, entry: KeyEntry, except: number): void {
    const told = entry.told;
    if (told === null) return;
    entry.told = null;
    for (const id of told) {
      if (id !== except)
        this.send(id, [{ bucket, key, tokens: 0, denied: 0, remaining: 0, retryAt: 0, bannedUntil: 0 }]);
    }
  }

  /** A ban takes every lease back: the other workers learn it at once, not at their next ask. */
  private banEverywhere(bucket: string, key: string, entry: KeyEntry, except: number, bannedUntil: number): void {
    for (const id of entry.leased.keys()) {
      if (id !== except) this.send(id, [{ bucket, key, tokens: 0, denied: 0, remaining: 0, retryAt: 0, bannedUntil }]);
    }
    entry.bucket.outstanding = 0;
    entry.leased.clear();
    entry.told = null;
  }

  /** A worker exited: its leases count as used. */
  workerGone(workerId: number): void {
    for (const ruleEntry of this.rules.values()) {
      for (const entry of ruleEntry.keys.values()) {
        const held = entry.leased.get(workerId);
        if (held === undefined) continue;
        entry.leased.delete(workerId);
        entry.bucket.outstanding -= held;
        entry.told?.delete(workerId);
      }
    }
  }

  /** Forgets keys whose bucket is full again and neither banned nor striking: memory stays bounded. */
  sweep(): number {
    const now = this.now();
    let removed = 0;
    for (const ruleEntry of this.rules.values()) {
      for (const [key, entry] of ruleEntry.keys) {
        refill(entry.bucket, ruleEntry.rule, now);
        if (isIdle(entry.bucket, ruleEntry.rule, now)) {
          ruleEntry.keys.delete(key);
          removed++;
        }
      }
    }
    return removed;
  }
}

function answer(
  item: LeaseAsk,
  tokens: number,
  denied: number,
  remaining: number,
  retryAt: number,
  bannedUntil: number,
): LeaseAnswer {
  return { bucket: item.bucket, key: item.key, tokens, denied, remaining, retryAt, bannedUntil };
}

function sameRule(a: BucketRule, b: BucketRule): boolean {
  return (
    a.capacity === b.capacity &&
    a.ratePerMs === b.ratePerMs &&
    a.banAfter === b.banAfter &&
    a.banDurationMs === b.banDurationMs
  );
}

/** The buckets a config asks for: one per route and rateLimit middleware it names. */
export function rateLimitBuckets(config: GatewayConfig): Map<string, BucketRule> {
  const byName = new Map(config.middlewares.map((m) => [m.name, m]));
  const buckets = new Map<string, BucketRule>();
  for (const route of config.routes) {
    if (!route.enabled) continue;
    for (const name of route.middlewares) {
      const m = byName.get(name);
      if (m?.type !== 'rateLimit') continue;
      const r = m.rule;
      buckets.set(
        rateLimitBucketId(route.name, m.name),
        bucketRule(r.unit, r.requestsPerUnit, r.burst, r.banAfter, r.banDurationMs),
      );
    }
  }
  return buckets;
}
