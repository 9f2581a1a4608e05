// Rate limits shared through a Redis that speaks TLS only and wants a client certificate, through
// the real `gatehouse run` (two instances, two workers each), with certificates made at test time.
// A Redis whose certificate does not chain to `clientCa` is unreachable: the rule's onStoreError
// applies, logged and counted as for a Redis that is down, and a rotated `clientCa` file reaches
// the workers on reload. Counts are asserted, never timings (a unit of an hour: no refill).
import assert from 'node:assert/strict';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type CaHandle, createCa, issueCertificate, type LeafHandle } from '@gatehouse/pki';
import { tempDir } from '../support/gateway.ts';
import { get } from '../support/http.ts';
import {
  allowed,
  type OkBackend,
  type RateLimitGateway,
  startOkBackend,
  startRateLimitGateway,
  statuses,
} from '../support/rate-limit.ts';
import { type RedisServer, startRedis } from '../support/redis.ts';
import { missingPackage } from '../support/services.ts';

const STORE_DOWN = 'rate-limit store unreachable';

describe('rate limits shared through Redis over TLS', { skip: missingPackage('redis-server', 'redis-server') }, () => {
  let dir: string;
  let backend: OkBackend;
  let ca: CaHandle;
  let rogue: CaHandle;
  let client: LeafHandle;
  let redis: RedisServer;
  /** Serves a certificate of `rogue`, which the gateways' clientCa does not hold. */
  let impostor: RedisServer;
  let a: RateLimitGateway;
  let b: RateLimitGateway;

  /** `gateway.redis` with Goma's tls keys, watched so that a rotated file is reloaded. */
  const redisBlock = (port: number, clientCa: string) => `  watch: { enabled: true, debounce: 100ms, pollInterval: 1s }
  redis:
    addr: "127.0.0.1:${port}"
    tls:
      clientCa: ${clientCa}
      clientCert: ${client.certPath}
      clientKey: ${client.keyPath}`;

  before(async () => {
    dir = tempDir('gh-redis-tls-');
    backend = await startOkBackend();
    [ca, rogue] = await Promise.all([
      createCa(dir, { name: 'redis-ca', cn: 'Redis Test CA' }),
      createCa(dir, { name: 'rogue-ca', cn: 'Rogue CA' }),
    ]);
    const local = { cn: 'localhost', dns: ['localhost'], ips: ['127.0.0.1'], usage: 'server' as const };
    const [server, rogueServer, gatewayClient] = await Promise.all([
      issueCertificate(ca, { name: 'redis', ...local }),
      issueCertificate(rogue, { name: 'impostor', ...local }),
      issueCertificate(ca, { name: 'gatehouse', cn: 'gatehouse', usage: 'client' }),
    ]);
    client = gatewayClient;
    [redis, impostor] = await Promise.all([
      startRedis({ certFile: server.fullchainPath, keyFile: server.keyPath, clientCaFile: ca.certPath }),
      startRedis({ certFile: rogueServer.fullchainPath, keyFile: rogueServer.keyPath, clientCaFile: ca.certPath }),
    ]);
    a = await startRateLimitGateway(2, backend.port, redisBlock(redis.port, ca.certPath));
    b = await startRateLimitGateway(2, backend.port, redisBlock(redis.port, ca.certPath));
  });
  after(async () => {
    await Promise.all([a?.gw.stop(), b?.gw.stop()]);
    await Promise.all([redis?.stop(), impostor?.stop()]);
    backend?.server.close();
  });

  it('holds one limit across both instances', async () => {
    const list: number[] = [];
    for (let i = 0; i < 30; i++) list.push((await get(i % 2 === 0 ? a.port : b.port, '/shared-local')).status);
    assert.equal(allowed(list), 20, JSON.stringify(list));
    assert.ok(
      list.every((s) => s === 200 || s === 429),
      JSON.stringify(list),
    );
    for (let i = 0; i < 10; i++) assert.equal((await get(i % 2 === 0 ? a.port : b.port, '/shared-deny')).status, 200);
    for (const g of [a, b]) {
      assert.equal(g.gw.lines.filter((l) => String(l.msg).startsWith(STORE_DOWN)).length, 0, 'Redis was reachable');
    }
  });

  describe('a Redis whose certificate does not chain to clientCa', () => {
    let c: RateLimitGateway;
    let clientCa: string;
    before(async () => {
      // A copy of the CA, so that rotating it changes this instance alone.
      clientCa = join(dir, 'instance-c-redis-ca.pem');
      writeFileSync(clientCa, ca.certPem);
      c = await startRateLimitGateway(2, backend.port, redisBlock(impostor.port, clientCa));
    });
    after(async () => {
      await c?.gw.stop();
    });

    it('is unreachable: `local` counts per instance, `deny` answers 503, logged and counted once', async () => {
      const local = await statuses(c.port, '/shared-local', 25);
      assert.equal(allowed(local), 20, JSON.stringify(local));
      const deny = await statuses(c.port, '/shared-deny', 5);
      assert.deepEqual(deny, [503, 503, 503, 503, 503]);
      const line = await c.gw.waitForLog((l) => String(l.msg).startsWith(STORE_DOWN));
      assert.equal(line.addr, `127.0.0.1:${impostor.port}`);
      assert.match(String(line.error), /certificate|self.signed|issuer/i);
      assert.equal(c.gw.lines.filter((l) => String(l.msg).startsWith(STORE_DOWN)).length, 1);
      const metrics = await (await fetch(`http://127.0.0.1:${c.admin}/metrics`)).text();
      assert.match(
        metrics,
        new RegExp(`gatehouse_ratelimit_store_fallback\\{addr="127\\.0\\.0\\.1:${impostor.port}"\\} 1`),
      );
    });

    it('becomes reachable once clientCa is rotated to the CA that signed it (new connection on reload)', async () => {
      const mark = c.gw.lines.length;
      writeFileSync(`${clientCa}.tmp`, rogue.certPem);
      renameSync(`${clientCa}.tmp`, clientCa);
      await c.gw.waitForLogAfter(
        mark,
        (l) => l.msg === 'reload accepted',
        30_000,
        'the reload of the rotated clientCa',
      );
      let back = false;
      // Bounded in count: each worker probes again a second after its last failure, or at once on connect.
      for (let i = 0; i < 40 && !back; i++) {
        back = (await get(c.port, '/shared-deny')).status === 200;
        if (!back) await new Promise((r) => setTimeout(r, 250));
      }
      assert.equal(back, true, 'the new connection trusts the rotated CA');
      await c.gw.waitForLog((l) => l.msg === 'rate-limit store reachable again', 20_000);
    });
  });
});
