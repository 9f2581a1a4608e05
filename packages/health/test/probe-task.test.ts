// The probe task called directly (in this thread), against real loopback servers.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type CaHandle, createCa, issueCertificate, type LeafHandle } from '@gatehouse/pki';
import probe, { DEFAULT_PROBE_TIMEOUT_MS, type ProbeTask } from '../src/probe-task.ts';
import { type Backend, startBackend } from './helpers.ts';

function task(backend: Backend, overrides: Partial<ProbeTask> = {}): ProbeTask {
  const url = new URL(backend.endpoint);
  return {
    protocol: url.protocol as 'http:' | 'https:',
    hostname: url.hostname,
    port: backend.port,
    path: '/healthz',
    timeoutMs: 500,
    healthyStatuses: [],
    tls: null,
    ...overrides,
  };
}

describe('plain http', () => {
  let backend: Backend;
  before(async () => {
    backend = await startBackend();
  });
  after(() => backend.stop());

  test('a healthy answer is ok, with status and latency', async () => {
    backend.mode = 204;
    const before = Date.now();
    const r = await probe(task(backend));
    assert.equal(r.ok, true);
    assert.equal(r.status, 204);
    assert.equal(r.error, null);
    assert.ok(r.latencyMs !== null && r.latencyMs >= 0);
    assert.ok(r.at >= before && r.at <= Date.now());
  });

  test('an unhealthy status fails, saying which statuses are healthy', async () => {
    backend.mode = 503;
    const r = await probe(task(backend));
    assert.equal(r.ok, false);
    assert.equal(r.status, 503);
    assert.equal(r.error, 'status 503 is not healthy (healthy: 100-399)');
  });

  test('healthyStatuses ranges are applied', async () => {
    backend.mode = 302;
    const r = await probe(task(backend, { healthyStatuses: [[200, 299]] }));
    assert.equal(r.ok, false);
    assert.equal(r.error, 'status 302 is not healthy (healthy: 200-299)');
    backend.mode = 418;
    const teapot = await probe(task(backend, { healthyStatuses: [[418, 418]] }));
    assert.equal(teapot.ok, true);
  });

  test('every probe uses a fresh connection that is closed after', async () => {
    backend.mode = 200;
    const connections: number[] = [];
    const onConnection = () => connections.push(1);
    backend.server.on('connection', onConnection);
    await probe(task(backend));
    await probe(task(backend));
    backend.server.off('connection', onConnection);
    assert.equal(connections.length, 2);
    const open = await new Promise<number>((resolve) => backend.server.getConnections((_e, n) => resolve(n)));
    assert.equal(open, 0);
  });
});

describe('failures in words', () => {
  test('connection refused', async () => {
    const backend = await startBackend();
    await backend.stop();
    const r = await probe(task(backend));
    assert.deepEqual([r.ok, r.status, r.error], [false, null, 'connection refused']);
  });

  test('a backend that never answers fails by timeout', async () => {
    const backend = await startBackend({ mode: 'hang' });
    try {
      const started = Date.now();
      const r = await probe(task(backend, { timeoutMs: 300 }));
      const took = Date.now() - started;
      assert.deepEqual([r.ok, r.error], [false, 'timeout after 300 ms']);
      assert.ok(took >= 290, `returned after ${took} ms`);
      assert.equal(backend.probes, 1, 'the request did reach the backend');
    } finally {
      await backend.stop();
    }
  });

  test('the documented default timeout is 5 s', () => {
    assert.equal(DEFAULT_PROBE_TIMEOUT_MS, 5000);
  });

  test('bad TLS settings fail the probe instead of throwing', async () => {
    const r = await probe({
      protocol: 'https:',
      hostname: '127.0.0.1',
      port: 1,
      path: '/',
      timeoutMs: 300,
      healthyStatuses: [],
      tls: { ca: null, cert: 'not a pem', key: 'not a pem', servername: null, rejectUnauthorized: true },
    });
    assert.equal(r.ok, false);
    assert.match(r.error ?? '', /^probe could not start: /);
  });

  test('https to a plain http port', async () => {
    const backend = await startBackend();
    try {
      const r = await probe(task(backend, { protocol: 'https:' }));
      assert.equal(r.ok, false);
      assert.equal(r.error, 'TLS handshake failed: the backend does not speak TLS on this port');
    } finally {
      await backend.stop();
    }
  });
});

