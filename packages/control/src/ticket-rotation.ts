// When the primary rotates the session-ticket keys: every `gateway.tls.sessionTicketRotation`, in
// the same queue as rollouts, so that a generation being prepared never commits an outdated key.
// The keys themselves (current and previous) are ticket-keys.ts.
import { generateTicketKeys } from '@gatehouse/pki';
import type { Logger } from 'pino';
import type { SerialQueue } from './rollout.ts';
import { rotateTicketKeys, type TicketKeyRing, wireTicketKeys } from './ticket-keys.ts';

export interface TicketRotationOptions {
  ring: TicketKeyRing;
  queue: SerialQueue;
  logger: Logger;
  /** False once the primary drains: a rotation then changes nothing. */
  isRunning(): boolean;
  /** The new keys (wire form): into the current generation, then to every worker. */
  rotated(wire: string): void;
}

export class TicketRotation {
  private readonly options: TicketRotationOptions;
  private ring: TicketKeyRing;
  private timer: NodeJS.Timeout | null = null;
  private everyMs = 0;

  constructor(options: TicketRotationOptions) {
    this.options = options;
    this.ring = options.ring;
  }

  /** The keys a new generation carries: current first, then previous when there is one. */
  get wire(): string {
    return wireTicketKeys(this.ring);
  }

  /** (Re)starts the rotation clock; 0 or less turns rotation off. An unchanged interval keeps it. */
  schedule(everyMs: number): void {
    if (this.timer !== null && everyMs === this.everyMs) return;
    this.stop();
    this.everyMs = everyMs;
    if (!(everyMs > 0)) return;
    this.timer = setInterval(() => this.rotate(), everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private rotate(): void {
    void this.options.queue.run(async () => {
      if (!this.options.isRunning()) return;
      this.ring = rotateTicketKeys(this.ring, generateTicketKeys(), Date.now());
      this.options.rotated(this.wire);
    });
  }
}
