// The admin listener of a real gateway against what a web page in the operator's browser, a DNS
// rebinding attacker, or anyone on the network can send it: requests carrying Origin, a foreign Host,
// no token or the wrong one. And the other side: the CLI sends the token, a non-loopback admin
// address without a token does not validate, and the unix socket is owner-only.
import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort, type GatewayProcess, runCli, startGateway, tempDir } from '../support/gateway.ts';
import { call } from '../support/http.ts';

const TOKEN = 'e2e-admin-token-5f1c9a7b2d';

describe('admin listener: cross-site requests, foreign Hosts and the token', () => {
  let dir = '';
  let gateway: GatewayProcess;
  let webPort = 0;
  let adminPort = 0;
  let socket = '';
  let configFile = '';
  const bearer = { authorization: `Bearer ${TOKEN}` };

  const configText = (admin: string) => `version: 2
gateway:
  entryPoints:
    web:
      address: 127.0.0.1:${webPort}
  admin:
${admin}
  log:
    accessLog: false
  watch:
    enabled: false
routes:
  - name: api
    path: /
    target: http://127.0.0.1:9
`;

  before(async () => {
    dir = tempDir('gatehouse-admin-access-');
    [webPort, adminPort] = [await freePort(), await freePort()];
    socket = join(dir, 'run', 'admin.sock');
    configFile = join(dir, 'gatehouse.yaml');
    writeFileSync(
      configFile,
      configText(
        `    address: 127.0.0.1:${adminPort}\n    socket: ${socket}\n    pidFile: ${join(dir, 'gh.pid')}\n    token: \${ADMIN_TOKEN}`,
      ),
    );
    gateway = await startGateway(configFile, { workers: 1, env: { ADMIN_TOKEN: TOKEN } });
    await gateway.waitForLog((l) => l.msg === 'admin listening', 10_000, '"admin listening"');
  });

  after(async () => {
    await gateway?.stop();
  });

  const generation = async () =>
    (JSON.parse((await call({ port: adminPort, path: '/status', headers: bearer })).body) as { generation: number })
      .generation;

  it('CSRF: a cross-origin text/plain POST /reload is refused with 403 and reloads nothing, token or not', async () => {
    const before = await generation();
    const mark = gateway.lines.length;
    for (const headers of [
      { origin: 'http://attacker.example', 'content-type': 'text/plain' },
      { origin: 'http://attacker.example', 'content-type': 'text/plain', ...bearer },
      { origin: 'null', 'content-type': 'text/plain', ...bearer },
      // What a page on another port of the same machine sends.
      { origin: `http://127.0.0.1:${webPort}`, 'content-type': 'text/plain', ...bearer },
    ]) {
      const reply = await call({ port: adminPort, method: 'POST', path: '/reload', headers, body: 'x=1' });
      assert.equal(reply.status, 403, JSON.stringify(headers));
      assert.equal(JSON.parse(reply.body).code, 'GH_ADMIN_CROSS_SITE');
    }
    const fetchSite = await call({
      port: adminPort,
      method: 'POST',
      path: '/reload',
      headers: { 'sec-fetch-site': 'cross-site', ...bearer },
    });
    assert.equal(fetchSite.status, 403);
    // Refused on the unix socket too, and for the unauthenticated endpoints.
    const onSocket = await call({ socketPath: socket, path: '/healthz', headers: { origin: 'http://a.example' } });
    assert.equal(onSocket.status, 403);
    assert.equal(await generation(), before);
    assert.equal(
      gateway.lines.slice(mark).some((l) => l.msg === 'reload unchanged' || l.msg === 'reload accepted'),
      false,
      'no reload ran',
    );
    const refused = gateway.lines.slice(mark).filter((l) => l.msg === 'admin request refused');
    assert.ok(refused.length >= 6, 'each refusal is logged');
    assert.equal(refused[0]?.code, 'GH_ADMIN_CROSS_SITE');
  });

  it('DNS rebinding: /status under a foreign Host is refused with 403; the bound address and localhost answer', async () => {
    for (const host of [
      `rebind.attacker.example:${adminPort}`,
      `127.0.0.2:${adminPort}`,
      'localhost.attacker.example',
    ]) {
      const reply = await call({ port: adminPort, path: '/status', headers: { host, ...bearer } });
      assert.equal(reply.status, 403, host);
      assert.equal(JSON.parse(reply.body).code, 'GH_ADMIN_HOST');
      assert.doesNotMatch(reply.body, /"generation"/);
    }
    const probe = await call({ port: adminPort, path: '/healthz', headers: { host: 'rebind.attacker.example' } });
    assert.equal(probe.status, 403);
    // Any port: a tunnel may forward another local port to the admin listener.
    for (const host of [`127.0.0.1:${adminPort}`, `localhost:${adminPort}`, 'localhost:8000', '127.0.0.1']) {
      const reply = await call({ port: adminPort, path: '/status', headers: { host, ...bearer } });
      assert.equal(reply.status, 200, host);
    }
  });

  it('token: every endpoint but /healthz and /readyz answers 401 without the bearer token or with a wrong one', async () => {
    for (const [method, path] of [
      ['GET', '/status'],
      ['GET', '/metrics'],
      ['GET', '/healthz/routes'],
      ['POST', '/reload'],
      ['POST', '/restart'],
    ] as const) {
      const none = await call({ port: adminPort, method, path });
      assert.equal(none.status, 401, `${method} ${path}`);
      assert.match(String(none.headers['www-authenticate']), /^Bearer /);
      const wrong = await call({ port: adminPort, method, path, headers: { authorization: `Bearer ${TOKEN}0` } });
      assert.equal(wrong.status, 401, `${method} ${path} with a wrong token`);
      const onSocket = await call({ socketPath: socket, method, path });
      assert.equal(onSocket.status, 401, `${method} ${path} on the socket`);
    }
    assert.equal((await call({ port: adminPort, path: '/healthz' })).status, 200);
    assert.equal((await call({ port: adminPort, path: '/readyz' })).status, 200);
    assert.equal((await call({ socketPath: socket, path: '/readyz' })).status, 200);
    const right = await call({ port: adminPort, path: '/metrics', headers: bearer });
    assert.equal(right.status, 200);
    assert.match(right.body, /^gatehouse_admin_refused_total\{reason="unauthorized"\} [1-9]/m);
    assert.match(right.body, /^gatehouse_admin_refused_total\{reason="host"\} [1-9]/m);
    assert.match(right.body, /^gatehouse_admin_refused_total\{reason="cross_site"\} [1-9]/m);
  });

  it('the CLI sends the token: status, reload and restart work with it, and say why without it', async () => {
    const status = await runCli(['status', '--config', configFile], { env: { ADMIN_TOKEN: TOKEN } });
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /WORKERS \(1\)/);
    const reload = await runCli(['reload', '--config', configFile], { env: { ADMIN_TOKEN: TOKEN } });
    assert.equal(reload.code, 0, reload.stderr);
    assert.match(reload.stdout, /reload accepted/);
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, `${TOKEN}\n`);
    const restart = await runCli(['restart', '--socket', socket, '--token-file', tokenFile], { timeoutMs: 120_000 });
    assert.equal(restart.code, 0, restart.stderr);
    const viaEnv = await runCli(['status', '--json', '--admin', `127.0.0.1:${adminPort}`], {
      env: { GATEHOUSE_ADMIN_TOKEN: TOKEN },
    });
    assert.equal(viaEnv.code, 0, viaEnv.stderr);
    assert.equal(JSON.parse(viaEnv.stdout).pid, gateway.child.pid);

    const mark = gateway.lines.length;
    const without = await runCli(['reload', '--socket', socket], { env: { GATEHOUSE_ADMIN_TOKEN: '' } });
    assert.equal(without.code, 1);
    assert.match(without.stderr, /HTTP 401/);
    assert.match(without.stderr, /--token-file/);
    // An unauthorized reload does not fall back to a signal behind the gateway's back.
    const wrong = await runCli(['reload', '--config', configFile], {
      env: { ADMIN_TOKEN: TOKEN, GATEHOUSE_ADMIN_TOKEN: 'not-the-token-at-all' },
    });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /not the gateway's gateway\.admin\.token/);
    assert.doesNotMatch(wrong.stdout, /SIGHUP/);
    assert.equal(
      gateway.lines.slice(mark).some((l) => l.msg === 'reload unchanged' || l.msg === 'reload accepted'),
      false,
    );
  });

  it('socket mode: the admin socket is owner-only (0600)', () => {
    assert.equal(statSync(socket).mode & 0o777, 0o600);
  });
});

