// The primary's side of backend health: the active-check scheduler, its transitions sent to every
// worker, `gatehouse_backend_up` kept for every served backend, and the routes' health for /status.
import type { GatewayConfig } from '@gatehouse/config';
import { backendKey, type PrimaryToWorker, type Snapshot, type WorkerToPrimary } from '@gatehouse/dataplane';
import { HealthScheduler, type HealthTransition } from '@gatehouse/health';
import type { Logger } from 'pino';
import type { BackendStatus, RouteStatus } from './gateway-api.ts';
import type { PrimaryMetrics } from './metrics.ts';

type PassiveEvents = Extract<WorkerToPrimary, { type: 'gh:passive' }>['events'];

export interface HealthWiringOptions {
  logger: Logger;
  metrics: PrimaryMetrics;
  broadcast(message: PrimaryToWorker): void;
  /** The generation being served: its routes and weights. */
  current(): Snapshot;
}

/** In rotation: probes say up, no passive ejection in force, and a weight to be picked by. */
function inRotation(health: { up: boolean; ejectedUntil: number }, weight: number, now: number): boolean {
  return health.up && health.ejectedUntil <= now && weight > 0;
}

export class HealthWiring {
  private readonly options: HealthWiringOptions;
  private readonly scheduler: HealthScheduler;

  constructor(options: HealthWiringOptions) {
    this.options = options;
    this.scheduler = new HealthScheduler({ onTransition: (t) => this.onTransition(t), logger: options.logger });
  }

  /** What the checks know now, for a new generation or a new worker to start from. */
  health(): Snapshot['health'] {
    return this.scheduler.health();
  }

  /** A generation is served: check its backends, and publish each one's state. */
  apply(snapshot: Snapshot): void {
    this.scheduler.apply(snapshot.config, snapshot.upstreamTls);
    this.publishBackendUp(snapshot.config);
  }

  /** Passive outcomes a worker saw (failed requests, recoveries). */
  reportPassive(events: PassiveEvents): void {
    this.scheduler.reportPassive(events);
  }

  routes(): RouteStatus[] {
    return this.scheduler.details().map((r) => ({
      name: r.name,
      path: r.path,
      hosts: r.hosts,
      backends: r.backends.map(({ recentTransitions, ...backend }) => ({
        ...backend,
        lastTransitionAt: recentTransitions[recentTransitions.length - 1]?.at ?? null,
      })),
    }));
  }

  close(): Promise<void> {
    return this.scheduler.close();
  }

  /**
   * gatehouse_backend_up for every served backend, from the first scrape: a dashboard of backends
   * is not empty just because nothing has changed yet. Transitions update it afterwards.
   */
  private publishBackendUp(config: GatewayConfig): void {
    const health = this.scheduler.health();
    const now = Date.now();
    for (const route of config.routes) {
      if (!route.enabled) continue;
      for (const backend of route.backends) {
        const h = health[backendKey(route.name, backend.endpoint)] ?? { up: true, ejectedUntil: 0 };
        this.options.metrics.backendUp(route.name, backend.endpoint, inRotation(h, backend.weight, now));
      }
    }
  }

  private onTransition(t: HealthTransition): void {
    this.options.broadcast({ type: 'gh:health', route: t.route, endpoint: t.endpoint, health: t.health });
    const weight =
      this.options
        .current()
        .config.routes.find((r) => r.name === t.route)
        ?.backends.find((b) => b.endpoint === t.endpoint)?.weight ?? 1;
    this.options.metrics.backendUp(t.route, t.endpoint, inRotation(t.health, weight, Date.now()));
    if (t.kind === 'ejected') this.options.metrics.backendEjected(t.route, t.endpoint);
  }
}

/** Before the checks start (or after they stop): every backend as the served generation has it. */
export function snapshotRouteHealth(snapshot: Snapshot): RouteStatus[] {
  return snapshot.config.routes.map((route) => ({
    name: route.name,
    path: route.path,
    hosts: route.hosts,
    backends: route.backends.map((backend): BackendStatus => {
      const state = snapshot.health[backendKey(route.name, backend.endpoint)];
      return {
        endpoint: backend.endpoint,
        weight: backend.weight,
        up: state?.up ?? true,
        ejectedUntil: state?.ejectedUntil ?? 0,
        lastProbe: null,
        transitions: 0,
        lastTransitionAt: null,
      };
    }),
  }));
}
