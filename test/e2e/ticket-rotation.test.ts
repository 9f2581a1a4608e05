// Session-ticket rotation on its timer, through `gatehouse run` with 2 workers:
// the primary rotates the keys and keeps the previous one decrypting, so a ticket from before a
// rotation still resumes (TLS 1.2 and 1.3) and one from two rotations back gets a full handshake;
// a session issued after a rotation resumes on both workers, which share the keys.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type tls from 'node:tls';
import { type CaHandle, createCa, issueCertificate } from '@gatehouse/pki';
import { type GatewayProcess, startGateway, tempDir, writeConfig } from '../support/gateway.ts';
import { gatewayHead } from '../support/gateway-config.ts';
import { tlsVisit } from '../support/tls-session.ts';

let gateway: GatewayProcess;
let backend: ReturnType<typeof createServer>;
let ca: CaHandle;
let port = 0;

before(async () => {
  const dir = tempDir('gatehouse-tickets-');
  ca = await createCa(join(dir, 'pki'), { name: 'ca' });
  const leaf = await issueCertificate(ca, { name: 'server', cn: 'localhost', dns: ['localhost'], usage: 'server' });
  backend = createServer((req, res) => {
    req.resume();
    res.end(`${process.pid}`);
  });
  backend.listen(0, '127.0.0.1');
  await once(backend, 'listening');
  const head = await gatewayHead({ tls: { cert: leaf.fullchainPath, key: leaf.keyPath }, admin: false });
  port = head.webSecurePort;
  const config = writeConfig(
    dir,
    `${head.text}    sessionTicketRotation: 3s
routes:
  - name: all
    path: /
    target: http://127.0.0.1:${(backend.address() as AddressInfo).port}
`,
  );
  gateway = await startGateway(config, { workers: 2 });
});

after(async () => {
  await gateway?.stop();
  backend?.close();
});

/** One TLS connection and one request; resolves with whether the session was resumed, the status line and the newest ticket. */
async function visit(
  session: Buffer | undefined,
  path: string,
  version: tls.SecureVersion = 'TLSv1.2',
): Promise<{ reused: boolean; status: string; session: Buffer }> {
  const visit = await tlsVisit({
    port,
    servername: 'localhost',
    ca: ca.certPem,
    version,
    session,
    alpn: ['http/1.1'],
    send: `GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`,
  });
  return {
    reused: visit.reused,
    status: visit.answer.split('\r\n', 1)[0] ?? '',
    session: visit.session ?? Buffer.alloc(0),
  };
}

const rotations = () => gateway.lines.filter((l) => l.msg === 'session ticket keys rotated').length;

async function nextRotation(): Promise<number> {
  const seen = rotations();
  await gateway.waitForLog(() => rotations() > seen, 10_000, 'a ticket-key rotation');
  return rotations();
}

test('the primary rotates the ticket keys on its timer; a ticket survives one rotation, not two, and new sessions resume on every worker', async (t) => {
  const versions = ['TLSv1.2', 'TLSv1.3'] as const;
  const first = new Map<string, Buffer>();
  for (const version of versions) {
    const v = await visit(undefined, `/before-${version}`, version);
    assert.equal(v.status, 'HTTP/1.1 200 OK');
    assert.equal((await visit(v.session, `/before-again-${version}`, version)).reused, true);
    first.set(version, v.session);
  }

  // One rotation later the previous key still opens the old tickets (and renews them).
  const renewed = new Map<string, Buffer>();
  const count = await nextRotation();
  for (const version of versions) {
    const old = await visit(first.get(version), `/old-ticket-${version}`, version);
    assert.equal(old.status, 'HTTP/1.1 200 OK');
    if (rotations() !== count) {
      t.diagnostic(`a second rotation came within the check (${version}); resumption not asserted`);
      continue;
    }
    assert.equal(old.reused, true, `${version}: a ticket from before the rotation resumes`);
    renewed.set(version, old.session);
  }

  // Two rotations later the first tickets are no longer opened: a full handshake, still served.
  await nextRotation();
  for (const version of versions) {
    const stale = await visit(first.get(version), `/stale-ticket-${version}`, version);
    assert.equal(stale.status, 'HTTP/1.1 200 OK');
    assert.equal(stale.reused, false, `${version}: a ticket two rotations old costs a full handshake`);
    const again = renewed.get(version);
    if (again !== undefined) {
      assert.equal((await visit(again, `/renewed-ticket-${version}`, version)).reused, true, `${version}: renewed`);
    }
  }

  // A session issued under the new key resumes whichever worker answers.
  const fresh = await visit(undefined, '/new-session');
  const resumedPaths = new Set<string>();
  const total = 12;
  for (let i = 0; i < total; i++) {
    const again = await visit(fresh.session, `/new-session-${i}`);
    assert.equal(again.status, 'HTTP/1.1 200 OK');
    if (again.reused) resumedPaths.add(`/new-session-${i}`);
  }
  assert.ok(resumedPaths.size >= total - 2, `${resumedPaths.size} of ${total} resumed the post-rotation session`);
  // The access log names the worker (pid) of each connection: both must have resumed some.
  const served = await gateway.waitForLog(
    () => gateway.lines.filter((l) => resumedPaths.has(String(l.path))).length === resumedPaths.size,
    5_000,
    'the access-log lines of the resumed connections',
  );
  assert.ok(served);
  const pids = new Set(gateway.lines.filter((l) => resumedPaths.has(String(l.path))).map((l) => l.pid));
  assert.equal(pids.size, 2, 'the post-rotation session resumed on both workers');
});
