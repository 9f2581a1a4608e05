// Passive outlier detection, Envoy style, over the failure signals the workers observe on real
// traffic (connect errors, resets, timeouts, and 5xx when the route asks for it: that filtering is
// the worker's). The primary merges every worker's reports into one stream per backend, so
// "consecutive" means consecutive across all workers. Pure: the scheduler owns timers and I/O.
//
// Rules:
// - `failures` consecutive failures eject the backend for `baseEjectionMs × 2^k`, where k counts
//   the backend's earlier ejections in the current streak; the duration is capped at
//   `MAX_EJECTION_MULTIPLIER × baseEjectionMs` (Envoy: 300 s for the 30 s default).
// - The streak (k) is forgotten when the backend has stayed in rotation for that same cap.
// - At most `maxEjectionPercent` of a route's backends are ejected at once; the ejection that
//   would cross the cap does not happen (so a single-backend route is never ejected at 50 %:
//   ejecting its only backend would turn slow failures into certain 503s; active checks still
//   take it down when it is really dead).
// - A successful active probe that started after the ejection ends it early.
// - Reports that arrive while a backend is ejected are ignored: they come from requests that
//   were already under way.
import type { HealthCheckConfig } from '@gatehouse/config';
import type { ProbeResult } from './state.ts';

export interface OutlierConfig {
  failures: number;
  baseEjectionMs: number;
  maxEjectionPercent: number;
}

/** Used for routes without a `healthCheck` block: passive detection is always on. */
export const DEFAULT_OUTLIER: Readonly<OutlierConfig> = { failures: 5, baseEjectionMs: 30_000, maxEjectionPercent: 50 };

export const MAX_EJECTION_MULTIPLIER = 10;

export function outlierConfigOf(hc: HealthCheckConfig | null): OutlierConfig {
  if (!hc) return { ...DEFAULT_OUTLIER };
  return {
    failures: hc.passiveFailures,
    baseEjectionMs: hc.passiveBaseEjectionMs,
    maxEjectionPercent: hc.passiveMaxEjectionPercent,
  };
}

export interface OutlierState {
  consecutiveFailures: number;
  /** The reason of the latest failure report, for the ejection message. */
  lastFailure: string | null;
  /** Ejected until this epoch ms; 0 = in rotation. */
  ejectedUntil: number;
  ejectedAt: number;
  /** Ejections in the current streak: the next one lasts base × 2^ejections. */
  ejections: number;
  /** Epoch ms at which the last ejection ended; 0 = never ejected. */
  lastRestoredAt: number;
}

export type OutlierEvent =
  | { kind: 'ejected'; until: number; durationMs: number; reason: string }
  | { kind: 'restored'; reason: string };

export interface PassiveSignal {
  ok: boolean;
  reason: string | null;
}

/** The route-wide facts the 50 % cap needs. */
export interface RouteEjections {
  /** Backends of the route that are ejected now, this one excluded. */
  ejectedOthers: number;
  backends: number;
}

export function initialOutlier(): OutlierState {
  return { consecutiveFailures: 0, lastFailure: null, ejectedUntil: 0, ejectedAt: 0, ejections: 0, lastRestoredAt: 0 };
}

export function isEjected(state: OutlierState): boolean {
  return state.ejectedUntil !== 0;
}

/**
 * Folds one worker report into the state. `capped` is true when the failure count reached the
 * threshold but the route's ejection cap kept the backend in rotation.
 */
export function applyPassive(
  state: OutlierState,
  signal: PassiveSignal,
  route: RouteEjections,
  cfg: OutlierConfig,
  now = Date.now(),
): { state: OutlierState; event: OutlierEvent | null; capped: boolean } {
  if (isEjected(state)) return { state, event: null, capped: false };
  if (signal.ok) {
    if (state.consecutiveFailures === 0) return { state, event: null, capped: false };
    return { state: { ...state, consecutiveFailures: 0, lastFailure: null }, event: null, capped: false };
  }
  const failures = state.consecutiveFailures + 1;
  const counted: OutlierState = { ...state, consecutiveFailures: failures, lastFailure: signal.reason };
  if (failures < Math.max(1, cfg.failures)) return { state: counted, event: null, capped: false };
  if (!ejectionAllowed(route, cfg.maxEjectionPercent)) return { state: counted, event: null, capped: true };

  const capMs = cfg.baseEjectionMs * MAX_EJECTION_MULTIPLIER;
  const streakOver = state.lastRestoredAt !== 0 && now - state.lastRestoredAt >= capMs;
  const previous = streakOver ? 0 : state.ejections;
  const durationMs = Math.min(cfg.baseEjectionMs * 2 ** previous, capMs);
  const until = now + durationMs;
  const what = signal.reason ?? 'failure';
  return {
    state: {
      ...counted,
      consecutiveFailures: 0,
      ejectedUntil: until,
      ejectedAt: now,
      ejections: previous + 1,
    },
    event: {
      kind: 'ejected',
      until,
      durationMs,
      reason: `${failures} consecutive failures on live traffic (last: ${what}); ejected for ${durationMs} ms`,
    },
    capped: false,
  };
}

/** Ends an ejection whose time is up. */
export function expireEjection(
  state: OutlierState,
  now = Date.now(),
): { state: OutlierState; event: OutlierEvent | null } {
  if (!isEjected(state) || now < state.ejectedUntil) return { state, event: null };
  const servedMs = state.ejectedUntil - state.ejectedAt;
  return {
    state: { ...state, ejectedUntil: 0, lastRestoredAt: now, consecutiveFailures: 0, lastFailure: null },
    event: { kind: 'restored', reason: `ejection of ${servedMs} ms elapsed` },
  };
}

/** A good active probe that started after the ejection ends it early. */
export function restoreAfterProbe(
  state: OutlierState,
  probe: ProbeResult,
  now = Date.now(),
): { state: OutlierState; event: OutlierEvent | null } {
  if (!isEjected(state) || !probe.ok || probe.at < state.ejectedAt) return { state, event: null };
  return {
    state: { ...state, ejectedUntil: 0, lastRestoredAt: now, consecutiveFailures: 0, lastFailure: null },
    event: { kind: 'restored', reason: 'active probe succeeded during ejection' },
  };
}

/** Whether ejecting one more backend keeps the route at or under `maxPercent` ejected. */
export function ejectionAllowed(route: RouteEjections, maxPercent: number): boolean {
  if (route.backends <= 0) return false;
  return (route.ejectedOthers + 1) * 100 <= maxPercent * route.backends;
}
