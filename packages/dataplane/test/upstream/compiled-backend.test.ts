// A compiled backend's forwarding options, built once per generation: the three variants a request
// picks from differ only where the request does, and share the target and the agent.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { Generation, HealthTable } from '../../src/generation.ts';
import { backendKey, type Snapshot } from '../../src/messages.ts';
import { NO_BODY } from '../../src/upstream/compiled-backend.ts';
import { UpstreamPool } from '../../src/upstream/pool.ts';
import { backend, gatewayConfig, route } from '../fixtures.ts';

function snapshot(): Snapshot {
  return {
    generation: 1,
    config: gatewayConfig([
      route({ name: 'plain', path: '/plain', backends: [backend('http://127.0.0.1:9001/base')] }),
      route({ name: 'tls', path: '/tls', backends: [backend('https://[::1]:443')] }),
    ]),
    tls: { certificates: [], clientCA: null, crl: null, ticketKeys: Buffer.alloc(48, 1).toString('base64') },
    upstreamTls: {
      tls: { ca: null, cert: null, key: null, rejectUnauthorized: false, servername: null, identity: 'insecure' },
    },
    redisTls: null,
    health: {},
  };
}

describe('compiled backend', () => {
  it('builds one set of options per backend: HTTP/1, HTTP/2 and bodiless share target and agent', () => {
    const pool = new UpstreamPool();
    const generation = Generation.build(snapshot(), pool, new HealthTable());
    try {
      const plain = generation.routes[0]?.backends[0];
      assert.ok(plain);
      assert.equal(plain.key, backendKey('plain', 'http://127.0.0.1:9001/base'));
      assert.equal(plain.hostHeader, '127.0.0.1:9001');
      assert.equal(plain.basePath, '/base');
      assert.equal(plain.tls, false);
      assert.deepEqual(plain.proxyOptions.target, {
        protocol: 'http:',
        host: '127.0.0.1',
        hostname: '127.0.0.1',
        port: 9001,
      });
      assert.equal(plain.proxyOptions.secure, true, 'verified unless the route says otherwise');
      assert.equal(plain.proxyOptions.selfHandleResponse, true);
      assert.equal(plain.proxyOptions.buffer, undefined);
      assert.equal(plain.proxyOptionsH2.selfHandleResponse, false, 'HTTP/2 answers through the compat API');
      assert.equal(plain.proxyOptionsNoBody.buffer, NO_BODY);
      for (const options of [plain.proxyOptionsH2, plain.proxyOptionsNoBody]) {
        assert.equal(options.target, plain.proxyOptions.target);
        assert.equal(options.agent, plain.proxyOptions.agent);
      }

      const secure = generation.routes[1]?.backends[0];
      assert.ok(secure);
      assert.equal(secure.hostHeader, '[::1]', 'default port left out, IPv6 in brackets');
      assert.equal(secure.tls, true);
      assert.equal(secure.clientCert, false, 'no client certificate configured');
      assert.equal(secure.proxyOptions.secure, false, "the route's rejectUnauthorized: false");
      assert.notEqual(secure.proxyOptions.agent, plain.proxyOptions.agent);
    } finally {
      generation.close();
      pool.releaseGeneration(generation.number);
    }
  });

  it('NO_BODY ends the upstream request instead of piping a body into it', async () => {
    const upstream = new PassThrough();
    const finished = once(upstream, 'finish');
    assert.equal(NO_BODY.pipe(upstream), upstream);
    await finished;
    assert.equal(upstream.writableEnded, true);
  });
});
