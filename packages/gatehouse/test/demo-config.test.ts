// The demo's pure parts: the config it writes must validate cleanly (no warnings either: a newcomer's
// first screen should not start with one), and the printed commands must survive odd paths.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '@gatehouse/config';
import { demoAuth } from '../src/demo/auth.ts';
import { demoConfigYaml } from '../src/demo/config.ts';
import { shellQuote, tryLines } from '../src/demo/curl-lines.ts';
import { type DemoMaterial, demoPorts } from '../src/demo/layout.ts';

const dir = '/home/someone/project/.gatehouse/demo';
const auth = demoAuth(Date.UTC(2026, 0, 1));
const material: DemoMaterial = {
  ca: `${dir}/pki/ca.crt`,
  serverCert: `${dir}/pki/server.crt`,
  serverKey: `${dir}/pki/server.key`,
  clientCert: `${dir}/pki/client.crt`,
  clientKey: `${dir}/pki/client.key`,
  rogueCert: `${dir}/pki/rogue-client.crt`,
  rogueKey: `${dir}/pki/rogue-client.key`,
  backendCa: `${dir}/pki/backend-ca.crt`,
  backendCert: `${dir}/pki/backend.crt`,
  backendKey: `${dir}/pki/backend.key`,
  gatewayClientCert: `${dir}/pki/gateway-client.crt`,
  gatewayClientKey: `${dir}/pki/gateway-client.key`,
};

test('port base 8080 gives the familiar ports', () => {
  assert.deepEqual(demoPorts(8080), { web: 8080, webSecure: 8443, admin: 9180, blue: 8081, green: 8444 });
});

test('the demo config validates with no error and no warning, paths relative to its directory', () => {
  const yaml = demoConfigYaml(dir, demoPorts(8080), material, auth);
  const result = parseConfig(yaml, `${dir}/gatehouse.yaml`, {});
  assert.ok(result.ok, JSON.stringify(!result.ok && result.errors, null, 2));
  assert.deepEqual(result.warnings, []);
  const config = result.config;
  assert.equal(config.gateway.tls.clientAuth?.required, false);
  const secure = config.routes.find((r) => r.name === 'secure');
  assert.equal(secure?.clientAuth?.mode, 'required');
  assert.equal(config.routes.find((r) => r.name === 'default')?.clientAuth, null);
  assert.equal(config.gateway.tls.clientAuth?.clientCA?.path, `${dir}/pki/ca.crt`);
  assert.match(yaml, /cert: "pki\/server\.crt"/);
  assert.deepEqual(
    config.routes.map((r) => [r.name, r.path, r.backends.map((b) => `${b.endpoint} ${b.weight}`)]),
    [
      ['admin', '/admin', ['http://127.0.0.1:8081 1']],
      ['api', '/api', ['http://127.0.0.1:8081 1']],
      ['secure', '/secure', ['https://127.0.0.1:8444 1']],
      ['default', '/', ['http://127.0.0.1:8081 3', 'https://127.0.0.1:8444 1']],
    ],
  );
  assert.deepEqual(
    config.routes.map((r) => r.middlewares),
    [['demo-users'], ['demo-tokens'], [], []],
  );
  assert.equal(secure?.security.tls?.clientCert?.path, `${dir}/pki/gateway-client.crt`);
});

test('printed commands quote paths only when they must', () => {
  assert.equal(shellQuote('.gatehouse/demo/pki/ca.crt'), '.gatehouse/demo/pki/ca.crt');
  assert.equal(shellQuote("/tmp/it's here/ca.crt"), `'/tmp/it'\\''s here/ca.crt'`);
  const lines = tryLines(demoPorts(8080), material, '/home/someone/project', auth);
  assert.equal(
    lines[1]?.command,
    "curl -sS -w '\\nHTTP %{http_code}\\n' --cacert .gatehouse/demo/pki/ca.crt --cert .gatehouse/demo/pki/client.crt --key .gatehouse/demo/pki/client.key https://localhost:8443/secure",
  );
  assert.deepEqual(
    lines.map((l) => l.expect),
    [200, 200, 401, 401, 'refused', 200, 401, 200, 401, 200],
  );
  const elsewhere = tryLines(demoPorts(8080), material, '/srv', auth);
  assert.match(elsewhere[1]?.command ?? '', /--cacert \/home\/someone\/project\/\.gatehouse\/demo\/pki\/ca\.crt/);
});
