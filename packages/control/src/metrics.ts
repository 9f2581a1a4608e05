// The primary's own metrics, and the one scrape that covers the whole instance: the workers'
// registries aggregated by prom-client's cluster aggregator (counters summed over workers), followed
// by the primary's registry. The primary's Node defaults carry the `gatehouse_primary_` prefix so they
// never collide with the workers' (aggregated) defaults. A family the primary owns wins over a
// family of the same name from the workers, so the output never holds a metric name twice, which
// Prometheus (and `promtool check metrics`) would reject.
import type { CertificateStatus } from './gateway-api.ts';
import { AggregatorRegistry, collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';

export interface PrimaryMetrics {
  /** One reload attempt finished (file change, SIGHUP or admin). */
  reloadResult(accepted: boolean): void;
  /** The generation now serving. */
  generation(n: number): void;
  /** A worker was respawned after an unexpected exit. */
  workerRestart(): void;
  /** The session-ticket keys rotated, or the previous key was forgotten (its tickets all expired). */
  ticketKeyChange(change: TicketKeyChange): void;
  backendUp(route: string, backend: string, up: boolean): void;
  backendEjected(route: string, backend: string): void;
  /** Replaces every certificate series with this list (certificates removed by a reload disappear). */
  certificates(list: CertificateStatus[]): void;
  /** The admin listener refused a request (cross-site, foreign Host, missing or wrong token). */
  adminRefused(code: string): void;
  /** One ACME order finished (first issuance or renewal). */
  acmeOrder(provider: string, result: 'success' | 'failure'): void;
  /** Consecutive failed orders of a name; 0 again after a success (alert on > 0). */
  acmeFailures(provider: string, name: string, count: number): void;
  /** Drops the backend series of backends no longer configured (after a reload). */
  retainBackends(keep: Array<{ route: string; backend: string }>): void;
  /** The whole instance in the Prometheus text format. */
  scrape(): Promise<{ contentType: string; body: string }>;
  /** The primary's registry alone (for tests and a degraded scrape). */
  readonly registry: Registry;
}

export type TicketKeyChange = 'rotated' | 'retired';

export const PRIMARY_DEFAULTS_PREFIX = 'gatehouse_primary_';

/** Splits a Prometheus text exposition into metric families keyed by name, keeping their order. */
export function splitFamilies(text: string): Map<string, string> {
  const families = new Map<string, string[]>();
  let current: string[] | null = null;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (?:HELP|TYPE) (\S+)/.exec(line);
    if (meta) {
      const name = meta[1]!;
      let lines = families.get(name);
      if (!lines) {
        lines = [];
        families.set(name, lines);
      }
      current = lines;
      current.push(line);
      continue;
    }
    if (line.startsWith('#')) continue;
    // A sample without a preceding HELP/TYPE (not produced by prom-client): keep it under its own name.
    if (!current) {
      const name = /^[^{\s]+/.exec(line)?.[0] ?? line;
      current = [];
      families.set(name, current);
    }
    current.push(line);
  }
  return new Map([...families].map(([name, lines]) => [name, `${lines.join('\n')}\n`]));
}

/**
 * prom-client's defaults include gauges named `nodejs_active_{handles,requests,resources}_total`,
 * which break the naming rule that only counters end in `_total` (promtool rejects them). Each is
 * the sum of the `nodejs_active_*` gauge of the same name without the suffix, also exported, so
 * nothing is lost by leaving them out.
 */
function isMisnamedGauge(name: string, family: string): boolean {
  return name.endsWith('_total') && family.includes(`# TYPE ${name} gauge`);
}

/** Joins worker and primary expositions; on a name present in both, the primary's family wins. */
export function mergeExpositions(workers: string, primary: string): string {
  const own = splitFamilies(primary);
  const out: string[] = [];
  for (const [name, family] of splitFamilies(workers)) {
    if (!own.has(name) && !isMisnamedGauge(name, family)) out.push(family);
  }
  for (const [name, family] of own) {
    if (!isMisnamedGauge(name, family)) out.push(family);
  }
  return out.join('\n');
}

export function createPrimaryMetrics(): PrimaryMetrics {
  // Constructing the aggregator installs prom-client's cluster listener in this (primary) process.
  const aggregator = new AggregatorRegistry();
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: PRIMARY_DEFAULTS_PREFIX });

  const counter = (name: string, help: string, labelNames: string[] = []) =>
    new Counter({ name, help, labelNames, registers: [registry] });
  const gauge = (name: string, help: string, labelNames: string[] = []) =>
    new Gauge({ name, help, labelNames, registers: [registry] });

  const generation = gauge('gatehouse_config_generation', 'Config generation now serving');
  const lastReloadSuccess = gauge(
    'gatehouse_config_last_reload_success',
    '1 when the last reload was accepted, 0 when it was rejected',
  );
  const reloads = counter('gatehouse_config_reloads_total', 'Reloads of config and certificates, by result', [
    'result',
  ]);
  const workerRestarts = counter('gatehouse_worker_restarts_total', 'Workers respawned after an unexpected exit');
  const ticketKeyChanges = counter(
    'gatehouse_tls_ticket_key_changes_total',
    'Session-ticket key changes: rotated (new current key), retired (previous key forgotten)',
    ['change'],
  );
  const backendUp = gauge('gatehouse_backend_up', '1 when the backend is in rotation, else 0', ['route', 'backend']);
  const ejections = counter(
    'gatehouse_backend_ejections_total',
    'Passive ejections of a backend after consecutive failures',
    ['route', 'backend'],
  );
  const notAfter = gauge('gatehouse_certificate_not_after_seconds', 'Expiry (Unix time) of each certificate in use', [
    'name',
    'serial',
    'role',
  ]);

  const adminRefused = counter(
    'gatehouse_admin_refused_total',
    'Admin requests refused before any endpoint ran, by reason (cross_site, host, unauthorized)',
    ['reason'],
  );
  const acmeOrders = counter(
    'gatehouse_acme_orders_total',
    'ACME certificate orders (first issuance and renewal), by provider and result',
    ['provider', 'result'],
  );
  const acmeFailures = gauge(
    'gatehouse_acme_consecutive_failures',
    'Failed ACME orders in a row for a name (0 after a success); the current certificate keeps serving',
    ['provider', 'name'],
  );

  // Both results exist from the start, so rate() works before the first rejection.
  reloads.inc({ result: 'accepted' }, 0);
  reloads.inc({ result: 'rejected' }, 0);
  workerRestarts.inc(0);
  for (const change of ['rotated', 'retired']) ticketKeyChanges.inc({ change }, 0);
  for (const reason of ['cross_site', 'host', 'unauthorized']) adminRefused.inc({ reason }, 0);

  // The backends with a series, so a reload that removes one can remove its series too.
  const backends = new Map<string, { route: string; backend: string }>();
  const backendKey = (route: string, backend: string) => `${route}\u0000${backend}`;
  const touchBackend = (route: string, backend: string) => {
    backends.set(backendKey(route, backend), { route, backend });
  };

  return {
    registry,
    reloadResult(accepted) {
      reloads.inc({ result: accepted ? 'accepted' : 'rejected' });
      lastReloadSuccess.set(accepted ? 1 : 0);
    },
    generation(n) {
      generation.set(n);
    },
    workerRestart() {
      workerRestarts.inc();
    },
    ticketKeyChange(change) {
      ticketKeyChanges.inc({ change });
    },
    backendUp(route, backend, up) {
      touchBackend(route, backend);
      backendUp.set({ route, backend }, up ? 1 : 0);
    },
    backendEjected(route, backend) {
      touchBackend(route, backend);
      ejections.inc({ route, backend });
    },
    certificates(list) {
      notAfter.reset();
      for (const cert of list) {
        const seconds = Math.floor(Date.parse(cert.notAfter) / 1000);
        if (!Number.isFinite(seconds)) continue;
        // One series per name, so an alert names the host; a CA (no DNS names) goes by its subject.
        const names = cert.names.length > 0 ? cert.names : [cert.subject];
        for (const name of names) notAfter.set({ name, serial: cert.serial, role: cert.role }, seconds);
      }
    },
    adminRefused(code) {
      // GH_ADMIN_CROSS_SITE → cross_site
      adminRefused.inc({ reason: code.replace(/^GH_ADMIN_/, '').toLowerCase() });
    },
    acmeOrder(provider, result) {
      acmeOrders.inc({ provider, result: 'success' }, 0);
      acmeOrders.inc({ provider, result: 'failure' }, 0);
      acmeOrders.inc({ provider, result });
    },
    acmeFailures(provider, name, count) {
      if (count === 0) acmeFailures.remove({ provider, name });
      else acmeFailures.set({ provider, name }, count);
    },
    retainBackends(keep) {
      const wanted = new Set(keep.map((b) => backendKey(b.route, b.backend)));
      for (const [key, labels] of backends) {
        if (wanted.has(key)) continue;
        backends.delete(key);
        backendUp.remove(labels);
        ejections.remove(labels);
      }
    },
    async scrape() {
      const [workers, primary] = await Promise.all([aggregator.clusterMetrics(), registry.metrics()]);
      return { contentType: registry.contentType, body: mergeExpositions(workers, primary) };
    },
  };
}
