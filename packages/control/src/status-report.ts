// The /status document and the status page's live feed: one round of worker stats, the traffic
// windows (sampled once a second, so five minutes of history exist whenever someone opens the
// page), the routes' health, the certificates and the last reload.
import { effectiveClientAuth } from '@gatehouse/config';
import type { Snapshot, StatsMessage } from '@gatehouse/dataplane';
import type { Logger } from 'pino';
import type {
  CertificateStatus,
  RateLimitStoreStatus,
  RouteReport,
  RouteStatus,
  StatusReport,
  WorkerStatus,
} from './gateway-api.ts';
import { refreshDaysLeft } from './certificate-status.ts';
import { StatusFeed } from './status-feed.ts';
import { TrafficStats } from './traffic-stats.ts';
import type { ManagedWorker } from './workers.ts';

/** How often the status page's numbers are sampled: changes show within about two ticks. */
const STATUS_TICK_MS = 1_000;

export interface StatusReporterOptions {
  version: string;
  configFile: string;
  logger: Logger;
  /** The workers asked for stats: live, and not on their way out. */
  workers(): ManagedWorker[];
  current(): Snapshot;
  lastReload(): StatusReport['lastReload'];
  certificates(): CertificateStatus[];
  routes(): RouteStatus[];
  /** When ACME tries a failing renewal again (epoch ms), or null. */
  nextRenewal(provider: string, name: string): number | null;
  rateLimitStore(): RateLimitStoreStatus | null;
  isRunning(): boolean;
}

/** One worker's gh:stats answer, with its cluster id. */
interface WorkerAnswer {
  id: number;
  stats: StatsMessage;
}

export class StatusReporter {
  private readonly options: StatusReporterOptions;
  private readonly traffic = new TrafficStats();
  /** The status page's live document; the admin listener holds the viewers' connections. */
  readonly feed = new StatusFeed();
  private readonly startedAt = Date.now();
  private statsId = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(options: StatusReporterOptions) {
    this.options = options;
  }

  async status(): Promise<StatusReport> {
    return this.report(await this.collectStats(2_000));
  }

  /** Once a second: one round of worker stats, and while anyone watches, one document for every viewer. */
  startTicks(): void {
    this.timer = setTimeout(() => void this.tick(), STATUS_TICK_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.feed.close();
  }

  private async tick(): Promise<void> {
    if (!this.options.isRunning()) return;
    try {
      const samples = await this.collectStats(STATUS_TICK_MS - 100);
      this.traffic.record(
        Date.now(),
        samples.map((s) => s.stats),
      );
      if (this.feed.viewerCount > 0) this.feed.publish(this.report(samples));
    } catch (error) {
      this.options.logger.warn({ err: error }, 'status tick failed');
    } finally {
      if (this.options.isRunning()) this.startTicks();
    }
  }

  /** The /status document from one round of worker answers; rates come from the status ticks. */
  private report(samples: WorkerAnswer[]): StatusReport {
    const { options } = this;
    const current = options.current();
    const config = current.config;
    const clientAuth = effectiveClientAuth(config);
    const modes = new Map(clientAuth.routes.map((r) => [r.name, r.mode]));
    const configured = new Map(config.routes.map((r) => [r.name, r]));
    const now = Date.now();
    const rateLimitStore = options.rateLimitStore();
    return {
      at: new Date(now).toISOString(),
      version: options.version,
      pid: process.pid,
      uptimeSeconds: Math.round((now - this.startedAt) / 1000),
      generation: current.generation,
      configFile: options.configFile,
      lastReload: options.lastReload(),
      workers: samples.map(({ id, stats }) => workerStatus(id, stats, this.traffic)),
      routes: options.routes().map(
        (route): RouteReport => ({
          ...route,
          clientAuth: modes.get(route.name) ?? clientAuth.gatewayMode,
          middlewares: configured.get(route.name)?.middlewares ?? [],
          traffic: this.traffic.route(route.name),
        }),
      ),
      certificates: refreshDaysLeft(options.certificates(), now).map((cert) => {
        // A failing renewal is retried sooner than the planned date: show when.
        const next = cert.provider ? options.nextRenewal(cert.provider, cert.names[0] ?? '') : null;
        return next ? { ...cert, nextRenewal: new Date(next).toISOString() } : cert;
      }),
      history: this.traffic.history(),
      ...(rateLimitStore === null ? {} : { rateLimitStore }),
    };
  }

  private collectStats(timeoutMs: number): Promise<WorkerAnswer[]> {
    return Promise.all(
      this.options.workers().map(
        (worker) =>
          new Promise<WorkerAnswer | null>((resolve) => {
            const id = ++this.statsId;
            const done = (value: WorkerAnswer | null) => {
              clearTimeout(timer);
              off();
              offExit();
              resolve(value);
            };
            const timer = setTimeout(() => done(null), timeoutMs);
            const off = worker.onMessage((message) => {
              if (message.type === 'gh:stats' && message.id === id) done({ id: worker.id, stats: message });
            });
            const offExit = worker.onExit(() => done(null));
            if (!worker.trySend({ type: 'gh:stats-request', id })) done(null);
          }),
      ),
    ).then((list) => list.filter((s): s is WorkerAnswer => s !== null));
  }
}

function workerStatus(id: number, stats: StatsMessage, traffic: TrafficStats): WorkerStatus {
  const live = traffic.worker(stats.pid);
  return {
    id,
    pid: stats.pid,
    generation: stats.generation,
    uptimeSeconds: stats.uptimeSeconds,
    requests: stats.requests,
    activeConnections: stats.activeConnections,
    eventLoopLagMs: stats.eventLoopLagMs,
    eventLoopUtilization: stats.eventLoopUtilization,
    rssBytes: stats.rssBytes,
    heapUsedBytes: stats.heapUsedBytes,
    requestsPerSecond: live?.requestsPerSecond ?? null,
  };
}
