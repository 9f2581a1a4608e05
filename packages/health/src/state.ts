// The active-check state machine of one backend, HAProxy style: `fall` consecutive failed probes
// take a backend down, `rise` consecutive good ones bring it back. Pure: the scheduler feeds it
// probe results and acts on the transitions it returns.
//
// A new backend starts `up` so that adding one (or starting the gateway) never takes capacity away
// before anything is known, but it starts *unproven*: until its first good probe, a single failed
// probe takes it down. This is HAProxy's default `init-state up` ("considered immediately available
// and will initiate a health check that can turn it to the DOWN state immediately if it fails"). With the first probe running as soon as the backend is known, a
// backend that is dead at start is out of rotation after one probe, not after `fall` intervals.
import type { HealthCheckConfig } from '@gatehouse/config';

/** What one probe saw. `at` is the epoch ms at which the probe started. */
export interface ProbeResult {
  ok: boolean;
  /** HTTP status, or null when no response arrived. */
  status: number | null;
  /** Time to the response headers; null when no response arrived. */
  latencyMs: number | null;
  /** Why the probe failed, in words (`connection refused`, `timeout after 5000 ms`); null when ok. */
  error: string | null;
  at: number;
}

export type ActiveStatus = 'up' | 'down';

export interface HealthState {
  status: ActiveStatus;
  /** False until the first good probe: one failure is then enough to go down. */
  proven: boolean;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
  lastProbe: ProbeResult | null;
  /** Active transitions so far (up→down and down→up). */
  transitions: number;
  /** Epoch ms of the last change of `status` (or of creation). */
  since: number;
}

export interface Transition {
  from: ActiveStatus;
  to: ActiveStatus;
  reason: string;
  probe: ProbeResult;
}

/** The thresholds the state machine needs: `HealthCheckConfig` fits. */
export type Thresholds = Pick<HealthCheckConfig, 'fall' | 'rise'>;

/** Default healthy statuses: anything that is not an error (Goma treated < 400 as healthy). */
export const DEFAULT_HEALTHY_STATUSES: ReadonlyArray<readonly [number, number]> = [[100, 399]];

export function initialState(_cfg: Thresholds, now = Date.now()): HealthState {
  return {
    status: 'up',
    proven: false,
    consecutiveFailures: 0,
    consecutiveSuccesses: 0,
    lastProbe: null,
    transitions: 0,
    since: now,
  };
}

/** Folds one probe result into the state; `transition` is non-null exactly when `status` changed. */
export function applyProbe(
  state: HealthState,
  result: ProbeResult,
  cfg: Thresholds,
  now = Date.now(),
): { state: HealthState; transition: Transition | null } {
  const fall = Math.max(1, cfg.fall);
  const rise = Math.max(1, cfg.rise);
  if (result.ok) {
    const successes = state.consecutiveSuccesses + 1;
    const next: HealthState = {
      ...state,
      proven: true,
      consecutiveFailures: 0,
      consecutiveSuccesses: successes,
      lastProbe: result,
    };
    if (state.status === 'down' && successes >= rise) {
      const reason = `${successes} consecutive successful ${successes === 1 ? 'probe' : 'probes'}`;
      return {
        state: { ...next, status: 'up', transitions: state.transitions + 1, since: now },
        transition: { from: 'down', to: 'up', reason, probe: result },
      };
    }
    return { state: next, transition: null };
  }

  const failures = state.consecutiveFailures + 1;
  const next: HealthState = {
    ...state,
    consecutiveFailures: failures,
    consecutiveSuccesses: 0,
    lastProbe: result,
  };
  if (state.status === 'up' && (failures >= fall || !state.proven)) {
    const what = result.error ?? 'probe failed';
    const reason = state.proven
      ? `${failures} consecutive failed ${failures === 1 ? 'probe' : 'probes'}: ${what}`
      : `first probe failed: ${what}`;
    return {
      state: { ...next, status: 'down', transitions: state.transitions + 1, since: now },
      transition: { from: 'up', to: 'down', reason, probe: result },
    };
  }
  return { state: next, transition: null };
}

/**
 * Whether `status` falls in one of the inclusive `ranges`. An empty list means the default,
 * anything below 400, so that a config without `healthyStatuses` behaves like Goma.
 */
export function isHealthyStatus(status: number, ranges: ReadonlyArray<readonly [number, number]>): boolean {
  const list = ranges.length === 0 ? DEFAULT_HEALTHY_STATUSES : ranges;
  for (const [low, high] of list) {
    if (status >= low && status <= high) return true;
  }
  return false;
}

/** `[[200, 299], [301, 301]]` → `200-299, 301`: for probe error messages. */
export function describeStatusRanges(ranges: ReadonlyArray<readonly [number, number]>): string {
  const list = ranges.length === 0 ? DEFAULT_HEALTHY_STATUSES : ranges;
  return list.map(([low, high]) => (low === high ? String(low) : `${low}-${high}`)).join(', ');
}
