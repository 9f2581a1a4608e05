// The IPC between a worker's leases (lease-table.ts) and the primary's ledger
// (control/src/rate-limit-ledger.ts). Batched: at most one message per event-loop turn each way.

/** One key of one bucket, as the worker reports and asks. */
export interface LeaseAsk {
  /** `route` + NUL + `middleware` (rateLimitBucketId). */
  bucket: string;
  key: string;
  /** Unused tokens the worker still holds after `give`. */
  left: number;
  /** Unused tokens handed back (the key went idle in this worker). */
  give: number;
  /** Requests parked on this key, waiting for the answer. */
  waiting: number;
  /** Ask for the next lease before this one runs out (no request waits for it). */
  prefetch: boolean;
}

export interface LeaseAnswer {
  bucket: string;
  key: string;
  /** Tokens leased to the worker (0: none). */
  tokens: number;
  /** Parked requests refused, after the leased tokens served the first ones (429, counted as strikes). */
  denied: number;
  /** Whole tokens left in the ledger after this lease. */
  remaining: number;
  /** With tokens 0: epoch ms of the next token. All of tokens, denied, retryAt and bannedUntil 0: tokens came back, ask again. */
  retryAt: number;
  /** Epoch ms the key's ban ends (0: not banned). */
  bannedUntil: number;
}

export interface LeaseAskMessage {
  type: 'gh:rl-ask';
  items: LeaseAsk[];
}

export interface LeaseAnswerMessage {
  type: 'gh:rl-answer';
  items: LeaseAnswer[];
}

/** The Redis store of a worker changed state (reported once per change, for the log, /status, metrics). */
export interface RateLimitStoreMessage {
  type: 'gh:rl-store';
  addr: string;
  ok: boolean;
  error: string | null;
}

export function rateLimitBucketId(route: string, middleware: string): string {
  return `${route}\u0000${middleware}`;
}
