// Passive health: what real requests tell about a backend, batched to the primary (which owns the
// health state and its transitions): every failure, and the first success after a failure.
import type { CompiledBackend } from './compiled-backend.ts';
import type { PassiveMessage } from '../messages.ts';

export class PassiveReporter {
  private readonly send: (message: PassiveMessage) => void;
  private readonly failing = new Set<string>();
  private pending: PassiveMessage['events'] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly flushBound: () => void;
  readonly intervalMs: number;

  constructor(send: (message: PassiveMessage) => void, intervalMs = 250) {
    this.send = send;
    this.intervalMs = intervalMs;
    this.flushBound = () => this.flush();
  }

  failure(backend: CompiledBackend, reason: string): void {
    this.failing.add(backend.key);
    this.pending.push({ route: backend.route.name, endpoint: backend.endpoint, ok: false, reason });
    this.schedule();
  }

  success(backend: CompiledBackend): void {
    if (this.failing.size === 0 || !this.failing.delete(backend.key)) return;
    this.pending.push({ route: backend.route.name, endpoint: backend.endpoint, ok: true, reason: null });
    this.schedule();
  }

  private schedule(): void {
    if (this.timer !== null) return;
    this.timer = setTimeout(this.flushBound, this.intervalMs);
    this.timer.unref();
  }

  flush(): void {
    this.timer = null;
    if (this.pending.length === 0) return;
    const events = this.pending;
    this.pending = [];
    this.send({ type: 'gh:passive', events });
  }
}
