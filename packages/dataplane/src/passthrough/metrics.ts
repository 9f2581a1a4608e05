// Pass-through series. Children are resolved once per forward when its listener opens, so the data
// path adds numbers to objects it already holds. Labels: `forward` is the listener's key
// (forward-set.ts), `direction` is `in` (client to target) or `out` (target to client).
import client from 'prom-client';
import { counter, gauge } from '../metric-families.ts';

/** Adds the bytes of open TCP connections not counted yet; set by tcp-forward.ts. */
const beforeScrape: Array<() => void> = [];
export function onBytesScrape(flush: () => void): void {
  beforeScrape.push(flush);
}

export const passThroughMetrics = {
  bytes: new client.Counter({
    name: 'gatehouse_passthrough_bytes_total',
    help: 'Bytes relayed by pass-through forwards, by forward and direction (in: client to target)',
    labelNames: ['forward', 'direction'] as const,
    // A long-lived connection (SSH) is counted at each scrape, not only when it closes.
    collect() {
      for (const flush of beforeScrape) flush();
    },
  }),
  connections: counter(
    'gatehouse_passthrough_connections_total',
    'TCP connections (tcp) or UDP sessions (udp) opened by pass-through forwards, by result (ok, dial_failed, dial_timeout)',
    ['forward', 'result'],
  ),
  active: gauge('gatehouse_passthrough_active', 'Open TCP connections or UDP sessions of pass-through forwards', [
    'forward',
  ]),
  dropped: counter(
    'gatehouse_passthrough_udp_dropped_total',
    'UDP datagrams dropped by pass-through forwards, by reason (sessions_full, queue_full)',
    ['forward', 'reason'],
  ),
  listening: gauge(
    'gatehouse_passthrough_listening',
    'Pass-through listeners open in each worker (1 per forward and worker)',
    ['forward'],
  ),
};

type Count = { inc(value?: number): void };

export interface ForwardSeries {
  bytesIn: Count;
  bytesOut: Count;
  opened: Count;
  dialFailed: Count;
  dialTimeout: Count;
  active: { inc(): void; dec(): void };
  sessionsFull: Count;
  queueFull: Count;
}

export function forwardSeries(key: string): ForwardSeries {
  const m = passThroughMetrics;
  return {
    bytesIn: m.bytes.labels(key, 'in'),
    bytesOut: m.bytes.labels(key, 'out'),
    opened: m.connections.labels(key, 'ok'),
    dialFailed: m.connections.labels(key, 'dial_failed'),
    dialTimeout: m.connections.labels(key, 'dial_timeout'),
    active: m.active.labels(key),
    sessionsFull: m.dropped.labels(key, 'sessions_full'),
    queueFull: m.dropped.labels(key, 'queue_full'),
  };
}
