// The primary's health scheduler: one timer per backend drives active probes through a piscina
// pool, worker reports drive passive outlier detection, and every change of a backend's health is
// told once, as a transition (log line + onTransition), never per probe.
//
// Decisions:
// - One probe per interval per backend, from here only: workers never probe, so the backend's
//   probe load does not grow with the worker count. The next probe is due one interval (±10 %
//   jitter, so backends are not probed in lockstep) after the previous one *started*, and never
//   overlaps it: a probe slower than the interval is followed by the next one at once.
// - The first probe of a backend runs as soon as the backend is known (start or reload).
// - A route without `healthCheck` is not probed: its backends are always `up`. Passive detection
//   still applies to it, with the defaults (5 failures, 30 s, 50 %), since the workers report
//   connect failures and resets for every route.
// - Disabled routes are not tracked.
// - Reload keeps the state of every backend whose (route name, endpoint) stayed; a backend that
//   gains a health check starts over as unproven; one that loses it is up.
// - The pool runs many probes per thread (they are I/O): a hanging backend holds one slot until
//   its timeout, never a thread, so it cannot delay other backends' probes.
import type { GatewayConfig, HealthCheckConfig, RouteConfig } from '@gatehouse/config';
import type { ResolvedUpstreamTls } from '@gatehouse/pki';
import { Piscina } from 'piscina';
import type { Logger } from 'pino';
import { type BackendHealth, backendKey } from '@gatehouse/config/backend-health';
import {
  applyPassive,
  expireEjection,
  initialOutlier,
  isEjected,
  type OutlierConfig,
  type OutlierEvent,
  type OutlierState,
  outlierConfigOf,
  restoreAfterProbe,
} from './outlier.ts';
import { DEFAULT_PROBE_TIMEOUT_MS, type ProbeTask, type ProbeTls } from './probe-task.ts';
import { applyProbe, type HealthState, initialState, type ProbeResult } from './state.ts';

export type TransitionKind = 'down' | 'up' | 'ejected' | 'restored';

export interface HealthTransition {
  /** `down`/`up` come from active probes, `ejected`/`restored` from passive detection. */
  kind: TransitionKind;
  route: string;
  endpoint: string;
  /** The backend's health after this transition: what the workers must be told. */
  health: BackendHealth;
  /** `up`, `down` or `ejected`. */
  from: string;
  to: string;
  reason: string;
  /** The probe that caused it; null for passive transitions and config changes. */
  probe: ProbeResult | null;
  at: number;
}

export interface SchedulerOptions {
  onTransition(transition: HealthTransition): void;
  logger: Logger;
  /** Upper bound on probe threads; default 4. */
  maxThreads?: number;
}

/** A `lastProbe` as /healthz/routes shows it (BackendStatus in @gatehouse/control). */
export interface ProbeSummary {
  ok: boolean;
  status: number | null;
  latencyMs: number | null;
  error: string | null;
  at: string;
}

export interface TransitionRecord {
  at: string;
  kind: TransitionKind;
  from: string;
  to: string;
  reason: string;
}

/** Structurally a BackendStatus of @gatehouse/control's gateway-api.ts, plus recent history. */
export interface BackendDetails {
  endpoint: string;
  weight: number;
  up: boolean;
  ejectedUntil: number;
  lastProbe: ProbeSummary | null;
  transitions: number;
  recentTransitions: TransitionRecord[];
}

/** Structurally a RouteStatus of @gatehouse/control's gateway-api.ts. */
export interface RouteDetails {
  name: string;
  path: string;
  hosts: string[];
  /** Whether active probes run for this route. */
  checked: boolean;
  backends: BackendDetails[];
}

const JITTER = 0.1;
const PROBES_PER_THREAD = 16;
const DEFAULT_MAX_THREADS = 4;
const HISTORY = 10;
// Beside this module, with its extension: `.ts` when Node strips types (piscina 5 loads it as is
// under Node 24), `.js` when run from a tsc build.
const TASK_URL = new URL(`./probe-task${import.meta.url.slice(import.meta.url.lastIndexOf('.'))}`, import.meta.url)
  .href;

interface RouteEntry {
  name: string;
  path: string;
  hosts: string[];
  healthCheck: HealthCheckConfig | null;
  tls: ProbeTls | null;
  outlier: OutlierConfig;
  backends: Map<string, BackendEntry>;
}

interface BackendEntry {
  route: string;
  endpoint: string;
  protocol: 'http:' | 'https:';
  hostname: string;
  port: number;
  basePath: string;
  weight: number;
  /** Whether the route has active checks; without them the backend is always up. */
  checked: boolean;
  active: HealthState;
  outlier: OutlierState;
  probeTimer: NodeJS.Timeout | null;
  restoreTimer: NodeJS.Timeout | null;
  probing: boolean;
  /** Start of the probe in flight or of the last one: the next is due one interval after it. */
  lastStart: number;
  transitions: number;
  history: TransitionRecord[];
  retired: boolean;
}

