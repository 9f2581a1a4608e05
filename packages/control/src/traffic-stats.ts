// Request rates, error shares and latency percentiles for /status and the status page, computed in
// the primary from the counters the workers already keep. Each worker reports its totals since it
// started (gh:stats); one sample per second is turned into per-second differences here, summed over
// the workers, and kept for five minutes. The workers' hot path only increments numbers. Pure: the
// caller passes the samples and the time.
import { DURATION_BUCKETS, type RouteTrafficSample } from '@gatehouse/dataplane';

/** What one worker reported at one moment. */
export interface WorkerSample {
  pid: number;
  requests: number;
  routes: RouteTrafficSample[];
}

export interface RouteTraffic {
  /** Over the last RATE_WINDOW_MS. */
  requestsPerSecond: number;
  /** Requests in the last minute, and the share of them answered 4xx and 5xx (null without requests). */
  requestsLastMinute: number;
  share4xx: number | null;
  share5xx: number | null;
  /** Request duration percentiles over the last minute, in ms, from the duration histogram. */
  p50Ms: number | null;
  p99Ms: number | null;
}

export interface WorkerTraffic {
  requestsPerSecond: number;
}

export interface TrafficHistory {
  intervalMs: number;
  /** Oldest first; one point per sample interval, for the last HISTORY_MS. */
  points: Array<{ at: number; requestsPerSecond: number; errorRate: number | null }>;
}

/** Rates over a few seconds: steadier than one interval, still current. */
export const RATE_WINDOW_MS = 5_000;
export const PERCENTILE_WINDOW_MS = 60_000;
export const HISTORY_MS = 5 * 60_000;

/** A route's request counts over one interval, summed over the workers. */
interface RouteDelta {
  statusClasses: Float64Array;
  durationBuckets: Float64Array;
}

interface Interval {
  at: number;
  ms: number;
  /** Emptied once older than PERCENTILE_WINDOW_MS. */
  routes: Map<string, RouteDelta>;
  requests: number;
  errors5xx: number;
}

interface WorkerState {
  at: number;
  sample: WorkerSample;
  traffic: WorkerTraffic | null;
}

/**
 * The `q` quantile (0..1) of a histogram with upper `bounds` (seconds) and per-bucket `counts` (the
 * last one above every bound), as Prometheus' histogram_quantile computes it: linear within the
 * bucket. Null without observations. Above the last bound it answers the last bound.
 */
export function histogramQuantile(q: number, bounds: readonly number[], counts: ArrayLike<number>): number | null {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i]!;
  if (total === 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const inBucket = counts[i]!;
    if (seen + inBucket >= rank && inBucket > 0) {
      if (i >= bounds.length) return bounds[bounds.length - 1]!;
      const lower = i === 0 ? 0 : bounds[i - 1]!;
      const upper = bounds[i]!;
      return lower + (upper - lower) * ((rank - seen) / inBucket);
    }
    seen += inBucket;
  }
  return bounds[bounds.length - 1]!;
}

function delta(now: ArrayLike<number>, before: ArrayLike<number> | undefined): Float64Array {
  const out = new Float64Array(now.length);
  for (let i = 0; i < now.length; i++) out[i] = Math.max(0, now[i]! - (before?.[i] ?? 0));
  return out;
}

function addInto(target: Float64Array, source: Float64Array): void {
  for (let i = 0; i < target.length && i < source.length; i++) target[i]! += source[i]!;
}

export class TrafficStats {
  private readonly workers = new Map<number, WorkerState>();
  private readonly intervals: Interval[] = [];
  private readonly bounds: readonly number[];

  constructor(bounds: readonly number[] = DURATION_BUCKETS) {
    this.bounds = bounds;
  }

