// Goma's monitoring endpoints on the traffic listeners, where load balancers and Kubernetes probes
// look: /healthz, /readyz, /healthz/routes and the metrics path. They outrank routes. Which ones
// exist is compiled once per generation from `gateway.monitoring`; per request the cost is a few
// string comparisons on the path. Deciding what a request asks for and what the answer says is
// pure (here); answering /readyz and the metrics belongs to the worker (worker-monitoring.ts).
import type { MonitoringConfig } from '@gatehouse/config';

export const MONITOR_NONE = 0;
export const MONITOR_LIVENESS = 1;
export const MONITOR_READINESS = 2;
export const MONITOR_ROUTE_HEALTH = 3;
export const MONITOR_METRICS = 4;
export type MonitorEndpoint = 0 | 1 | 2 | 3 | 4;

const QUESTION_MARK = 63;

/** `url` is `path` with nothing after it but a query. */
function isPath(url: string, path: string): boolean {
  return url.startsWith(path) && (url.length === path.length || url.charCodeAt(path.length) === QUESTION_MARK);
}

/** The Host header without port or trailing dot, lower-cased. */
function hostName(host: string | undefined): string {
  if (host === undefined) return '';
  let name = host;
  if (name.startsWith('[')) name = name.slice(0, name.indexOf(']') + 1);
  else {
    const colon = name.lastIndexOf(':');
    if (colon !== -1) name = name.slice(0, colon);
  }
  return name.toLowerCase().replace(/\.$/, '');
}

export class MonitoringEndpoints {
  readonly liveness: boolean;
  readonly readiness: boolean;
  readonly routeHealth: boolean;
  /** null: metrics are not served on the traffic listeners. */
  readonly metricsPath: string | null;
  /** null: any Host. */
  readonly host: string | null;

  constructor(config: MonitoringConfig) {
    this.liveness = config.enableLiveness;
    this.readiness = config.enableReadiness;
    this.routeHealth = config.enableRouteHealthCheck;
    this.metricsPath = config.enableMetrics ? config.metricsPath : null;
    this.host = config.host;
  }

  /** null when no endpoint is on, so that the request path skips even the comparisons. */
  static compile(config: MonitoringConfig): MonitoringEndpoints | null {
    const endpoints = new MonitoringEndpoints(config);
    const any = endpoints.liveness || endpoints.readiness || endpoints.routeHealth || endpoints.metricsPath !== null;
    return any ? endpoints : null;
  }

  /** Which endpoint a GET or HEAD of `url` on `host` asks for; MONITOR_NONE sends it to the routes. */
  match(method: string, url: string, host: string | undefined): MonitorEndpoint {
    if (method !== 'GET' && method !== 'HEAD') return MONITOR_NONE;
    if (this.metricsPath !== null && isPath(url, this.metricsPath)) {
      return this.hostAllowed(host) ? MONITOR_METRICS : MONITOR_NONE;
    }
    if (!url.startsWith('/healthz') && !url.startsWith('/readyz')) return MONITOR_NONE;
    if (this.liveness && isPath(url, '/healthz')) return MONITOR_LIVENESS;
    if (this.readiness && isPath(url, '/readyz')) return MONITOR_READINESS;
    if (this.routeHealth && isPath(url, '/healthz/routes') && this.hostAllowed(host)) return MONITOR_ROUTE_HEALTH;
    return MONITOR_NONE;
  }

  private hostAllowed(host: string | undefined): boolean {
    return this.host === null || hostName(host) === this.host;
  }
}

export interface BackendState {
  endpoint: string;
  weight: number;
  up: boolean;
  ejectedUntil: number;
}

export interface RouteState {
  name: string;
  path: string;
  hosts: string[];
  backends: BackendState[];
}

/** A backend takes traffic when its probes say up, no passive ejection is in force and it has weight. */
export function backendServes(backend: BackendState, now: number): boolean {
  return backend.up && backend.ejectedUntil <= now && backend.weight > 0;
}

export interface RouteHealthReport {
  status: 'healthy' | 'unhealthy';
  routesWithoutHealthyBackend: string[];
  routes: RouteState[];
}

/** The /healthz/routes answer: 503 when some route has no backend that takes traffic. */
export function routeHealthReport(routes: RouteState[], now: number): { status: number; body: RouteHealthReport } {
  const down = routes.filter((r) => !r.backends.some((b) => backendServes(b, now))).map((r) => r.name);
  return {
    status: down.length === 0 ? 200 : 503,
    body: { status: down.length === 0 ? 'healthy' : 'unhealthy', routesWithoutHealthyBackend: down, routes },
  };
}

/** The /readyz answer: not ready while the gateway starts, or while this worker drains. */
export function readinessReport(
  gateway: { ready: boolean; reason: string },
  draining: boolean,
): { status: number; body: { status: string; reason: string } } {
  if (draining) return { status: 503, body: { status: 'not ready', reason: 'draining' } };
  return gateway.ready
    ? { status: 200, body: { status: 'ready', reason: gateway.reason } }
    : { status: 503, body: { status: 'not ready', reason: gateway.reason } };
}
