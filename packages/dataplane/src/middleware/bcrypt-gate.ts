// At most a few bcrypt checks run at once per worker; the rest wait in a bounded queue, and past it
// the request is refused at once (503, Retry-After). A burst of wrong passwords is work an attacker
// chooses the size of: bounded, it takes one thread's worth of CPU per worker instead of every core,
// and the rest of the traffic keeps its latency. Successful checks are cached (verification-cache.ts),
// so a legitimate client meets the gate once, not per request.
export class BcryptGate {
  readonly maxActive: number;
  readonly maxQueued: number;
  private active = 0;
  private readonly queue: Array<() => void> = [];

  constructor(maxActive = 1, maxQueued = 64) {
    this.maxActive = maxActive;
    this.maxQueued = maxQueued;
  }

  /** Runs `check` when a slot is free; null when the queue is full (refuse the request). */
  run(check: () => Promise<boolean>): Promise<boolean> | null {
    if (this.active < this.maxActive) return this.start(check);
    if (this.queue.length >= this.maxQueued) return null;
    return new Promise<boolean>((resolve) => {
      this.queue.push(() => {
        this.start(check).then(resolve, () => resolve(false));
      });
    });
  }

  private start(check: () => Promise<boolean>): Promise<boolean> {
    this.active++;
    return check().finally(() => {
      this.active--;
      this.queue.shift()?.();
    });
  }

  get waiting(): number {
    return this.queue.length;
  }
}

/** The worker's one gate, shared by every basicAuth step of every generation. */
export const bcryptGate = new BcryptGate();
