// When the primary rotates the session-ticket keys: every `gateway.tls.sessionTicketRotation`, in
// the same queue as rollouts, so that a generation being prepared never commits an outdated key;
// and when it forgets the previous key: once no ticket that key sealed can still be valid (its end
// is ticket-keys.ts previousKeyMattersUntil), so that workers seal and open tickets without the
// ticket-key hook again. The keys themselves (current and previous) are ticket-keys.ts.
import { generateTicketKeys } from '@gatehouse/pki';
import type { SerialQueue } from './rollout.ts';
import {
  forgetExpiredPreviousKey,
  rotateTicketKeys,
  type TicketKeyRing,
  wireTicketKeys,
  withSessionTimeout,
} from './ticket-keys.ts';

/** setTimeout's longest delay; a longer wait is re-armed when it ends. */
const LONGEST_TIMER_MS = 2 ** 31 - 1;

export interface TicketRotationOptions {
  ring: TicketKeyRing;
  queue: SerialQueue;
  /** `gateway.tls.sessionTimeout` of the generation served at start. */
  sessionTimeoutMs: number;
  /** False once the primary drains: a rotation then changes nothing. */
  isRunning(): boolean;
  /** The new keys (wire form): into the current generation, then to every worker. */
  rotated(wire: string): void;
  /** The previous key was forgotten (the new wire form, current key alone): as `rotated`. */
  retired(wire: string): void;
}

export class TicketRotation {
  private readonly options: TicketRotationOptions;
  private ring: TicketKeyRing;
  private timer: NodeJS.Timeout | null = null;
  private retireTimer: NodeJS.Timeout | null = null;
  private everyMs = 0;
  /** The session timeout in effect now. */
  private sessionTimeoutMs: number;

  constructor(options: TicketRotationOptions) {
    this.options = options;
    this.ring = withSessionTimeout(options.ring, options.sessionTimeoutMs);
    this.sessionTimeoutMs = options.sessionTimeoutMs; // A ring handed over with a previous key forgets it in time too.
    this.armRetirement();
  }

  /** The keys a new generation carries: current first, then previous when there is one. */
  get wire(): string {
    return wireTicketKeys(this.ring);
  }

  /** (Re)starts the rotation clock; 0 or less turns rotation off. An unchanged interval keeps it. */
  schedule(everyMs: number): void {
    if (this.timer !== null && everyMs === this.everyMs) return;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.everyMs = everyMs;
    if (!(everyMs > 0)) return;
    this.timer = setInterval(() => this.rotate(), everyMs);
    this.timer.unref();
  }

  /**
   * A generation with this session timeout is served: tickets the current key seals from now on
   * may live that long, so the previous key will be kept that long after the next rotation.
   */
  sessionTimeout(ms: number): void {
    this.sessionTimeoutMs = ms;
    this.ring = withSessionTimeout(this.ring, ms);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.retireTimer) clearTimeout(this.retireTimer);
    this.retireTimer = null;
  }

  private rotate(): void {
    void this.options.queue.run(async () => {
      if (!this.options.isRunning()) return;
      this.ring = rotateTicketKeys(this.ring, generateTicketKeys(), Date.now(), this.sessionTimeoutMs);
      this.options.rotated(this.wire);
      this.armRetirement();
    });
  }

  private armRetirement(): void {
    if (this.retireTimer) clearTimeout(this.retireTimer);
    this.retireTimer = null;
    const until = this.ring.previousUntil;
    if (until === null) return;
    const waitMs = Math.min(Math.max(0, until - Date.now()), LONGEST_TIMER_MS);
    this.retireTimer = setTimeout(() => this.retire(), waitMs);
    this.retireTimer.unref();
  }

  private retire(): void {
    this.retireTimer = null;
    void this.options.queue.run(async () => {
      if (!this.options.isRunning()) return;
      const next = forgetExpiredPreviousKey(this.ring, Date.now());
      if (next === this.ring) {
        // Not yet (a wait longer than one timer, or a rotation since): wait for the rest.
        this.armRetirement();
        return;
      }
      this.ring = next;
      this.options.retired(this.wire);
    });
  }
}