export class HealthScheduler {
  private readonly onTransition: SchedulerOptions['onTransition'];
  private readonly logger: Logger;
  private readonly maxThreads: number;
  private routes = new Map<string, RouteEntry>();
  private pool: Piscina<ProbeTask, ProbeResult> | null = null;
  private poolThreads = 0;
  private closed = false;

  constructor(opts: SchedulerOptions) {
    this.onTransition = opts.onTransition;
    this.logger = opts.logger;
    this.maxThreads = Math.max(1, opts.maxThreads ?? DEFAULT_MAX_THREADS);
  }

  /** Takes a new (or the first) configuration; `upstreamTls` is by route name, as in the Snapshot. */
  apply(config: Pick<GatewayConfig, 'routes'>, upstreamTls: Record<string, ResolvedUpstreamTls>): void {
    if (this.closed) return;
    const previous = this.routes;
    const next = new Map<string, RouteEntry>();
    const toProbe: BackendEntry[] = [];

    for (const route of config.routes) {
      if (!route.enabled || next.has(route.name)) continue;
      const entry = this.routeEntry(route, upstreamTls[route.name] ?? null);
      const old = previous.get(route.name);
      for (const backend of route.backends) {
        if (entry.backends.has(backend.endpoint)) continue;
        const kept = old?.backends.get(backend.endpoint);
        const b: BackendEntry = kept ?? this.newBackend(route, backend.endpoint);
        b.protocol = backend.protocol;
        b.hostname = backend.hostname;
        b.port = backend.port;
        b.basePath = backend.basePath;
        b.weight = backend.weight;
        b.checked = entry.healthCheck !== null;
        entry.backends.set(backend.endpoint, b);
        if (!kept) {
          if (entry.healthCheck) toProbe.push(b);
          continue;
        }
        this.carryOver(b, old?.healthCheck ?? null, entry.healthCheck, toProbe);
      }
      next.set(route.name, entry);
    }

    for (const [name, old] of previous) {
      for (const [endpoint, b] of old.backends) {
        if (next.get(name)?.backends.get(endpoint) !== b) this.retire(b);
      }
    }
    this.routes = next;
    this.sizePool();
    for (const b of toProbe) this.probeSoon(b, 0);
  }

  /** Worker reports, merged from every worker in arrival order. */
  reportPassive(events: ReadonlyArray<{ route: string; endpoint: string; ok: boolean; reason: string | null }>): void {
    if (this.closed) return;
    const now = Date.now();
    for (const event of events) {
      const route = this.routes.get(event.route);
      const b = route?.backends.get(event.endpoint);
      if (!route || !b) continue;
      this.expire(b, now);
      let ejectedOthers = 0;
      for (const other of route.backends.values()) {
        if (other !== b && isEjected(other.outlier)) ejectedOthers++;
      }
      const out = applyPassive(
        b.outlier,
        { ok: event.ok, reason: event.reason },
        { ejectedOthers, backends: route.backends.size },
        route.outlier,
        now,
      );
      b.outlier = out.state;
      if (out.capped) {
        this.logger.debug(
          { route: b.route, backend: b.endpoint, failures: out.state.consecutiveFailures },
          'backend ejection skipped: route at its ejection cap',
        );
      }
      if (out.event) this.onOutlierEvent(b, out.event, null, now);
    }
  }

  /** Every tracked backend's health, keyed by backendKey(route, endpoint): for a new Snapshot. */
  health(): Record<string, BackendHealth> {
    const out: Record<string, BackendHealth> = {};
    for (const route of this.routes.values()) {
      for (const b of route.backends.values()) out[backendKey(b.route, b.endpoint)] = this.healthOf(b);
    }
    return out;
  }

  /** Per route, per backend state for /healthz/routes and /status (RouteStatus-compatible). */
  details(): RouteDetails[] {
    const out: RouteDetails[] = [];
    for (const route of this.routes.values()) {
      const backends: BackendDetails[] = [];
      for (const b of route.backends.values()) {
        const probe = b.active.lastProbe;
        backends.push({
          endpoint: b.endpoint,
          weight: b.weight,
          up: this.healthOf(b).up,
          ejectedUntil: b.outlier.ejectedUntil,
          lastProbe: probe
            ? {
                ok: probe.ok,
                status: probe.status,
                latencyMs: probe.latencyMs,
                error: probe.error,
                at: new Date(probe.at).toISOString(),
              }
            : null,
          transitions: b.transitions,
          recentTransitions: [...b.history],
        });
      }
      out.push({
        name: route.name,
        path: route.path,
        hosts: [...route.hosts],
        checked: route.healthCheck !== null,
        backends,
      });
    }
    return out;
  }

