// Successful password verifications, remembered for a bounded time and number, as Caddy does for
// basic auth: a client sends its credentials on every request, and bcrypt is slow on purpose. The
// key is an HMAC (with a key made at start and never stored) of the user, password and hash, so the
// cache holds nothing that helps guess a password. Failures are never cached: a burst of wrong
// passwords cannot evict the good entries with its own.
import { createHmac, randomBytes } from 'node:crypto';

export class VerificationCache {
  private readonly key = randomBytes(32);
  private readonly entries = new Map<string, number>();
  readonly maxEntries: number;
  readonly ttlMs: number;

  constructor(maxEntries = 1000, ttlMs = 5 * 60_000) {
    this.maxEntries = maxEntries;
    this.ttlMs = ttlMs;
  }

  keyOf(user: string, password: string, hash: string): string {
    return createHmac('sha256', this.key)
      .update(user)
      .update('\0')
      .update(password)
      .update('\0')
      .update(hash)
      .digest('base64');
  }

  has(key: string, now: number): boolean {
    const expires = this.entries.get(key);
    if (expires === undefined) return false;
    if (expires > now) return true;
    this.entries.delete(key);
    return false;
  }

  remember(key: string, now: number): void {
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) {
      // Oldest first: a Map iterates in insertion order.
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, now + this.ttlMs);
  }

  get size(): number {
    return this.entries.size;
  }
}
