// What the Redis rate-limit script answers, apart from the store that asks it: the rate limiter
// reads verdicts in every worker, while the store (and ioredis with it) is loaded only by a worker
// whose config has `gateway.redis`.

/** Verdicts of the script: 0 allowed, 1 refused (429), 2 banned (403). */
export const REDIS_ALLOW = 0;
export const REDIS_DENY = 1;
export const REDIS_BANNED = 2;

/** Answer of one check; the same object shape every time. */
export interface RedisVerdict {
  verdict: number;
  remaining: number;
  /** Until the next token (refused) or the ban's end (banned), ms. */
  waitMs: number;
}
