// Rate-limit metrics of a worker (aggregated by the primary like every worker metric).
import client from 'prom-client';

const rejected = new client.Counter({
  name: 'gatehouse_ratelimit_rejected_total',
  help: 'Requests a rateLimit middleware refused (429 over the limit, 403 while banned, 503 without its store), by route and middleware',
  labelNames: ['route', 'middleware'] as const,
});

const fallback = new client.Gauge({
  name: 'gatehouse_ratelimit_store_fallback',
  help: '1 while the Redis store of gateway.redis is unreachable and rate limits follow their onStoreError',
  labelNames: ['addr'] as const,
  aggregator: 'max',
});

type Child = ReturnType<typeof rejected.labels>;
const children = new Map<string, Child>();

export function countRateLimited(route: string, middleware: string): void {
  const key = `${route}\u0000${middleware}`;
  let child = children.get(key);
  if (child === undefined) {
    child = rejected.labels(route, middleware);
    children.set(key, child);
  }
  child.inc();
}

export function storeState(addr: string, ok: boolean): void {
  fallback.labels(addr).set(ok ? 0 : 1);
}
