import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LocalHistogram, methodIndex, promClient, routeMetricsFor } from '../src/metrics.ts';

describe('metrics', () => {
  it('a local histogram exports cumulative buckets, sum and count like prom-client', async () => {
    const h = new LocalHistogram('test_local_histogram_seconds', 'test', [0.1, 1]);
    const s = h.child({ route: 'api' });
    for (const v of [0.05, 0.1, 0.5, 2]) s.observe(v);
    const text = await promClient.register.getSingleMetricAsString('test_local_histogram_seconds');
    assert.match(text, /# TYPE test_local_histogram_seconds histogram/);
    assert.match(text, /test_local_histogram_seconds_bucket\{le="0.1",route="api"\} 2/);
    assert.match(text, /test_local_histogram_seconds_bucket\{le="1",route="api"\} 3/);
    assert.match(text, /test_local_histogram_seconds_bucket\{le="\+Inf",route="api"\} 4/);
    assert.match(text, /test_local_histogram_seconds_sum\{route="api"\} 2.65/);
    assert.match(text, /test_local_histogram_seconds_count\{route="api"\} 4/);
    assert.equal(h.child({ route: 'api' }), s, 'a series is resolved once');
  });

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
});
