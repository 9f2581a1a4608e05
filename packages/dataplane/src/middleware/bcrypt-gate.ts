// At most a few bcrypt checks run at once per worker; the rest wait in a bounded queue, and past it
// the request is refused at once (503, Retry-After). A burst of wrong passwords is work an attacker
// chooses the size of: bounded, it takes one thread's worth of CPU per worker instead of every core,
// and that thread runs at the lowest priority (bcrypt-verifier.ts), so the rest of the traffic keeps
// its latency. Successful checks are cached (verification-cache.ts), so a legitimate client meets
// the gate once, not per request. A waiting check is data (password, hash, resolve), not a closure.
import { bcryptVerifier } from './bcrypt-verifier.ts';

/** Checks a password against a bcrypt hash; never rejects. */
export type BcryptCheckFn = (password: string, hash: string) => Promise<boolean>;

interface Waiting {
  readonly password: string;
  readonly hash: string;
  readonly resolve: (verdict: Promise<boolean>) => void;
}

function refuse(): boolean {
  return false;
}

export class BcryptGate {
  readonly maxActive: number;
  readonly maxQueued: number;
  private readonly check: BcryptCheckFn;
  private active = 0;
  private readonly queue: Waiting[] = [];

  constructor(check: BcryptCheckFn, maxActive = 1, maxQueued = 64) {
    this.check = check;
    this.maxActive = maxActive;
    this.maxQueued = maxQueued;
  }

  /** Checks when a slot is free; null when the queue is full (refuse the request). */
  run(password: string, hash: string): Promise<boolean> | null {
    if (this.active < this.maxActive) return this.start(password, hash);
    if (this.queue.length >= this.maxQueued) return null;
    const { promise, resolve } = Promise.withResolvers<boolean>();
    this.queue.push({ password, hash, resolve });
    return promise;
  }

  private start(password: string, hash: string): Promise<boolean> {
    this.active++;
    const verdict = this.check(password, hash).catch(refuse);
    verdict.then(this.finished);
    return verdict;
  }

  private readonly finished = (): void => {
    this.active--;
    const next = this.queue.shift();
    if (next !== undefined) next.resolve(this.start(next.password, next.hash));
  };

  get waiting(): number {
    return this.queue.length;
  }
}

/** The worker's one gate, shared by every basicAuth step of every generation. */
export const bcryptGate = new BcryptGate(bcryptVerifier.verify);
