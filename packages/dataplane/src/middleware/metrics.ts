// gatehouse_middleware_denied_total{route, middleware, reason}: one increment per request a
// middleware answered instead of the backend. Label children are resolved once per step and reason.
import client from 'prom-client';

export const middlewareDenied = new client.Counter({
  name: 'gatehouse_middleware_denied_total',
  help: 'Requests a middleware answered itself (refused, challenged or redirected), by route, middleware and reason',
  labelNames: ['route', 'middleware', 'reason'] as const,
});

type Child = ReturnType<typeof middlewareDenied.labels>;
const children = new Map<string, Child>();

/** Counts one answer; the child counter for the label set is looked up once and kept. */
export function countDenied(route: string, middleware: string, reason: string): void {
  const key = `${route}\u0000${middleware}\u0000${reason}`;
  let child = children.get(key);
  if (child === undefined) {
    child = middlewareDenied.labels(route, middleware, reason);
    children.set(key, child);
  }
  child.inc();
}
