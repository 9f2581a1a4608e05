// A remote JSON Web Key Set, fetched in the background: once when the step is built, then every
// `refreshMs`, and again when a token names a `kid` the set does not have, at most once per
// `cooldownMs` (a flood of made-up kids costs one fetch per cooldown, not one per request). A
// failed fetch keeps the keys already held. Goma fetches the set on every request.
import { createLocalJWKSet, errors, type JSONWebKeySet, type JWSHeaderParameters, type FlattenedJWSInput } from 'jose';
import { middlewareEvent } from './events.ts';

type LocalSet = ReturnType<typeof createLocalJWKSet>;
type Key = Awaited<ReturnType<LocalSet>>;

export interface JwksOptions {
  refreshMs: number;
  cooldownMs: number;
  timeoutMs: number;
}

export const DEFAULT_JWKS_OPTIONS: JwksOptions = { refreshMs: 5 * 60_000, cooldownMs: 30_000, timeoutMs: 5_000 };

export class RemoteKeySet {
  readonly url: string;
  private readonly options: JwksOptions;
  private keys: LocalSet | null = null;
  private lastFetchAt = Number.NEGATIVE_INFINITY;
  private inflight: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** For the tests and /status: how many fetches completed. */
  fetches = 0;
  readonly getKey: (header: JWSHeaderParameters, token: FlattenedJWSInput) => Promise<Key>;

  constructor(url: string, options: JwksOptions = DEFAULT_JWKS_OPTIONS) {
    this.url = url;
    this.options = options;
    this.getKey = (header, token) => this.key(header, token);
  }

  /** Starts the background fetches. */
  start(): void {
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.options.refreshMs);
    this.timer.unref();
  }

  close(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** Fetches now, unless a fetch is already running (then waits for that one). */
  refresh(): Promise<void> {
    if (this.inflight !== null) return this.inflight;
    this.lastFetchAt = Date.now();
    this.inflight = this.fetchKeys().finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  private async fetchKeys(): Promise<void> {
    try {
      const response = await fetch(this.url, {
        signal: AbortSignal.timeout(this.options.timeoutMs),
        headers: { accept: 'application/json' },
        redirect: 'error',
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const body = (await response.json()) as JSONWebKeySet;
      if (body === null || typeof body !== 'object' || !Array.isArray(body.keys)) throw new Error('no `keys` array');
      this.keys = createLocalJWKSet(body);
      this.fetches++;
    } catch (error) {
      middlewareEvent(
        'warn',
        { event: 'jwks_fetch_failed', url: this.url, err: (error as Error).message, keptKeys: this.keys !== null },
        'JWKS fetch failed',
      );
    }
  }

  private async key(header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<Key> {
    if (this.keys === null) await this.refreshIfCool();
    const keys = this.keys;
    if (keys === null) throw new errors.JWKSNoMatchingKey();
    try {
      return await keys(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
      // A rotated key: fetch once more, if the last fetch is old enough.
      if (!(await this.refreshIfCool()) || this.keys === null) throw error;
      return await this.keys(header, token);
    }
  }

  /** Refreshes unless one ran within the cooldown; true when a fetch ran (or was joined). */
  private async refreshIfCool(): Promise<boolean> {
    if (this.inflight !== null) {
      await this.inflight;
      return true;
    }
    if (Date.now() - this.lastFetchAt < this.options.cooldownMs) return false;
    await this.refresh();
    return true;
  }
}
