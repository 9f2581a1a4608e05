// The worker's metrics, in prom-client's default registry; the primary aggregates every worker's
// registry over the cluster channel (AggregatorRegistry), so one scrape sees the whole instance.
//
// Per request the cost is plain number increments: request counts live in per-route arrays
// indexed by method and status and are folded into the prom-client counter only when a scrape
// calls `collect()`. Histogram children are resolved once per route and backend when a generation
// is built. Route records are kept by name across generations, so no count is lost on a swap.
import cluster from 'node:cluster';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import client from 'prom-client';
import { DURATION_BUCKETS, type RouteTrafficSample, type StatsMessage } from './messages.ts';
import { HistogramSeries, LocalHistogram } from './local-histogram.ts';
import { counter, gauge } from './metric-families.ts';
import { LoopUtilizationReader } from './loop-utilization.ts';

// The bounds are part of gh:stats (route samples carry counts per bucket), so messages.ts owns them.
export { DURATION_BUCKETS } from './messages.ts';

/** Methods with their own label value; anything else is counted as OTHER (bounded cardinality). */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'OTHER'] as const;
const OTHER_METHOD = METHODS.length - 1;
const STATUS_SLOTS = 600;

export function methodIndex(method: string | undefined): number {
  switch (method) {
    case 'GET':
      return 0;
    case 'HEAD':
      return 1;
    case 'POST':
      return 2;
    case 'PUT':
      return 3;
    case 'DELETE':
      return 4;
    case 'PATCH':
      return 5;
    case 'OPTIONS':
      return 6;
    case 'TRACE':
      return 7;
    default:
      return OTHER_METHOD;
  }
}

/** Label of requests that matched no route. */
export const NO_ROUTE_LABEL = 'none';

/** Counts of one route, kept across generations. */
export class RouteMetrics {
  readonly route: string;
  /** Unflushed request counts, index `method * 600 + status`. */
  readonly pending = new Float64Array(METHODS.length * STATUS_SLOTS);
  readonly duration: HistogramSeries;
  /** Requests by status class (index 2 is 2xx; 0 holds what had no status), never reset: the status page's rates. */
  readonly statusClasses = new Float64Array(6);
  /** false for a route with `disableMetrics`: counted into series that nothing exports. */
  readonly recorded: boolean;
  private readonly upstream = new Map<string, HistogramSeries>();

  constructor(route: string, requestDuration: LocalHistogram, recorded = true) {
    this.route = route;
    this.recorded = recorded;
    this.duration = recorded
      ? requestDuration.child({ route })
      : new HistogramSeries({ route }, requestDuration.bounds);
  }

  countRequest(method: number, status: number): void {
    const s = status > 0 && status < STATUS_SLOTS ? status : 0;
    this.pending[method * STATUS_SLOTS + s]!++;
    this.statusClasses[(s / 100) | 0]!++;
  }

  upstreamDuration(backend: string): HistogramSeries {
    let child = this.upstream.get(backend);
    if (child === undefined) {
      child = this.recorded
        ? metrics.upstreamDuration.child({ route: this.route, backend })
        : new HistogramSeries({ route: this.route, backend }, metrics.upstreamDuration.bounds);
      this.upstream.set(backend, child);
    }
    return child;
  }
}

const routeMetrics = new Map<string, RouteMetrics>();

function flushRequestCounts(counter: client.Counter<'route' | 'method' | 'code'>): void {
  for (const rm of routeMetrics.values()) {
    const pending = rm.pending;
    for (let i = 0; i < pending.length; i++) {
      const n = pending[i]!;
      if (n === 0) continue;
      pending[i] = 0;
      const method = METHODS[Math.floor(i / STATUS_SLOTS)]!;
      counter.inc({ route: rm.route, method, code: String(i % STATUS_SLOTS) }, n);
    }
  }
}

const loopDelay = monitorEventLoopDelay({ resolution: 20 });
loopDelay.enable();
/** Each reader of the event-loop utilisation gets the share since its own previous read. */
const scrapeUtilization = new LoopUtilizationReader();
const statsUtilization = new LoopUtilizationReader();

/** Mean event-loop delay in ms since the monitor was last reset (for gh:stats). */
function eventLoopLagMs(): number {
  const mean = loopDelay.mean;
  return Number.isFinite(mean) ? mean / 1e6 : 0;
}

// Distinct per worker, so the primary's sum-aggregation keeps one series per worker.
const workerLabel = String(cluster.worker?.id ?? process.pid);

