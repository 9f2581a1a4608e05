// The previous session-ticket key forgotten, through `gatehouse run` with 2 workers: with one-second
// sessions, no ticket the previous key sealed is valid a few seconds after a rotation, so the primary
// retires it before the next rotation. The rotation and the retirement are each one log line and one
// count in gatehouse_tls_ticket_key_changes_total, and sessions still resume on the key left.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type CaHandle, createCa, issueCertificate } from '@gatehouse/pki';
import { type GatewayProcess, startGateway, tempDir, writeConfig } from '../support/gateway.ts';
import { gatewayHead, oneRoute } from '../support/gateway-config.ts';
import { get } from '../support/http.ts';
import { tlsVisit } from '../support/tls-session.ts';

let gateway: GatewayProcess;
let ca: CaHandle;
let port = 0;
let adminPort = 0;

before(async () => {
  const dir = tempDir('gatehouse-ticket-retire-');
  ca = await createCa(join(dir, 'pki'), { name: 'ca' });
  const leaf = await issueCertificate(ca, { name: 'server', cn: 'localhost', dns: ['localhost'], usage: 'server' });
  const head = await gatewayHead({
    tls: { cert: leaf.fullchainPath, key: leaf.keyPath },
    gateway: ['  watch: { enabled: false }'],
  });
  ({ webSecurePort: port, adminPort } = head);
  // A retirement comes 1 s (session) + 5 s (grace) after a rotation: well before the next one.
  const config = writeConfig(dir, [
    ...head.lines,
    '    sessionTicketRotation: 7s',
    '    sessionTimeout: 1s',
    // Nothing listens there: the test asks the monitoring answers only, not the route.
    ...oneRoute('http://127.0.0.1:9'),
  ]);
  gateway = await startGateway(config, { workers: 2 });
});

after(async () => {
  await gateway?.stop();
});

/** `gatehouse_tls_ticket_key_changes_total{change="..."}` from the admin scrape. */
async function changes(): Promise<{ rotated: number; retired: number }> {
  const exposition = (await get(adminPort, '/metrics')).body;
  const count = (change: string) => {
    const match = new RegExp(`^gatehouse_tls_ticket_key_changes_total\\{change="${change}"\\} (\\S+)$`, 'm').exec(
      exposition,
    );
    assert.ok(match, `gatehouse_tls_ticket_key_changes_total{change="${change}"} in the scrape`);
    return Number(match[1]);
  };
  return { rotated: count('rotated'), retired: count('retired') };
}

const logged = (msg: string) => gateway.lines.filter((l) => l.msg === msg).length;

test('a retired previous key is logged and counted, and sessions still resume on the current key', async () => {
  assert.deepEqual(await changes(), { rotated: 0, retired: 0 }, 'both series exist before any change');

  await gateway.waitForLog((l) => l.msg === 'previous session ticket key retired', 30_000, 'a retirement');
  const counted = await changes();
  assert.equal(counted.retired, 1);
  assert.equal(logged('previous session ticket key retired'), 1, 'one line per retirement');
  assert.ok(counted.rotated >= 1, 'the rotation before it is counted too');
  assert.ok(logged('session ticket keys rotated') >= 1);

  // Workers now hold the current key alone: a fresh session still resumes.
  const visit = (session?: Buffer) =>
    tlsVisit({
      port,
      servername: 'localhost',
      ca: ca.certPem,
      version: 'TLSv1.2',
      session,
      alpn: ['http/1.1'],
      send: 'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n',
    });
  const first = await visit();
  assert.ok(first.session, 'a session to resume');
  assert.equal((await visit(first.session)).reused, true);
});
