import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import client from 'prom-client';
import { LocalHistogram } from '../src/local-histogram.ts';

describe('local histogram', () => {
  it('exports cumulative buckets, sum and count like prom-client', async () => {
    const h = new LocalHistogram('test_local_histogram_seconds', 'test', [0.1, 1]);
    const s = h.child({ route: 'api' });
    for (const v of [0.05, 0.1, 0.5, 2]) s.observe(v);
    const text = await client.register.getSingleMetricAsString('test_local_histogram_seconds');
    assert.match(text, /# TYPE test_local_histogram_seconds histogram/);
    assert.match(text, /test_local_histogram_seconds_bucket\{le="0.1",route="api"\} 2/);
    assert.match(text, /test_local_histogram_seconds_bucket\{le="1",route="api"\} 3/);
    assert.match(text, /test_local_histogram_seconds_bucket\{le="\+Inf",route="api"\} 4/);
    assert.match(text, /test_local_histogram_seconds_sum\{route="api"\} 2.65/);
    assert.match(text, /test_local_histogram_seconds_count\{route="api"\} 4/);
    assert.equal(h.child({ route: 'api' }), s, 'a series is resolved once');
  });
});