describe('https and mutual TLS', () => {
  let dir: string;
  let ca: CaHandle;
  let otherCa: CaHandle;
  let client: LeafHandle;
  let strangerClient: LeafHandle;
  let mtls: Backend;
  let expired: Backend;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-health-probe-'));
    ca = await createCa(dir, { name: 'ca' });
    otherCa = await createCa(dir, { name: 'other-ca' });
    const server = await issueCertificate(ca, {
      name: 'backend',
      cn: 'backend.test',
      dns: ['backend.test'],
      ips: ['127.0.0.1'],
      usage: 'server',
    });
    const old = await issueCertificate(ca, {
      name: 'expired',
      cn: 'expired.test',
      ips: ['127.0.0.1'],
      usage: 'server',
      notBefore: new Date(Date.now() - 10 * 86_400_000),
      notAfter: new Date(Date.now() - 86_400_000),
    });
    client = await issueCertificate(ca, { name: 'client', cn: 'gatehouse', usage: 'client' });
    strangerClient = await issueCertificate(otherCa, { name: 'stranger', cn: 'stranger', usage: 'client' });
    mtls = await startBackend({
      tls: { cert: server.certPem, key: server.keyPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: true },
    });
    expired = await startBackend({ tls: { cert: old.certPem, key: old.keyPem } });
  });
  after(async () => {
    await mtls?.stop();
    await expired?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const tlsWith = (over: Partial<NonNullable<ProbeTask['tls']>> = {}) => ({
    ca: ca.certPem,
    cert: client.certPem,
    key: client.keyPem,
    servername: null,
    rejectUnauthorized: true,
    ...over,
  });

  test('passes with the route client certificate', async () => {
    const r = await probe(task(mtls, { tls: tlsWith() }));
    assert.equal(r.error, null);
    assert.equal(r.ok, true);
    assert.equal(mtls.probes, 1);
  });

  test('fails without a client certificate, and the request never reaches the backend', async () => {
    const r = await probe(task(mtls, { tls: tlsWith({ cert: null, key: null }) }));
    assert.equal(r.ok, false);
    assert.match(r.error ?? '', /client certificate|connection (reset|closed)/);
    assert.equal(mtls.probes, 1);
  });

  test('fails with a client certificate from a CA the backend does not trust', async () => {
    const r = await probe(task(mtls, { tls: tlsWith({ cert: strangerClient.certPem, key: strangerClient.keyPem }) }));
    assert.equal(r.ok, false);
    assert.match(r.error ?? '', /client certificate|connection (reset|closed)/);
  });

  test('verifies the backend: untrusted CA, wrong name, expired', async () => {
    const untrusted = await probe(task(mtls, { tls: tlsWith({ ca: otherCa.certPem }) }));
    assert.equal(untrusted.ok, false);
    assert.match(untrusted.error ?? '', /^upstream certificate not trusted \(/);

    const wrongName = await probe(task(mtls, { tls: tlsWith({ servername: 'elsewhere.test' }) }));
    assert.equal(wrongName.ok, false);
    assert.equal(wrongName.error, 'upstream certificate does not match elsewhere.test');

    const old = await probe(task(expired, { tls: tlsWith() }));
    assert.equal(old.ok, false);
    assert.equal(old.error, 'upstream certificate expired');
  });

  test('servername selects the name that is verified', async () => {
    const r = await probe(task(mtls, { tls: tlsWith({ servername: 'backend.test' }) }));
    assert.equal(r.ok, true, r.error ?? '');
  });

  test('rejectUnauthorized: false accepts what it cannot verify', async () => {
    const r = await probe(task(expired, { tls: tlsWith({ ca: null, rejectUnauthorized: false }) }));
    assert.equal(r.ok, true, r.error ?? '');
  });
});
