// Counter and gauge families in prom-client's default registry (the worker's, which the primary
// aggregates), one call each. A family that computes its values at scrape time (`collect`) is
// declared with prom-client directly.
import client from 'prom-client';

export function counter<L extends string = never>(
  name: string,
  help: string,
  labelNames: readonly L[] = [],
): client.Counter<L> {
  return new client.Counter({ name, help, labelNames });
}

export function gauge<L extends string = never>(
  name: string,
  help: string,
  labelNames: readonly L[] = [],
): client.Gauge<L> {
  return new client.Gauge({ name, help, labelNames });
}
