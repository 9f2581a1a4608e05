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
import {
  assertOneSharedBucket,
  assertStoreBack,
  assertStoreFallback,
  type OkBackend,
  type RateLimitGateway,
  STORE_DOWN,
  startOkBackend,
  startRateLimitGateway,
} from '../support/rate-limit.ts';
import { type RedisServer, startRedis } from '../support/redis.ts';
import { missingPackage } from '../support/services.ts';

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
    await assertOneSharedBucket(a, b);
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
      const line = await assertStoreFallback(c, impostor.port);
      assert.match(String(line.error), /certificate|self.signed|issuer/i);
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
      // The new connection trusts the rotated CA.
      await assertStoreBack(c);
    });
  });
});
