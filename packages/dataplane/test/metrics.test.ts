import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DURATION_BUCKETS, methodIndex, promClient, routeMetricsFor, routeTrafficSamples } from '../src/metrics.ts';

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
    const sample = routeTrafficSamples().find((s) => s.route === 'traffic-test');
    assert.deepEqual(sample?.statusClasses, [0, 0, 1, 0, 2, 1]);
    assert.equal(sample?.durationBuckets.length, DURATION_BUCKETS.length + 1);
    assert.equal(sample?.durationBuckets[0], 1);
    assert.equal(sample?.durationBuckets[DURATION_BUCKETS.indexOf(0.5)], 1);
  });
});
