// Who may talk to the admin listener: the pure rules. The same rules through `gatehouse run` are in
// test/e2e/admin-access.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type AdminRequestFacts, adminToken, checkAdminAccess, hostMatchesListener } from '../src/admin-access.ts';

const TOKEN = 'correct-horse-battery-staple';
const tcp = (headers: AdminRequestFacts['headers'], path = '/status'): AdminRequestFacts => ({
  headers: { host: '127.0.0.1:9180', ...headers },
  listener: 'tcp',
  localAddress: '127.0.0.1',
  path,
});

describe('hostMatchesListener', () => {
  it('accepts the local address and localhost, on any port (an SSH tunnel may use another)', () => {
    assert.equal(hostMatchesListener('127.0.0.1:9180', '127.0.0.1'), true);
    assert.equal(hostMatchesListener('127.0.0.1:8000', '127.0.0.1'), true);
    assert.equal(hostMatchesListener('127.0.0.1', '127.0.0.1'), true);
    assert.equal(hostMatchesListener('localhost:9180', '127.0.0.1'), true);
    assert.equal(hostMatchesListener('LOCALHOST:9180', '::1'), true);
    assert.equal(hostMatchesListener('[::1]:9180', '::1'), true);
    assert.equal(hostMatchesListener('[0:0::1]:9180', '::1'), true);
    // A dual-stack listener reports IPv4 peers as IPv4-mapped addresses.
    assert.equal(hostMatchesListener('127.0.0.1:9180', '::ffff:127.0.0.1'), true);
    assert.equal(hostMatchesListener('10.0.0.5:9180', '10.0.0.5'), true);
  });
  it('refuses other names (DNS rebinding), other addresses and malformed values', () => {
    assert.equal(hostMatchesListener('attacker.example:9180', '127.0.0.1'), false);
    assert.equal(hostMatchesListener('localhost.:9180', '127.0.0.1'), false);
    assert.equal(hostMatchesListener('sub.localhost:9180', '127.0.0.1'), false);
    assert.equal(hostMatchesListener('127.0.0.2:9180', '127.0.0.1'), false);
    assert.equal(hostMatchesListener('127.0.0.1:9180@evil', '127.0.0.1'), false);
    assert.equal(hostMatchesListener('[::2]:9180', '::1'), false);
    assert.equal(hostMatchesListener('', '127.0.0.1'), false);
  });
});

describe('checkAdminAccess', () => {
  it('refuses any request that carries Origin, whatever its value, with 403', () => {
    for (const origin of ['http://attacker.example', 'http://127.0.0.1:9180', 'null']) {
      const refusal = checkAdminAccess(tcp({ origin }), null);
      assert.equal(refusal?.status, 403);
      assert.equal(refusal?.code, 'GH_ADMIN_CROSS_SITE');
    }
    // Also on the unix socket and for the health endpoints.
    const socket: AdminRequestFacts = { ...tcp({ origin: 'http://x' }, '/healthz'), listener: 'socket' };
    assert.equal(checkAdminAccess(socket, null)?.code, 'GH_ADMIN_CROSS_SITE');
  });
  it('lets the page load its own modules (Origin of this listener) but nothing else with an Origin', () => {
    const own = 'http://127.0.0.1:9180';
    assert.equal(checkAdminAccess(tcp({ origin: own }, '/ui/app.js'), adminToken(TOKEN)), null);
    assert.equal(checkAdminAccess(tcp({ origin: 'http://localhost:9180' }, '/ui/app.js'), null)?.status, 403);
    assert.equal(checkAdminAccess(tcp({ origin: 'http://attacker.example' }, '/ui/app.js'), null)?.status, 403);
    for (const path of ['/status', '/status/stream', '/reload', '/', '/healthz']) {
      assert.equal(checkAdminAccess(tcp({ origin: own }, path), null)?.code, 'GH_ADMIN_CROSS_SITE', path);
    }
    const socket: AdminRequestFacts = { ...tcp({ origin: own }, '/ui/app.js'), listener: 'socket' };
    assert.equal(checkAdminAccess(socket, null)?.status, 403);
  });
  it('refuses what a browser marks as sent by another site, and lets its own page through', () => {
    assert.equal(checkAdminAccess(tcp({ 'sec-fetch-site': 'cross-site' }), null)?.status, 403);
    assert.equal(checkAdminAccess(tcp({ 'sec-fetch-site': 'same-site' }), null)?.status, 403);
    assert.equal(checkAdminAccess(tcp({ 'sec-fetch-site': 'same-origin' }), null), null);
    assert.equal(checkAdminAccess(tcp({ 'sec-fetch-site': 'none' }, '/'), null), null);
  });
  it('refuses a foreign Host on TCP with 403, and does not look at Host on the unix socket', () => {
    const refusal = checkAdminAccess(tcp({ host: 'rebind.attacker.example:9180' }), null);
    assert.equal(refusal?.status, 403);
    assert.equal(refusal?.code, 'GH_ADMIN_HOST');
    assert.equal(checkAdminAccess(tcp({ host: undefined }), null)?.code, 'GH_ADMIN_HOST');
    const socket: AdminRequestFacts = {
      headers: { host: 'anything' },
      listener: 'socket',
      localAddress: undefined,
      path: '/status',
    };
    assert.equal(checkAdminAccess(socket, null), null);
  });
  it('with a token, asks every endpoint but liveness, readiness and the page shell for it', () => {
    const token = adminToken(TOKEN);
    for (const path of ['/status', '/metrics', '/reload', '/restart', '/healthz/routes', '/status/stream']) {
      const refusal = checkAdminAccess(tcp({}, path), token);
      assert.equal(refusal?.status, 401, path);
      assert.equal(refusal?.code, 'GH_ADMIN_UNAUTHORIZED');
      assert.match(refusal?.headers['www-authenticate'] ?? '', /^Bearer /);
    }
    for (const path of ['/healthz', '/readyz', '/', '/ui/status.js']) {
      assert.equal(checkAdminAccess(tcp({}, path), token), null, path);
    }
    assert.equal(checkAdminAccess(tcp({ authorization: `Bearer ${TOKEN}` }), token), null);
    assert.equal(checkAdminAccess(tcp({ authorization: `bearer ${TOKEN}` }), token), null);
    assert.equal(checkAdminAccess(tcp({ authorization: `Bearer ${TOKEN}x` }), token)?.status, 401);
    assert.equal(checkAdminAccess(tcp({ authorization: `Bearer ${TOKEN.slice(1)}` }), token)?.status, 401);
    assert.equal(checkAdminAccess(tcp({ authorization: `Basic ${btoa(`x:${TOKEN}`)}` }), token)?.status, 401);
    assert.equal(checkAdminAccess(tcp({ authorization: 'Bearer' }), token)?.status, 401);
    // The token is asked on the unix socket too.
    const socket: AdminRequestFacts = { ...tcp({}), listener: 'socket' };
    assert.equal(checkAdminAccess(socket, token)?.status, 401);
  });
  it('checks Origin and Host before the token, so a right token from a web page is still refused', () => {
    const token = adminToken(TOKEN);
    const fromPage = tcp({ origin: 'http://attacker.example', authorization: `Bearer ${TOKEN}` });
    assert.equal(checkAdminAccess(fromPage, token)?.code, 'GH_ADMIN_CROSS_SITE');
  });
});
