import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HISTORY_MS, histogramQuantile, TrafficStats, type WorkerSample } from '../src/traffic-stats.ts';

const BOUNDS = [0.001, 0.01, 0.1, 1];

/** A worker's totals: `classes` by status class, `buckets` per duration bucket (BOUNDS + overflow). */
function sample(pid: number, routes: Record<string, { classes: number[]; buckets: number[] }>): WorkerSample {
  const list = Object.entries(routes).map(([route, r]) => ({
    route,
    statusClasses: r.classes,
    durationBuckets: r.buckets,
  }));
  const requests = list.reduce((n, r) => n + r.statusClasses.reduce((a, b) => a + b, 0), 0);
  return { pid, requests, routes: list };
}

describe('histogramQuantile', () => {
  it('interpolates within the bucket, as Prometheus does', () => {
    // 10 observations in (0.001, 0.01]: the median is half-way through that bucket.
    assert.ok(Math.abs(histogramQuantile(0.5, BOUNDS, [0, 10, 0, 0, 0])! - 0.0055) < 1e-12);
    // 90 fast and 10 slow: p50 among the fast, p99 in the slow bucket.
    const counts = [90, 0, 0, 10, 0];
    assert.ok(Math.abs(histogramQuantile(0.5, BOUNDS, counts)! - (0.001 * 50) / 90) < 1e-12);
    assert.ok(Math.abs(histogramQuantile(0.99, BOUNDS, counts)! - (0.1 + 0.9 * 0.9)) < 1e-9);
  });
  it('answers null without observations and the last bound above it', () => {
    assert.equal(histogramQuantile(0.5, BOUNDS, [0, 0, 0, 0, 0]), null);
    assert.equal(histogramQuantile(0.99, BOUNDS, [0, 0, 0, 0, 5]), 1);
  });
});

describe('TrafficStats', () => {
  it('sums per-second differences over the workers into rates, shares and percentiles', () => {
    const stats = new TrafficStats(BOUNDS);
    const t0 = 1_000_000;
    const empty = { classes: [0, 0, 0, 0, 0, 0], buckets: [0, 0, 0, 0, 0] };
    stats.record(t0, [sample(1, { api: empty }), sample(2, { api: empty })]);
    // Before a second sample nothing is known.
    assert.equal(stats.worker(1), null);
    assert.equal(stats.route('api').requestsLastMinute, 0);
    assert.equal(stats.route('api').share4xx, null);

    stats.record(t0 + 1000, [
      sample(1, { api: { classes: [0, 0, 6, 0, 2, 0], buckets: [0, 8, 0, 0, 0] } }),
      sample(2, { api: { classes: [0, 0, 0, 0, 0, 2], buckets: [0, 0, 0, 2, 0] } }),
    ]);
    const api = stats.route('api');
    assert.equal(api.requestsPerSecond, 10);
    assert.equal(api.requestsLastMinute, 10);
    assert.equal(api.share4xx, 0.2);
    assert.equal(api.share5xx, 0.2);
    // 8 of 10 in (1 ms, 10 ms]: the median is inside it; p99 in (100 ms, 1 s].
    assert.ok(api.p50Ms! > 1 && api.p50Ms! <= 10, String(api.p50Ms));
    assert.ok(api.p99Ms! > 100 && api.p99Ms! <= 1000, String(api.p99Ms));
    assert.deepEqual(stats.worker(1), { requestsPerSecond: 8 });
    assert.deepEqual(stats.worker(2), { requestsPerSecond: 2 });
    const history = stats.history();
    assert.equal(history.points.length, 1);
    assert.deepEqual(history.points[0], { at: t0 + 1000, requestsPerSecond: 10, errorRate: 0.2 });
    // A route nobody asked for has no traffic.
    assert.equal(stats.route('other').requestsLastMinute, 0);
  });

  it('takes a respawned worker (new pid) as a new baseline, and forgets one that is gone', () => {
    const stats = new TrafficStats(BOUNDS);
    const t0 = 5_000_000;
    const counts = (n: number) => ({ api: { classes: [0, 0, n, 0, 0, 0], buckets: [n, 0, 0, 0, 0] } });
    stats.record(t0, [sample(1, counts(100)), sample(2, counts(100))]);
    stats.record(t0 + 1000, [sample(1, counts(110)), sample(2, counts(110))]);
    assert.equal(stats.route('api').requestsPerSecond, 20);
    // Worker 2 died; worker 3 started with its own totals, which are not a second's traffic.
    stats.record(t0 + 2000, [sample(1, counts(120)), sample(3, counts(500))]);
    assert.equal(stats.worker(2), null);
    assert.equal(stats.worker(3), null);
    assert.equal(stats.history().points.at(-1)?.requestsPerSecond, 10);
    stats.record(t0 + 3000, [sample(1, counts(130)), sample(3, counts(505))]);
    assert.deepEqual(stats.worker(3), { requestsPerSecond: 5 });
  });

  it('keeps five minutes of history and a minute for shares', () => {
    const stats = new TrafficStats(BOUNDS);
    const t0 = 9_000_000;
    let total = 0;
    for (let second = 0; second <= 400; second++) {
      // One 5xx a second for the first 100 s, then only 2xx.
      total += 1;
      const errors = Math.min(second, 100);
      stats.record(t0 + second * 1000, [
        sample(1, { api: { classes: [0, 0, total - errors, 0, 0, errors], buckets: [total, 0, 0, 0, 0] } }),
      ]);
    }
    const points = stats.history().points;
    assert.equal(points.length, HISTORY_MS / 1000);
    assert.ok(points[0]!.at > t0 + 400_000 - HISTORY_MS);
    assert.equal(stats.route('api').share5xx, 0);
    assert.equal(stats.route('api').requestsLastMinute, 60);
  });
});
