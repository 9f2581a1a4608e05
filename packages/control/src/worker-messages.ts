// What the workers ask of the primary outside a rollout: rate-limit leases and store state,
// passive health reports, the aggregate metrics scrape for a traffic listener's `metricsPath`, and
// a listener that would not bind.
import type { WorkerToPrimary } from '@gatehouse/dataplane';
import type { Logger } from 'pino';
import { errorMessage } from './errors.ts';
import type { HealthWiring } from './health-wiring.ts';
import type { PrimaryMetrics } from './metrics.ts';
import type { RateLimitWiring } from './rate-limit-wiring.ts';
import type { ManagedWorker } from './workers.ts';

export interface WorkerMessagesOptions {
  logger: Logger;
  rateLimits: RateLimitWiring;
  metrics(): PrimaryMetrics | null;
  health(): HealthWiring | null;
  /** A bind failure during start-up is the start's error; only later ones are logged here. */
  isRunning(): boolean;
}

export class WorkerMessages {
  private readonly options: WorkerMessagesOptions;
  private scrape: ReturnType<PrimaryMetrics['scrape']> | null = null;

  constructor(options: WorkerMessagesOptions) {
    this.options = options;
  }

  handle(worker: ManagedWorker, message: WorkerToPrimary): void {
    switch (message.type) {
      case 'gh:rl-ask':
        this.options.rateLimits.ask(worker, message.items);
        break;
      case 'gh:rl-store':
        this.options.rateLimits.storeState(worker, message.addr, message.ok, message.error);
        break;
      case 'gh:passive':
        this.options.health()?.reportPassive(message.events);
        break;
      case 'gh:metrics-request':
        this.answerMetrics(worker, message.id);
        break;
      case 'gh:bind-failed':
        if (this.options.isRunning()) {
          this.options.logger.error(
            { worker: worker.id, address: message.address, reason: message.reason },
            `cannot listen on ${message.address}: ${message.reason}`,
          );
        }
        break;
      default:
        break;
    }
  }

  /** `metricsPath` on a traffic listener: one aggregate scrape, shared by the workers that ask meanwhile. */
  private answerMetrics(worker: ManagedWorker, id: number): void {
    const metrics = this.options.metrics();
    if (metrics === null) {
      worker.trySend({ type: 'gh:metrics', id, ok: false, contentType: '', body: 'metrics are not set up yet' });
      return;
    }
    this.scrape ??= metrics.scrape().finally(() => {
      this.scrape = null;
    });
    this.scrape.then(
      ({ contentType, body }) => worker.trySend({ type: 'gh:metrics', id, ok: true, contentType, body }),
      (error: unknown) => {
        this.options.logger.warn({ err: error }, 'metrics scrape failed');
        worker.trySend({ type: 'gh:metrics', id, ok: false, contentType: '', body: errorMessage(error) });
      },
    );
  }
}
