// A worker's side of the per-instance rate limit: for each key it holds a lease of tokens taken from
// the primary's ledger. A request with a token left is decided here, without IPC. A request that
// finds none parks on the key; one gh:rl-ask per event-loop turn carries every such key, and the
// answer resumes the parked requests. A lease is refilled ahead of time (prefetch) when it was a
// batch, and handed back when the key goes idle, so tokens do not strand in a worker whose clients
// moved to another.
import type { LeaseAnswer, LeaseAsk, LeaseAskMessage } from './lease-messages.ts';

export const ALLOW = 0;
export const DENY = 1;
export const BANNED = 2;
export const WAIT = 3;
export type Verdict = typeof ALLOW | typeof DENY | typeof BANNED | typeof WAIT;

/** Unused tokens go back to the ledger after this long without a request on the key. */
export const IDLE_RETURN_MS = 250;
/** A key with nothing leased, no ban and no refusal in force is forgotten after this long. */
export const FORGET_MS = 10_000;
/** Parked requests are refused if the primary has not answered within this (it never should). */
export const ANSWER_TIMEOUT_MS = 2_000;

/** A parked request; called once with ALLOW, DENY or BANNED. */
export interface LeaseWaiter {
  leaseDecided(verdict: Verdict, entry: LeaseEntry): void;
}

export class LeaseEntry {
  readonly bucket: LeaseBucket;
  readonly key: string;
  /** The verdict of the latest `take` (read right after it). */
  verdict: Verdict = ALLOW;
  tokens = 0;
  /** Whole tokens the ledger had left at the last answer (RateLimit-Remaining). */
  remaining = 0;
  /** Refused without asking until then (epoch ms); never set for rules that ban. */
  deniedUntil = 0;
  bannedUntil = 0;
  /** Next token at the ledger, from the last refusal (Retry-After). */
  retryAt = 0;
  lastGrant = 0;
  lastUse = 0;
  give = 0;
  asking = false;
  askedAt = 0;
  queued = false;
  prefetch = false;
  readonly waiters: LeaseWaiter[] = [];

  constructor(bucket: LeaseBucket, key: string) {
    this.bucket = bucket;
    this.key = key;
  }
}

export class LeaseBucket {
  readonly id: string;
  /** Refusals must reach the ledger (they are strikes), so none is decided from a cached refusal. */
  banMode: boolean;
  readonly keys = new Map<string, LeaseEntry>();

  constructor(id: string, banMode: boolean) {
    this.id = id;
    this.banMode = banMode;
  }
}

export class LeaseTable {
  private readonly buckets = new Map<string, LeaseBucket>();
  private readonly send: (message: LeaseAskMessage) => void;
  private readonly now: () => number;
  private queue: LeaseEntry[] = [];
  private flushScheduled = false;
  private sweeper: NodeJS.Timeout | null = null;
  private readonly flushBound: () => void;

  constructor(send: (message: LeaseAskMessage) => void, now: () => number = Date.now) {
    this.send = send;
    this.now = now;
    this.flushBound = () => this.flush();
  }

  /** The bucket of this id, the same object across generations so that leases survive a reload. */
  bucket(id: string, banMode: boolean): LeaseBucket {
    let bucket = this.buckets.get(id);
    if (bucket === undefined) {
      bucket = new LeaseBucket(id, banMode);
      this.buckets.set(id, bucket);
    } else bucket.banMode = banMode;
    if (this.sweeper === null) {
      this.sweeper = setInterval(() => this.sweep(), IDLE_RETURN_MS);
      this.sweeper.unref();
    }
    return bucket;
  }

  /** After a commit: buckets of earlier generations hand their tokens back and go. */
  retain(ids: ReadonlySet<string>): void {
    for (const [id, bucket] of this.buckets) {
      if (ids.has(id)) continue;
      this.buckets.delete(id);
      for (const entry of bucket.keys.values()) {
        if (entry.tokens > 0) {
          entry.give += entry.tokens;
          entry.tokens = 0;
          this.enqueue(entry);
        }
        this.settle(entry, DENY);
      }
    }
  }

  /**
   * Decides one request on `key`. Returns the key's entry with `verdict` set. WAIT: no token here
   * and no cached refusal; the caller must `park` a waiter on the entry at once.
   */
  take(bucket: LeaseBucket, key: string, now: number): LeaseEntry {
    let entry = bucket.keys.get(key);
    if (entry === undefined) {
      entry = new LeaseEntry(bucket, key);
      bucket.keys.set(key, entry);
    }
    entry.lastUse = now;
    if (entry.bannedUntil > now) {
      entry.verdict = BANNED;
      return entry;
    }
    if (entry.tokens > 0 && entry.waiters.length === 0) {
      entry.tokens--;
      entry.verdict = ALLOW;
      if (entry.lastGrant > 1 && !entry.asking && entry.tokens <= entry.lastGrant >> 1) {
        entry.prefetch = true;
        this.enqueue(entry);
      }
      return entry;
    }
    entry.verdict = entry.deniedUntil > now ? DENY : WAIT;
    return entry;
  }