describe('admin listener: an address other machines can reach needs a token', () => {
  it('non-loopback admin address without a token is a config error with file:line:col', async () => {
    const dir = tempDir('gatehouse-admin-config-');
    const text = (admin: string) => `version: 2
gateway:
  admin:
${admin}
routes:
  - name: api
    path: /
    target: http://127.0.0.1:9
`;
    const open = join(dir, 'open.yaml');
    writeFileSync(open, text('    address: ":19180"'));
    const refused = await runCli(['validate', open]);
    assert.equal(refused.code, 1, refused.stdout + refused.stderr);
    const out = refused.stdout + refused.stderr;
    assert.match(out, new RegExp(`${open.replace(/[.]/g, '\\.')}:4:14`));
    assert.match(out, /can be reached from other machines/);
    assert.match(out, /gateway\.admin\.token/);
    const run = await runCli(['run', '--config', open, '--workers', '1'], { timeoutMs: 30_000 });
    assert.notEqual(run.code, 0, 'the gateway does not start');

    const withToken = join(dir, 'token.yaml');
    writeFileSync(withToken, text(`    address: ":19180"\n    token: ${TOKEN}`));
    const accepted = await runCli(['validate', withToken]);
    assert.equal(accepted.code, 0, accepted.stdout + accepted.stderr);
    const empty = join(dir, 'empty.yaml');
    writeFileSync(empty, text('    token: ""'));
    const emptyRefused = await runCli(['validate', empty]);
    assert.equal(emptyRefused.code, 1);
    assert.match(emptyRefused.stdout + emptyRefused.stderr, /token is empty/);
  });
});