export const metrics = {
  requests: new client.Counter({
    name: 'gatehouse_requests_total',
    help: 'Requests answered, by route, method and status code',
    labelNames: ['route', 'method', 'code'] as const,
    collect() {
      flushRequestCounts(this);
    },
  }),
  requestDuration: new LocalHistogram(
    'gatehouse_request_duration_seconds',
    'Time from request to the end of the response, as the gateway saw it',
    DURATION_BUCKETS,
  ),
  upstreamDuration: new LocalHistogram(
    'gatehouse_upstream_duration_seconds',
    'Time from sending the request upstream to the backend response headers',
    DURATION_BUCKETS,
  ),
  upstreamErrors: counter(
    'gatehouse_upstream_errors_total',
    'Failed upstream exchanges, by reason (connect, timeout, reset, tls_*)',
    ['route', 'backend', 'reason'],
  ),
  tlsHandshakes: counter(
    'gatehouse_tls_handshakes_total',
    'TLS handshakes on the traffic listeners, by result (ok or the failure reason)',
    ['listener', 'result'],
  ),
  tlsResumed: counter(
    'gatehouse_tls_resumed_total',
    'TLS handshakes that resumed a session (tickets shared by all workers)',
  ),
  activeConnections: gauge('gatehouse_active_connections', 'Open client connections, by listener', ['listener']),
  strayErrors: counter(
    'gatehouse_worker_stray_errors_total',
    'Errors no handler caught (logged; the worker goes on), by kind: uncaught_exception, unhandled_rejection, message_handler',
    ['kind'],
  ),
  eventLoopLag: new client.Gauge({
    name: 'gatehouse_worker_event_loop_lag_seconds',
    help: 'Mean event-loop delay of each worker since the previous scrape',
    labelNames: ['worker'] as const,
    collect() {
      const mean = loopDelay.mean;
      this.labels(workerLabel).set(Number.isFinite(mean) ? mean / 1e9 : 0);
      loopDelay.reset();
    },
  }),
  eventLoopUtilization: new client.Gauge({
    name: 'gatehouse_worker_event_loop_utilization',
    help: 'Share of time each worker event loop was busy since the previous scrape (0..1)',
    labelNames: ['worker'] as const,
    collect() {
      this.labels(workerLabel).set(scrapeUtilization.sample());
    },
  }),
};

let defaultsCollected = false;
/**
 * Node process defaults (memory, CPU, handles, GC), and the answer to the primary's scrape: in
 * prom-client 15 a worker only replies to the AggregatorRegistry's request once an
 * AggregatorRegistry was constructed in that worker too. Once per process.
 */
export function collectProcessMetrics(): void {
  if (defaultsCollected) return;
  defaultsCollected = true;
  client.collectDefaultMetrics();
  if (cluster.isWorker) new client.AggregatorRegistry();
}

/** The per-route record for `route`, created on first use and kept across generations. */
export function routeMetricsFor(route: string): RouteMetrics {
  let rm = routeMetrics.get(route);
  if (rm === undefined) {
    rm = new RouteMetrics(route, metrics.requestDuration);
    routeMetrics.set(route, rm);
  }
  return rm;
}

/**
 * For a route with `disableMetrics`: the hot path counts as for any route (no branch per request),
 * into a record that is never flushed or exported.
 */
export function unrecordedRouteMetrics(route: string): RouteMetrics {
  return new RouteMetrics(route, metrics.requestDuration, false);
}

/**
 * Every route's counts since this worker started, for gh:stats: the primary subtracts one answer from
 * the next, so nothing here is reset and a scrape does not disturb it. Routes with `disableMetrics`
 * are not kept in the registry and are left out.
 */
function routeTrafficSamples(): RouteTrafficSample[] {
  const out: RouteTrafficSample[] = [];
  for (const rm of routeMetrics.values()) {
    out.push({
      route: rm.route,
      statusClasses: Array.from(rm.statusClasses),
      durationBuckets: Array.from(rm.duration.counts),
    });
  }
  return out;
}

/** Total requests counted by this worker (for gh:stats), without flushing. */
let requestsServed = 0;
export function countServed(): void {
  requestsServed++;
}
function servedCount(): number {
  return requestsServed;
}

/** This worker's answer to gh:stats-request; the runtime knows its generation and connections. */
export function statsReply(id: number, generation: number, startedAt: number, activeConnections: number): StatsMessage {
  const memory = process.memoryUsage();
  return {
    type: 'gh:stats',
    id,
    pid: process.pid,
    generation,
    uptimeSeconds: (Date.now() - startedAt) / 1000,
    requests: servedCount(),
    activeConnections,
    eventLoopLagMs: eventLoopLagMs(),
    eventLoopUtilization: statsUtilization.sample(),
    rssBytes: memory.rss,
    heapUsedBytes: memory.heapUsed,
    routes: routeTrafficSamples(),
  };
}

export { client as promClient };