  /** Stops every timer and the pool; probes in flight are abandoned. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const route of this.routes.values()) {
      for (const b of route.backends.values()) this.retire(b);
    }
    const pool = this.pool;
    this.pool = null;
    if (pool) await pool.destroy();
  }

  // ---- configuration ----

  private routeEntry(route: RouteConfig, tls: ResolvedUpstreamTls | null): RouteEntry {
    return {
      name: route.name,
      path: route.path,
      hosts: route.hosts,
      healthCheck: route.healthCheck,
      tls: tls
        ? {
            ca: tls.ca,
            cert: tls.cert,
            key: tls.key,
            servername: tls.servername,
            rejectUnauthorized: tls.rejectUnauthorized,
          }
        : null,
      outlier: outlierConfigOf(route.healthCheck),
      backends: new Map(),
    };
  }

  private newBackend(route: RouteConfig, endpoint: string): BackendEntry {
    const cfg = route.healthCheck ?? { fall: 1, rise: 1 };
    return {
      route: route.name,
      endpoint,
      protocol: 'http:',
      hostname: '',
      port: 0,
      basePath: '/',
      weight: 1,
      checked: route.healthCheck !== null,
      active: initialState(cfg),
      outlier: initialOutlier(),
      probeTimer: null,
      restoreTimer: null,
      probing: false,
      lastStart: 0,
      transitions: 0,
      history: [],
      retired: false,
    };
  }

  /** A backend that stayed across a reload: keep its state, follow its route's health check. */
  private carryOver(
    b: BackendEntry,
    before: HealthCheckConfig | null,
    after: HealthCheckConfig | null,
    toProbe: BackendEntry[],
  ): void {
    if (!after) {
      this.clearProbeTimer(b);
      if (before && b.active.status === 'down') {
        b.active = initialState({ fall: 1, rise: 1 });
        this.emit(b, 'up', 'down', 'up', 'health check removed from the route', null, Date.now());
      }
      return;
    }
    if (!before) {
      // A check the backend never had: its past verdict (none) proves nothing.
      b.active = initialState(after);
      toProbe.push(b);
      return;
    }
    if (before.intervalMs !== after.intervalMs && b.probeTimer && !b.probing) {
      this.clearProbeTimer(b);
      this.probeSoon(b, Math.max(0, b.lastStart + jittered(after.intervalMs) - Date.now()));
    }
  }

  private retire(b: BackendEntry): void {
    b.retired = true;
    this.clearProbeTimer(b);
    if (b.restoreTimer) clearTimeout(b.restoreTimer);
    b.restoreTimer = null;
  }

  private sizePool(): void {
    let probed = 0;
    for (const route of this.routes.values()) if (route.healthCheck) probed += route.backends.size;
    if (probed === 0) return; // an existing pool stays: it costs idle threads only until the next resize
    const threads = Math.min(this.maxThreads, Math.max(1, Math.ceil(probed / PROBES_PER_THREAD)));
    if (this.pool && threads === this.poolThreads) return;
    const old = this.pool;
    this.pool = new Piscina<ProbeTask, ProbeResult>({
      filename: TASK_URL,
      name: 'default',
      minThreads: threads,
      maxThreads: threads,
      concurrentTasksPerWorker: PROBES_PER_THREAD,
    });
    this.poolThreads = threads;
    this.logger.debug({ threads, probedBackends: probed }, 'health probe pool sized');
    // Probes already running in the old pool finish there; their results are still used.
    if (old) old.close().catch((error: unknown) => this.logger.warn({ err: error }, 'health probe pool close failed'));
  }

  // ---- active probes ----

  private probeSoon(b: BackendEntry, delayMs: number): void {
    if (this.closed || b.retired) return;
    this.clearProbeTimer(b);
    b.probeTimer = setTimeout(() => {
      b.probeTimer = null;
      void this.runProbe(b);
    }, delayMs);
    b.probeTimer.unref();
  }