  /** Parks a request on an entry whose `take` said WAIT; the waiter is called once. */
  park(entry: LeaseEntry, waiter: LeaseWaiter): void {
    entry.waiters.push(waiter);
    if (!entry.asking) this.enqueue(entry);
  }

  private enqueue(entry: LeaseEntry): void {
    if (entry.queued) return;
    entry.queued = true;
    this.queue.push(entry);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushBound);
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    const queue = this.queue;
    if (queue.length === 0) return;
    this.queue = [];
    const now = this.now();
    const items: LeaseAsk[] = [];
    for (const entry of queue) {
      entry.queued = false;
      const waiting = entry.asking ? 0 : entry.waiters.length;
      const prefetch = entry.prefetch && !entry.asking && waiting === 0;
      entry.prefetch = false;
      if (waiting === 0 && !prefetch && entry.give === 0) continue;
      if (waiting > 0 || prefetch) {
        entry.asking = true;
        entry.askedAt = now;
      }
      items.push({
        bucket: entry.bucket.id,
        key: entry.key,
        left: entry.tokens,
        give: entry.give,
        waiting,
        prefetch,
      });
      entry.give = 0;
    }
    if (items.length > 0) this.send({ type: 'gh:rl-ask', items });
  }

  /** One gh:rl-answer from the primary. */
  answer(items: readonly LeaseAnswer[]): void {
    const now = this.now();
    for (const item of items) {
      const entry = this.buckets.get(item.bucket)?.keys.get(item.key);
      if (entry !== undefined) this.apply(entry, item, now);
    }
  }

  private apply(entry: LeaseEntry, a: LeaseAnswer, now: number): void {
    const wake = a.tokens === 0 && a.retryAt === 0 && a.bannedUntil === 0 && a.denied === 0;
    if (wake) {
      // Tokens came back to the ledger: stop refusing from the cached answer.
      entry.deniedUntil = 0;
      if (!entry.asking && entry.waiters.length > 0) this.enqueue(entry);
      return;
    }
    entry.asking = false;
    entry.remaining = a.remaining;
    entry.tokens += a.tokens;
    if (a.tokens > 0) {
      entry.lastGrant = a.tokens;
      entry.deniedUntil = 0;
    } else if (a.retryAt > 0) {
      entry.retryAt = a.retryAt;
      if (!entry.bucket.banMode) entry.deniedUntil = a.retryAt;
    }
    const banned = a.bannedUntil > now;
    if (banned) entry.bannedUntil = a.bannedUntil;
    // Parked requests in arrival order: tokens first, then the ones the ledger refused (and counted
    // as strikes); then, under a ban or a cached refusal, the rest; later arrivals ask again.
    const waiters = entry.waiters;
    let served = 0;
    while (served < waiters.length && entry.tokens > 0) {
      entry.tokens--;
      served++;
    }
    if (banned) {
      entry.tokens = 0;
      entry.lastGrant = 0;
    }
    const refused = Math.min(waiters.length, served + a.denied);
    const decided = banned || entry.deniedUntil > now ? waiters.length : refused;
    const parked = waiters.splice(0, decided);
    if (waiters.length > 0) this.enqueue(entry);
    for (let i = 0; i < parked.length; i++) {
      const verdict = i < served ? ALLOW : i < refused ? DENY : banned ? BANNED : DENY;
      (parked[i] as LeaseWaiter).leaseDecided(verdict, entry);
    }
  }

  /** Resolves every parked request of `entry` with `verdict`. */
  private settle(entry: LeaseEntry, verdict: Verdict): void {
    if (entry.waiters.length === 0) return;
    const parked = entry.waiters.splice(0);
    for (const waiter of parked) waiter.leaseDecided(verdict, entry);
  }

  /** Hands idle leases back, forgets quiet keys, refuses requests whose answer never came. */
  sweep(): void {
    const now = this.now();
    for (const bucket of this.buckets.values()) {
      for (const [key, entry] of bucket.keys) {
        if (entry.asking) {
          if (now - entry.askedAt < ANSWER_TIMEOUT_MS) continue;
          entry.asking = false;
          entry.retryAt = now + 1000;
          this.settle(entry, DENY);
          continue;
        }
        const idle = now - entry.lastUse;
        if (entry.tokens > 0 && idle >= IDLE_RETURN_MS) {
          entry.give += entry.tokens;
          entry.tokens = 0;
          entry.lastGrant = 0;
          this.enqueue(entry);
        } else if (
          entry.tokens === 0 &&
          entry.give === 0 &&
          !entry.queued &&
          entry.waiters.length === 0 &&
          idle >= FORGET_MS &&
          entry.bannedUntil <= now &&
          entry.deniedUntil <= now
        ) {
          bucket.keys.delete(key);
        }
      }
    }
  }

  stop(): void {
    if (this.sweeper !== null) clearInterval(this.sweeper);
    this.sweeper = null;
  }

  keyCount(): number {
    let n = 0;
    for (const bucket of this.buckets.values()) n += bucket.keys.size;
    return n;
  }
}
