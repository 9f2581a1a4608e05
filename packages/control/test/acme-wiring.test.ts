// The ACME manager's module is imported only when a config asks for certificates. When that import
// fails, nothing is ordered: the failure is logged and counted, no manager answers for the names,
// and the next apply (a reload) tries the import again.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AcmeProviderConfig, GatewayConfig } from '@gatehouse/config';
import pino from 'pino';
import { AcmeWiring } from '../src/acme-wiring.ts';
import { createPrimaryMetrics } from '../src/metrics.ts';
import { config, route, snapshot } from './snapshot-fixtures.ts';

function acmeSnapshot(generation: number) {
  const provider = { name: 'pebble', names: ['a.acme.test'] } as unknown as AcmeProviderConfig;
  const certManager = { defaultProvider: 'pebble', providers: [provider] } as GatewayConfig['certManager'];
  return snapshot(generation, { ...config([route('r', ['http://127.0.0.1:1'])]), certManager });
}

describe('AcmeWiring when the manager cannot be loaded', () => {
  it('logs and counts a failed order, manages nothing, and tries again on the next apply', async () => {
    const metrics = createPrimaryMetrics();
    const logged: string[] = [];
    const logger = pino({ level: 'error' }, { write: (line: string) => logged.push(line) });
    let attempts = 0;
    const wiring = new AcmeWiring({
      logger: () => logger,
      metrics: () => metrics,
      workers: () => [],
      reload: async () => ({ accepted: true }),
      loadManager: async () => {
        attempts++;
        throw new Error('module not found');
      },
    });
    const failures = async () =>
      (await metrics.scrape()).body
        .split('\n')
        .find((l) => l.startsWith('gatehouse_acme_orders_total{provider="pebble",result="failure"}'));
    wiring.apply(acmeSnapshot(1));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(attempts, 1);
    assert.equal(await failures(), 'gatehouse_acme_orders_total{provider="pebble",result="failure"} 1');
    assert.equal(logged.length, 1);
    assert.match(logged[0] ?? '', /the ACME manager could not be loaded; no certificate is ordered/);
    assert.equal(wiring.nextAttempt('pebble', 'a.acme.test'), null);
    wiring.apply(acmeSnapshot(2));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(attempts, 2);
    assert.equal(await failures(), 'gatehouse_acme_orders_total{provider="pebble",result="failure"} 2');
    wiring.stop();
  });
});
