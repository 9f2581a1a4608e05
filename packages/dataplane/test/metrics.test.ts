import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { countServed, DURATION_BUCKETS, methodIndex, promClient, routeMetricsFor, statsReply } from '../src/metrics.ts';

describe('metrics', () => {
  it('request counts are plain increments, folded into the counter at scrape time', async () => {
    const rm = routeMetricsFor('metrics-test');
    for (let i = 0; i < 3; i++) rm.countRequest(methodIndex('GET'), 200);
    rm.countRequest(methodIndex('BREW'), 418);
    const first = await promClient.register.getSingleMetricAsString('gatehouse_requests_total');
    assert.match(first, /gatehouse_requests_total\{route="metrics-test",method="GET",code="200"\} 3/);
    assert.match(first, /gatehouse_requests_total\{route="metrics-test",method="OTHER",code="418"\} 1/);
    rm.countRequest(methodIndex('GET'), 200);
    const second = await promClient.register.getSingleMetricAsString('gatehouse_requests_total');
    assert.match(second, /gatehouse_requests_total\{route="metrics-test",method="GET",code="200"\} 4/);
  });

  it('keeps per-route totals by status class and duration bucket for gh:stats, untouched by scrapes', async () => {
    const rm = routeMetricsFor('traffic-test');
    rm.countRequest(methodIndex('GET'), 200);
    rm.countRequest(methodIndex('GET'), 404);
    rm.countRequest(methodIndex('POST'), 503);
    rm.countRequest(methodIndex('GET'), 499);
    rm.duration.observe(0.0002);
    rm.duration.observe(0.3);
    await promClient.register.getSingleMetricAsString('gatehouse_requests_total');
    const sample = statsReply(1, 1, Date.now(), 0).routes.find((s) => s.route === 'traffic-test');
    assert.deepEqual(sample?.statusClasses, [0, 0, 1, 0, 2, 1]);
    assert.equal(sample?.durationBuckets.length, DURATION_BUCKETS.length + 1);
    assert.equal(sample?.durationBuckets[0], 1);
    assert.equal(sample?.durationBuckets[DURATION_BUCKETS.indexOf(0.5)], 1);
  });

  it('answers gh:stats with the runtime figures, the requests served and the process figures', () => {
    const startedAt = Date.now() - 2_000;
    const before = statsReply(7, 3, startedAt, 5);
    countServed();
    const after = statsReply(8, 3, startedAt, 5);
    assert.deepEqual(
      [after.type, after.id, after.pid, after.generation, after.activeConnections],
      ['gh:stats', 8, process.pid, 3, 5],
    );
    assert.equal(after.requests, before.requests + 1);
    assert.ok(after.uptimeSeconds >= 2);
    assert.ok(after.rssBytes > 0 && after.heapUsedBytes > 0);
    assert.ok(after.eventLoopUtilization >= 0 && after.eventLoopUtilization <= 1);
  });

  it('gives the scrape and gh:stats each the event-loop utilisation since its own previous read', async () => {
    const gauge = promClient.register.getSingleMetric('gatehouse_worker_event_loop_utilization');
    assert.ok(gauge !== undefined);
    const scraped = async () => (await gauge.get()).values[0]?.value ?? -1;
    // Node measures nothing before the event loop's first turn, which a test file's first tests precede.
    await sleep(1);
    await scraped();
    statsReply(1, 1, Date.now(), 0);
    // Busy for 200 ms, then one reader reads, then the loop idles briefly: the other reader's window
    // still holds the busy time (with one shared baseline it would see only the idle stretch).
    busyFor(200);
    assert.ok((await scraped()) > 0.5);
    await sleep(20);
    assert.ok(statsReply(2, 1, Date.now(), 0).eventLoopUtilization > 0.5);
    busyFor(200);
    assert.ok(statsReply(3, 1, Date.now(), 0).eventLoopUtilization > 0.5);
    await sleep(20);
    assert.ok((await scraped()) > 0.5);
  });
});

function busyFor(ms: number): void {
  const end = performance.now() + ms;
  let spins = 0;
  while (performance.now() < end) spins++;
  assert.ok(spins > 0);
}