  private async runProbe(b: BackendEntry): Promise<void> {
    const route = this.routes.get(b.route);
    const hc = route?.healthCheck;
    const pool = this.pool;
    if (this.closed || b.retired || !route || !hc || !pool || b.probing) return;
    b.probing = true;
    b.lastStart = Date.now();
    const task: ProbeTask = {
      protocol: b.protocol,
      hostname: b.hostname,
      port: b.port,
      path: joinPath(b.basePath, hc.path),
      timeoutMs: hc.timeoutMs > 0 ? hc.timeoutMs : DEFAULT_PROBE_TIMEOUT_MS,
      healthyStatuses: hc.healthyStatuses,
      tls: b.protocol === 'https:' ? route.tls : null,
    };
    let result: ProbeResult;
    try {
      result = await pool.run(task);
    } catch (error) {
      result = {
        ok: false,
        status: null,
        latencyMs: null,
        error: `probe could not run: ${(error as Error).message}`,
        at: b.lastStart,
      };
    }
    b.probing = false;
    if (this.closed || b.retired) return;
    // The route may have been reloaded while the probe ran: judge with the thresholds in force now.
    const current = this.routes.get(b.route)?.healthCheck;
    if (!current) return;
    this.onProbe(b, result, current);
    this.probeSoon(b, Math.max(0, b.lastStart + jittered(current.intervalMs) - Date.now()));
  }

  private onProbe(b: BackendEntry, result: ProbeResult, hc: HealthCheckConfig): void {
    const now = Date.now();
    this.logger.trace({ route: b.route, backend: b.endpoint, probe: result }, 'health probe');
    const active = applyProbe(b.active, result, hc, now);
    b.active = active.state;
    if (active.transition) {
      const t = active.transition;
      this.emit(b, t.to, t.from, t.to, t.reason, t.probe, now);
    }
    const restored = restoreAfterProbe(b.outlier, result, now);
    if (restored.event) {
      b.outlier = restored.state;
      this.onOutlierEvent(b, restored.event, result, now);
    }
  }

  private clearProbeTimer(b: BackendEntry): void {
    if (b.probeTimer) clearTimeout(b.probeTimer);
    b.probeTimer = null;
  }

  // ---- passive ejection ----

  private onOutlierEvent(b: BackendEntry, event: OutlierEvent, probe: ProbeResult | null, now: number): void {
    if (b.restoreTimer) clearTimeout(b.restoreTimer);
    b.restoreTimer = null;
    const activeState = b.active.status;
    if (event.kind === 'ejected') {
      this.scheduleRestore(b, event.until - now);
      this.emit(b, 'ejected', activeState, 'ejected', event.reason, probe, now);
    } else {
      this.emit(b, 'restored', 'ejected', activeState, event.reason, probe, now);
    }
  }

  private scheduleRestore(b: BackendEntry, delayMs: number): void {
    b.restoreTimer = setTimeout(
      () => {
        b.restoreTimer = null;
        if (this.closed || b.retired) return;
        const now = Date.now();
        if (!this.expire(b, now) && isEjected(b.outlier)) this.scheduleRestore(b, b.outlier.ejectedUntil - now);
      },
      Math.max(0, delayMs),
    );
    b.restoreTimer.unref();
  }

  /** Ends an ejection that is due; true when it did. */
  private expire(b: BackendEntry, now: number): boolean {
    const out = expireEjection(b.outlier, now);
    if (!out.event) return false;
    b.outlier = out.state;
    this.onOutlierEvent(b, out.event, null, now);
    return true;
  }

  // ---- telling ----

  private healthOf(b: BackendEntry): BackendHealth {
    return { up: !b.checked || b.active.status === 'up', ejectedUntil: b.outlier.ejectedUntil };
  }

  private emit(
    b: BackendEntry,
    kind: TransitionKind,
    from: string,
    to: string,
    reason: string,
    probe: ProbeResult | null,
    now: number,
  ): void {
    b.transitions++;
    b.history.push({ at: new Date(now).toISOString(), kind, from, to, reason });
    if (b.history.length > HISTORY) b.history.shift();
    const health = this.healthOf(b);
    const fields = { route: b.route, backend: b.endpoint, from, to, reason, probe, ejectedUntil: health.ejectedUntil };
    if (kind === 'down' || kind === 'ejected') this.logger.warn(fields, `backend ${kind}`);
    else this.logger.info(fields, `backend ${kind}`);
    try {
      this.onTransition({ kind, route: b.route, endpoint: b.endpoint, health, from, to, reason, probe, at: now });
    } catch (error) {
      this.logger.error({ err: error, route: b.route, backend: b.endpoint }, 'health transition handler failed');
    }
  }
}

function jittered(intervalMs: number): number {
  return Math.round(intervalMs * (1 - JITTER + Math.random() * 2 * JITTER));
}

/** `/api` + `/healthz` → `/api/healthz`; `/` + `/healthz` → `/healthz`. */
export function joinPath(basePath: string, path: string): string {
  const base = basePath.endsWith('/') ? basePath.slice(0, -1) : basePath;
  const tail = path.startsWith('/') ? path : `/${path}`;
  return base + tail;
}