  /**
   * One round of worker samples taken at `at`. A worker seen for the first time only sets its
   * baseline; a worker missing from the round is forgotten (it exited or is being replaced).
   */
  record(at: number, samples: WorkerSample[]): void {
    const routes = new Map<string, RouteDelta>();
    let requests = 0;
    let errors5xx = 0;
    let ms = 0;
    const present = new Set<number>();
    for (const sample of samples) {
      present.add(sample.pid);
      const previous = this.workers.get(sample.pid);
      if (previous === undefined || sample.requests < previous.sample.requests || at <= previous.at) {
        this.workers.set(sample.pid, { at, sample, traffic: null });
        continue;
      }
      const elapsed = at - previous.at;
      ms = Math.max(ms, elapsed);
      const before = new Map(previous.sample.routes.map((r) => [r.route, r]));
      for (const route of sample.routes) {
        const old = before.get(route.route);
        const classes = delta(route.statusClasses, old?.statusClasses);
        const buckets = delta(route.durationBuckets, old?.durationBuckets);
        let entry = routes.get(route.route);
        if (entry === undefined) {
          entry = {
            statusClasses: new Float64Array(classes.length),
            durationBuckets: new Float64Array(buckets.length),
          };
          routes.set(route.route, entry);
        }
        addInto(entry.statusClasses, classes);
        addInto(entry.durationBuckets, buckets);
        for (const n of classes) requests += n;
        errors5xx += classes[5] ?? 0;
      }
      this.workers.set(sample.pid, {
        at,
        sample,
        traffic: {
          requestsPerSecond: (Math.max(0, sample.requests - previous.sample.requests) * 1000) / elapsed,
        },
      });
    }
    for (const pid of this.workers.keys()) if (!present.has(pid)) this.workers.delete(pid);
    if (ms > 0) this.intervals.push({ at, ms, routes, requests, errors5xx });
    while (this.intervals.length > 0 && this.intervals[0]!.at <= at - HISTORY_MS) this.intervals.shift();
    // Per-route detail is read for a minute at most; the history beyond needs only the totals.
    for (let i = this.intervals.length - 1; i >= 0; i--) {
      const interval = this.intervals[i]!;
      if (interval.at > at - PERCENTILE_WINDOW_MS) continue;
      if (interval.routes.size === 0) break;
      interval.routes = new Map();
    }
  }

  /** The intervals that end within `windowMs` of the latest one. */
  private recent(windowMs: number): Interval[] {
    const last = this.intervals[this.intervals.length - 1];
    if (last === undefined) return [];
    const from = last.at - windowMs;
    return this.intervals.filter((i) => i.at > from);
  }

  route(name: string): RouteTraffic {
    let rateRequests = 0;
    let rateMs = 0;
    for (const interval of this.recent(RATE_WINDOW_MS)) {
      rateMs += interval.ms;
      const classes = interval.routes.get(name)?.statusClasses;
      if (classes) for (const n of classes) rateRequests += n;
    }
    const classes = new Float64Array(6);
    const buckets = new Float64Array(this.bounds.length + 1);
    for (const interval of this.recent(PERCENTILE_WINDOW_MS)) {
      const entry = interval.routes.get(name);
      if (!entry) continue;
      addInto(classes, entry.statusClasses);
      addInto(buckets, entry.durationBuckets);
    }
    let total = 0;
    for (const n of classes) total += n;
    const ms = (q: number) => {
      const seconds = histogramQuantile(q, this.bounds, buckets);
      return seconds === null ? null : seconds * 1000;
    };
    return {
      requestsPerSecond: rateMs > 0 ? (rateRequests * 1000) / rateMs : 0,
      requestsLastMinute: total,
      share4xx: total > 0 ? classes[4]! / total : null,
      share5xx: total > 0 ? classes[5]! / total : null,
      p50Ms: ms(0.5),
      p99Ms: ms(0.99),
    };
  }

  /** Null until the worker has been sampled twice. */
  worker(pid: number): WorkerTraffic | null {
    return this.workers.get(pid)?.traffic ?? null;
  }

  history(): TrafficHistory {
    const intervalMs = this.intervals.length > 0 ? Math.round(this.intervals[this.intervals.length - 1]!.ms) : 1000;
    return {
      intervalMs,
      points: this.intervals.map((i) => ({
        at: i.at,
        requestsPerSecond: (i.requests * 1000) / i.ms,
        errorRate: i.requests > 0 ? i.errors5xx / i.requests : null,
      })),
    };
  }
}
