// When to renew an ACME certificate and how long to wait after a failed order. Pure.

export const DAY_MS = 86_400_000;
/** Renew this long before expiry (Let's Encrypt's advice for its 90-day certificates). */
export const RENEW_BEFORE_MS = 30 * DAY_MS;
/** First wait after a failed order; doubled on each further failure. */
export const RETRY_BASE_MS = 5_000;
/** Longest wait between two attempts. */
export const RETRY_MAX_MS = 6 * 3_600_000;

/**
 * The moment to renew: 30 days before expiry, or when a third of the lifetime is left for a
 * certificate that lives less than 90 days (6-day or 1-hour certificates), whichever comes first
 * within the lifetime. For a 90-day certificate both are the same day.
 */
export function renewalTime(notBefore: number, notAfter: number): number {
  const lifetime = Math.max(0, notAfter - notBefore);
  return notAfter - Math.min(RENEW_BEFORE_MS, lifetime / 3);
}

/**
 * Exponential backoff after `failures` consecutive failures (1 = the first), never sooner than
 * the server's Retry-After when it sent one (rate limits, maintenance).
 */
export function retryDelayMs(failures: number, retryAfterMs: number | null): number {
  const exponent = Math.min(Math.max(failures - 1, 0), 30);
  const backoff = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** exponent);
  return Math.max(backoff, retryAfterMs ?? 0);
}

/** A Retry-After header value (seconds or an HTTP date) in ms from `now`; null when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: number): number | null {
  if (value === undefined || value.trim() === '') return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isFinite(at) ? Math.max(0, at - now) : null;
}
