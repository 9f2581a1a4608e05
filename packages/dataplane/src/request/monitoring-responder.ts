// Answers the monitoring endpoints a request asked for (monitoring.ts decides which). /healthz and
// /healthz/routes come from what this worker holds; /readyz from the gateway's readiness, which the
// primary pushes on every change; the metrics are the primary's aggregate, fetched over IPC. Many
// scrapes arriving together share one fetch, so a burst of /metrics costs the primary one scrape.
import type { Http2ServerResponse } from 'node:http2';
import type { ServerResponse } from 'node:http';
import type { Generation } from '../generation.ts';
import type { MetricsMessage, MetricsRequestMessage, ReadinessMessage } from '../messages.ts';
import {
  MONITOR_LIVENESS,
  MONITOR_METRICS,
  MONITOR_READINESS,
  MONITOR_ROUTE_HEALTH,
  type MonitorEndpoint,
  type RouteState,
  readinessReport,
  routeHealthReport,
} from './monitoring.ts';

type Response = ServerResponse | Http2ServerResponse;

/** How long a scrape waits for the primary; prom-client itself gives up on a worker after 5 s. */
const METRICS_TIMEOUT_MS = 10_000;

function send(res: Response, head: boolean, status: number, contentType: string, text: string, close = false): void {
  const headers: Record<string, string> = {
    'content-type': contentType,
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
  };
  // A draining worker closes each connection after its answer, as it does for proxied requests.
  if (close && (res as Http2ServerResponse).stream === undefined) headers.connection = 'close';
  (res as ServerResponse).writeHead(status, headers);
  if (head) res.end();
  else res.end(text);
}

function sendJson(res: Response, head: boolean, status: number, body: unknown, close = false): void {
  send(res, head, status, 'application/json; charset=utf-8', `${JSON.stringify(body)}\n`, close);
}

interface PendingScrape {
  id: number;
  waiters: Array<{ res: Response; head: boolean }>;
  timer: NodeJS.Timeout;
}

export class MonitoringResponder {
  /** Until the primary says otherwise, the gateway is starting. */
  private gateway: { ready: boolean; reason: string } = { ready: false, reason: 'starting' };
  private readonly request: (message: MetricsRequestMessage) => void;
  private pending: PendingScrape | null = null;
  private nextId = 1;

  constructor(request: (message: MetricsRequestMessage) => void) {
    this.request = request;
  }

  setReadiness(message: ReadinessMessage): void {
    this.gateway = { ready: message.ready, reason: message.reason };
  }

  serve(endpoint: MonitorEndpoint, generation: Generation, draining: boolean, method: string, res: Response): void {
    const head = method === 'HEAD';
    switch (endpoint) {
      case MONITOR_LIVENESS:
        sendJson(res, head, 200, { status: 'alive' }, draining);
        return;
      case MONITOR_READINESS: {
        const { status, body } = readinessReport(this.gateway, draining);
        sendJson(res, head, status, body, draining);
        return;
      }
      case MONITOR_ROUTE_HEALTH: {
        const { status, body } = routeHealthReport(routeStates(generation), Date.now());
        sendJson(res, head, status, body);
        return;
      }
      case MONITOR_METRICS:
        this.scrape(res, head);
        return;
      default:
        sendJson(res, head, 404, { error: 'no such monitoring endpoint' });
    }
  }

  onMetrics(message: MetricsMessage): void {
    const pending = this.pending;
    if (pending === null || pending.id !== message.id) return;
    this.pending = null;
    clearTimeout(pending.timer);
    for (const { res, head } of pending.waiters) {
      if (message.ok) send(res, head, 200, message.contentType, message.body);
      else sendJson(res, head, 503, { error: message.body, code: 'GH_METRICS_UNAVAILABLE' });
    }
  }

  private scrape(res: Response, head: boolean): void {
    if (this.pending !== null) {
      this.pending.waiters.push({ res, head });
      return;
    }
    const id = this.nextId++;
    const timer = setTimeout(() => {
      this.onMetrics({ type: 'gh:metrics', id, ok: false, contentType: '', body: 'the primary did not answer' });
    }, METRICS_TIMEOUT_MS);
    timer.unref();
    this.pending = { id, waiters: [{ res, head }], timer };
    this.request({ type: 'gh:metrics-request', id });
  }
}

/** What this worker knows of each served route's backends, as /healthz/routes shows it. */
function routeStates(generation: Generation): RouteState[] {
  const out: RouteState[] = [];
  for (const route of generation.routes) {
    if (route === null) continue;
    out.push({
      name: route.name,
      path: route.config.path,
      hosts: route.config.hosts,
      backends: route.backends.map((b) => ({
        endpoint: b.endpoint,
        weight: b.config.weight,
        up: b.health.up,
        ejectedUntil: b.health.ejectedUntil,
      })),
    });
  }
  return out;
}
