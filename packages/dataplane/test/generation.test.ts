import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GenerationBuildError } from '../src/errors.ts';
import { Generation, HealthTable } from '../src/generation.ts';
import { backendKey, type Snapshot } from '../src/messages.ts';
import { UpstreamPool } from '../src/upstream/pool.ts';
import { backend, gatewayConfig, route } from './fixtures.ts';

function snapshot(
  generation: number,
  routes = [
    route({
      name: 'api',
      path: '/api',
      backends: [backend('http://127.0.0.1:9001'), backend('http://127.0.0.1:9002')],
    }),
  ],
): Snapshot {
  return {
    generation,
    config: gatewayConfig(routes),
    tls: { certificates: [], clientCA: null, crl: null, ticketKeys: Buffer.alloc(48, 1).toString('base64') },
    upstreamTls: {},
    redisTls: null,
    health: { [backendKey('api', 'http://127.0.0.1:9002')]: { up: false, ejectedUntil: 0 } },
  };
}

describe('generation', () => {
  it('compiles routes, seeds health from the snapshot and shares health and agents across generations', () => {
    const pool = new UpstreamPool();
    const health = new HealthTable();
    const first = Generation.build(snapshot(1), pool, health);
    const api = first.routes[0]!;
    assert.equal(first.router.lookup('h', 'GET', '/api/x'), 0);
    assert.equal(first.sni, null, 'no HTTPS listener, no TLS store');
    // 9002 is down in the snapshot: every pick goes to 9001.
    for (let i = 0; i < 4; i++) assert.equal(api.balancer.pick(Date.now())?.endpoint, 'http://127.0.0.1:9001');

    const second = Generation.build(snapshot(2), pool, health);
    const b1 = first.routes[0]!.balancer.backends[1]!;
    const b2 = second.routes[0]!.balancer.backends[1]!;
    assert.equal(b1.health, b2.health, 'one health record per backend, whatever the generation');
    assert.equal(b1.value.proxyOptions.agent, b2.value.proxyOptions.agent, 'the agent survives the new generation');

    // A gh:health transition is seen by both generations at once, without a rebuild.
    health.apply(backendKey('api', 'http://127.0.0.1:9002'), { up: true, ejectedUntil: 0 });
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) seen.add(second.routes[0]!.balancer.pick(Date.now())?.endpoint ?? '');
    assert.deepEqual([...seen].sort(), ['http://127.0.0.1:9001', 'http://127.0.0.1:9002']);
  });

  it('fails with GenerationBuildError and leaves no agent behind', () => {
    const pool = new UpstreamPool();
    const bad = snapshot(3, [
      route({ name: 'good', path: '/good', backends: [backend('http://127.0.0.1:9003')] }),
      route({ name: 'empty', backends: [] }),
    ]);
    assert.throws(() => Generation.build(bad, pool, new HealthTable()), GenerationBuildError);
    assert.deepEqual(pool.stats(), { agents: 0, draining: 0, busySockets: 0, freeSockets: 0 });
  });

  it('refuses an HTTPS listener without a certificate', () => {
    const s = snapshot(4);
    s.config.gateway.entryPoints.webSecure = { raw: '127.0.0.1:0', host: '127.0.0.1', port: 0 };
    assert.throws(() => Generation.build(s, new UpstreamPool(), new HealthTable()), GenerationBuildError);
  });
});
