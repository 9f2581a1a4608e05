// Authentication and access-control middlewares through the real CLI (`gatehouse run`), configured
// with Goma Gateway's own documentation examples (test/goma-docs/files, upstream commit in its
// manifest), in front of a real loopback backend, a real JWKS server and a real forward-auth server:
// right and wrong credentials, bad tokens of every kind, a JWKS key rotation while running, an auth
// service that allows, refuses or hangs, address ranges behind a trusted proxy, WebSocket upgrades,
// the metric and the access line. And `gatehouse validate` refusing every fail-closed case.
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { hash as bcryptHash } from '@node-rs/bcrypt';
import { exportJWK, SignJWT } from 'jose';
import { parse as parseYaml, stringify } from 'yaml';
import { GOMA_DOCS_DIR } from '../../scripts/goma-docs.ts';
import { freePort, type GatewayProcess, runCli, startGateway, tempDir, writeFile } from '../support/gateway.ts';
import { call, type Reply } from '../support/http.ts';

type Plain = Record<string, unknown>;

/** The `middlewares` of one kept Goma documentation example. */
function gomaMiddlewares(file: string, text?: string): Plain[] {
  const yaml = text ?? readFileSync(join(GOMA_DOCS_DIR, 'files', file), 'utf8');
  return (parseYaml(yaml) as { middlewares: Plain[] }).middlewares;
}

function rule(m: Plain): Plain {
  return m.rule as Plain;
}

function get(
  port: number,
  path: string,
  headers: Record<string, string> = {},
  localAddress = '127.0.0.1',
): Promise<Reply> {
  return call({ port, path, headers, localAddress });
}

function basic(user: string, password: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
}

async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

describe('authentication and access-control middlewares through gatehouse run', () => {
  let gateway: GatewayProcess;
  let port = 0;
  let adminPort = 0;
  let authPort = 0;
  const backendSeen: Array<{ url: string; headers: IncomingHttpHeaders }> = [];
  const authSeen: IncomingHttpHeaders[] = [];
  const servers: Server[] = [];
  const hanging: Array<() => void> = [];
  let jwksFetches = 0;
  let jwks: { keys: unknown[] } = { keys: [] };
  const HS_SECRET = 'your-256-bit-secret';
  const ISSUER = 'https://your-auth-service.com';
  const AUDIENCE = 'gatehouse-tests';
  let keyA: { privateKey: KeyObject; publicKey: KeyObject };
  let keyB: { privateKey: KeyObject; publicKey: KeyObject };

  before(async () => {
    const backend = createServer((req, res) => {
      backendSeen.push({ url: req.url ?? '', headers: req.headers });
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ url: req.url, headers: req.headers }));
    });
    backend.on('upgrade', (req, socket: Socket) => {
      backendSeen.push({ url: req.url ?? '', headers: req.headers });
      socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    });
    const backendPort = await listen(backend);
    servers.push(backend);

    keyA = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    keyB = generateKeyPairSync('rsa', { modulusLength: 2048 });
    jwks = { keys: [{ ...(await exportJWK(keyA.publicKey)), kid: 'a', use: 'sig', alg: 'ES256' }] };
    const jwksServer = createServer((_req, res) => {
      jwksFetches++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(jwks));
    });
    const jwksPort = await listen(jwksServer);
    servers.push(jwksServer);

    const auth = createServer((req, res) => {
      authSeen.push(req.headers);
      switch (req.headers['x-test-auth']) {
        case 'ok':
          res.setHeader('x-user-id', 'u1');
          res.setHeader('x-user-roles', 'admin');
          res.setHeader('x-auth-email', 'u1@example.com');
          res.setHeader('set-cookie', ['session_id=abc; Path=/', 'other=zzz']);
          res.end('ok');
          return;
        case 'deny':
          res.statusCode = 403;
          res.setHeader('www-authenticate', 'Custom realm="auth"');
          res.end('no');
          return;
        case 'hang':
          hanging.push(() => res.end());
          return;
        default:
          res.statusCode = 401;
          res.end('who are you');
      }
    });
    authPort = await listen(auth);
    servers.push(auth);

    const [basicAuth] = gomaMiddlewares(
      'docs__middlewares__basic.md--01.yaml',
      // The example's last user names environment variables and its code fence is not closed.
      readFileSync(join(GOMA_DOCS_DIR, 'files', 'docs__middlewares__basic.md--01.yaml'), 'utf8').split(
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the YAML's ${ENV} syntax, as Goma's docs write it
        '        - username: ${USER_NAME}',
      )[0],
    );
    const [simpleJwt] = gomaMiddlewares('docs__middlewares__jwt.md--08.yaml');
    Object.assign(rule(simpleJwt as Plain), {
      audience: AUDIENCE,
      claimsExpression: "OneOf('role', 'admin', 'ops')",
      forwardHeaders: { 'X-User-ID': 'sub' },
      forwardAuthorization: false,
    });
    const [forwardAuth] = gomaMiddlewares('docs__middlewares__forward-auth.md--02.yaml');
    Object.assign(rule(forwardAuth as Plain), {
      authUrl: `http://127.0.0.1:${authPort}/auth/verify`,
      authSignIn: `http://127.0.0.1:${authPort}/login?redirect=`,
      authRequestHeaders: ['Authorization', 'X-API-Key', 'X-Client-Version', 'X-Test-Auth'],
      timeout: '1s',
    });
    const [access] = gomaMiddlewares('docs__middlewares__access.md--01.yaml');
    const [deny] = gomaMiddlewares('docs__middlewares__access-policy.md--02.yaml');
    const [allow] = gomaMiddlewares('docs__middlewares__access-policy.md--03.yaml');
    // The docs have no IPv6 example: the same rule with IPv6 ranges, a CIDR and a dash range.
    (rule(allow as Plain).sourceRanges as string[]).push('2001:db8:1::/48', '2001:db8::10-2001:db8::20');
    const [bots] = gomaMiddlewares('docs__middlewares__user-agent-block.md--02.yaml');
    const maintenance = (
      parseYaml(
        readFileSync(join(GOMA_DOCS_DIR, 'files', 'docs__usermanual__maintenance-mode.md--01.yaml'), 'utf8'),
      ) as {
        routes: Plain[];
      }
    ).routes[0]?.maintenance;

    const b2b = await bcryptHash('secret', 4);
    const middlewares = [
      basicAuth,
      {
        name: 'more-hashes',
        type: 'basic',
        rule: { users: ['apr:$apr1$abc$OH5apFdc8k9Op/fAtLfU8.', `b2b:${b2b}`] },
      },
      simpleJwt,
      {
        name: 'rotating-jwks',
        type: 'jwtAuth',
        rule: { jwksUrl: `http://127.0.0.1:${jwksPort}/jwks.json`, jwksMinRefreshInterval: '1s' },
      },
      forwardAuth,
      access,
      deny,
      allow,
      bots,
    ];
    const target = `http://127.0.0.1:${backendPort}`;
    const route = (name: string, names: string[], extra: Plain = {}) => ({
      name,
      path: `/${name}`,
      target,
      middlewares: names,
      ...extra,
    });
    port = await freePort();
    adminPort = await freePort();
    const config = {
      gateway: {
        entryPoints: { web: { address: `127.0.0.1:${port}` } },
        admin: { address: `127.0.0.1:${adminPort}` },
        proxy: { trustedProxies: ['127.0.0.1'] },
      },
      routes: [
        route('basic', ['basic-auth']),
        route('hashes', ['more-hashes']),
        route('jwt', ['simple-jwt']),
        route('jwks', ['rotating-jwks']),
        route('fwd', ['comprehensive-auth']),
        route('access', ['api-blocked-paths']),
        route('deny', ['block-internal-networks']),
        route('allow', ['allow-office-only']),
        route('bots', ['block-search-bots']),
        route('maint', [], { maintenance }),
        route('ws', ['more-hashes']),
      ],
      middlewares,
    };
    const dir = tempDir('gatehouse-mw-');
    const file = writeFile(dir, 'gatehouse.yaml', stringify(config));
    gateway = await startGateway(file, { workers: 1 });
  });

  after(async () => {
    await gateway?.stop();
    for (const release of hanging) release();
    for (const server of servers) server.close();
  });

  it("basicAuth (Goma's example): right and wrong credentials, every hash scheme, a 401 challenge", async () => {
    const open = await get(port, '/basic/public');
    assert.equal(open.status, 200, '`paths: [/admin]` leaves the rest of the route open');
    const none = await get(port, '/basic/admin/users');
    assert.equal(none.status, 401);
    assert.equal(none.headers['www-authenticate'], 'Basic realm="your-realm", charset="UTF-8"');
    const body = JSON.parse(none.body) as { error: { code: string; requestId: string; route: string } };
    assert.equal(body.error.code, 'GH_AUTH_REQUIRED');
    assert.equal(body.error.route, 'basic');
    assert.equal(body.error.requestId, none.headers['x-request-id']);
    const text = await get(port, '/basic/admin', { accept: 'text/plain' });
    assert.match(text.body, /^401 Unauthorized: authentication required \(route basic, request id /);

    for (const [user, password] of [
      ['admin', 'admin'],
      ['user1', 'admin'],
      ['user2', 'password'],
    ] as const) {
      const ok = await get(port, '/basic/admin/x', { ...basic(user, password), username: 'spoofed' });
      assert.equal(ok.status, 200, `${user} with the right password`);
      assert.equal((JSON.parse(ok.body) as { headers: IncomingHttpHeaders }).headers.username, user);
      const again = await get(port, '/basic/admin/x', basic(user, password));
      assert.equal(again.status, 200, `${user} again (cached verification)`);
      const wrong = await get(port, '/basic/admin/x', basic(user, `${password}x`));
      assert.equal(wrong.status, 401, `${user} with a wrong password`);
    }
    assert.equal((await get(port, '/basic/admin', basic('nobody', 'admin'))).status, 401, 'unknown user');
    assert.equal((await get(port, '/basic/ADMIN/x')).status, 401, 'the path is matched without case');
    assert.equal((await get(port, '/basic/admin', { authorization: 'Basic !!!' })).status, 401);
    assert.equal((await get(port, '/hashes/x', basic('apr', 'admin'))).status, 200, 'Apache $apr1$');
    assert.equal((await get(port, '/hashes/x', basic('b2b', 'secret'))).status, 200, 'bcrypt $2b$');
    assert.equal((await get(port, '/hashes/x', basic('b2b', 'admin'))).status, 401);
    assert.equal((await get(port, '/hashes/x')).status, 401, 'empty `paths` protects the whole route');
  });

  it('jwtAuth: a valid token passes; expired, early, foreign, unsigned and mis-claimed ones do not', async () => {
    const secret = new TextEncoder().encode(HS_SECRET);
    const sign = (
      claims: Plain,
      opts: { alg?: string; iss?: string; aud?: string; exp?: number; nbf?: number } = {},
    ) => {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ role: 'admin', ...claims })
        .setProtectedHeader({ alg: opts.alg ?? 'HS256' })
        .setSubject('alice')
        .setIssuer(opts.iss ?? ISSUER)
        .setAudience(opts.aud ?? AUDIENCE)
        .setIssuedAt(now)
        .setNotBefore(opts.nbf ?? now - 5)
        .setExpirationTime(opts.exp ?? now + 300)
        .sign(secret);
    };
    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
    const now = Math.floor(Date.now() / 1000);

    const ok = await get(port, '/jwt/api/orders', { ...bearer(await sign({})), 'x-user-id': 'mallory' });
    assert.equal(ok.status, 200);
    const seen = (JSON.parse(ok.body) as { headers: IncomingHttpHeaders }).headers;
    assert.equal(seen['x-user-id'], 'alice', 'forwardHeaders, the client copy removed');
    assert.equal(seen.authorization, undefined, 'forwardAuthorization: false');
    assert.equal((await get(port, '/jwt/other')).status, 200, 'outside `paths: ["/api/*"]`');

    const refused = async (headers: Record<string, string>, reason: RegExp) => {
      const reply = await get(port, '/jwt/api/orders', headers);
      assert.equal(reply.status, 401);
      assert.match(String(reply.headers['www-authenticate']), reason);
      return reply;
    };
    await refused({}, /^Bearer realm="gatehouse"$/);
    await refused(bearer(await sign({}, { exp: now - 120 })), /error="invalid_token".*expired/);
    await refused(bearer(await sign({}, { nbf: now + 600, exp: now + 900 })), /not valid yet/);
    await refused(bearer(await sign({}, { iss: 'https://evil.example' })), /wrong issuer/);
    await refused(bearer(await sign({}, { aud: 'someone-else' })), /not for this audience/);
    await refused(bearer(await sign({}, { alg: 'HS512' })), /algorithm is not accepted/);
    await refused(bearer(await sign({ role: 'guest' })), /claims are not accepted/);
    const unsigned = [
      Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url'),
      Buffer.from(JSON.stringify({ sub: 'alice', role: 'admin', iss: ISSUER, aud: AUDIENCE, exp: now + 300 })).toString(
        'base64url',
      ),
      '',
    ].join('.');
    await refused(bearer(unsigned), /invalid_token/);
    const forged = await new SignJWT({ role: 'admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime(now + 300)
      .sign(new TextEncoder().encode('another-secret'));
    await refused(bearer(forged), /signature is invalid/);
  });

  it('jwtAuth with jwksUrl: picks up a rotated key while running, and drops the retired one', async () => {
    const es = await new SignJWT({ sub: 'a' })
      .setProtectedHeader({ alg: 'ES256', kid: 'a' })
      .setExpirationTime('5m')
      .sign(keyA.privateKey);
    const rs = await new SignJWT({ sub: 'b' })
      .setProtectedHeader({ alg: 'RS256', kid: 'b' })
      .setExpirationTime('5m')
      .sign(keyB.privateKey);
    assert.equal((await get(port, '/jwks/x', { authorization: `Bearer ${es}` })).status, 200);
    assert.equal(
      (await get(port, '/jwks/x', { authorization: `Bearer ${rs}` })).status,
      401,
      'kid b is not published yet',
    );
    const fetchesBefore = jwksFetches;
    for (let i = 0; i < 20; i++) await get(port, '/jwks/x', { authorization: `Bearer ${es}` });
    assert.equal(jwksFetches, fetchesBefore, 'known keys are served from the cache, not fetched per request');

    jwks = { keys: [{ ...(await exportJWK(keyB.publicKey)), kid: 'b', use: 'sig', alg: 'RS256' }] };
    let status = 0;
    for (let i = 0; i < 40 && status !== 200; i++) {
      await sleep(250);
      status = (await get(port, '/jwks/x', { authorization: `Bearer ${rs}` })).status;
    }
    assert.equal(status, 200, 'the rotated key is fetched on its unknown kid');
    assert.ok(jwksFetches - fetchesBefore <= 10, `refetches are rate-limited (${jwksFetches - fetchesBefore})`);
    const retired = await get(port, '/jwks/x', { authorization: `Bearer ${es}` });
    assert.equal(retired.status, 401);
    assert.match(String(retired.headers['www-authenticate']), /unknown key/);
  });

  it('forwardAuth: 200 passes with mapped headers, 401 redirects to sign-in, 403 is relayed, a hang is 503', async () => {
    const seenBefore = backendSeen.length;
    const ok = await get(port, '/fwd/admin/panel?q=1', {
      'x-test-auth': 'ok',
      'x-auth-user-id': 'spoofed',
      'x-client-version': '7',
    });
    assert.equal(ok.status, 200);
    const upstream = JSON.parse(ok.body) as { url: string; headers: IncomingHttpHeaders };
    assert.equal(upstream.headers['x-auth-user-id'], 'u1');
    assert.equal(upstream.headers['x-auth-roles'], 'admin');
    assert.equal(upstream.headers['x-auth-email'], 'u1@example.com');
    const query = new URLSearchParams(upstream.url.split('?')[1]);
    assert.equal(query.get('q'), '1');
    assert.equal(query.get('userId'), 'u1');
    assert.equal(query.get('userRoles'), 'admin');
    assert.deepEqual(ok.headers['set-cookie'], ['session_id=abc; Path=/'], 'only the listed auth cookies');
    const asked = authSeen.at(-1) as IncomingHttpHeaders;
    assert.equal(asked['x-forwarded-method'], 'GET');
    assert.equal(asked['x-forwarded-proto'], 'http');
    assert.equal(asked['x-forwarded-host'], `127.0.0.1:${port}`);
    assert.equal(asked['x-forwarded-uri'], '/fwd/admin/panel?q=1');
    assert.equal(asked['x-forwarded-for'], '127.0.0.1');
    assert.equal(asked['x-client-version'], '7', 'authRequestHeaders are copied');
    assert.equal(asked.host, `127.0.0.1:${port}`, 'forwardHostHeaders: true');

    const login = await get(port, '/fwd/admin/panel', { 'x-test-auth': 'who' });
    assert.equal(login.status, 302);
    assert.equal(
      login.headers.location,
      `http://127.0.0.1:${authPort}/login?redirect=${encodeURIComponent(`http://127.0.0.1:${port}/fwd/admin/panel`)}`,
    );
    const denied = await get(port, '/fwd/admin/panel', { 'x-test-auth': 'deny' });
    assert.equal(denied.status, 403);
    assert.equal(denied.headers['www-authenticate'], 'Custom realm="auth"');
    const hung = await get(port, '/fwd/admin/panel', { 'x-test-auth': 'hang' });
    assert.equal(hung.status, 503);
    assert.equal((JSON.parse(hung.body) as { error: { code: string } }).error.code, 'GH_AUTH_UNAVAILABLE');
    assert.equal(backendSeen.length, seenBefore + 1, 'only the allowed request reached the backend');
    assert.equal((await get(port, '/fwd/public')).status, 200, 'outside `paths`');
  });

  it("access (Goma's example): listed paths, their subpaths and the anchored regex answer 404", async () => {
    for (const path of ['/access/docs', '/access/docs/swagger', '/access/admin', '/access/api/v2/temp/x']) {
      assert.equal((await get(port, path)).status, 404, path);
    }
    assert.equal((await get(port, '/access/api/v2/orders')).status, 200);
  });

  it('accessPolicy: IPv4 and IPv6 addresses, CIDRs and ranges, read through a trusted proxy only', async () => {
    const via = (path: string, client: string, from = '127.0.0.1') =>
      get(port, path, { 'x-forwarded-for': client }, from).then((r) => r.status);
    assert.equal(await via('/deny/x', '10.0.0.5'), 403, 'in 10.0.0.1-10.0.0.50');
    assert.equal(await via('/deny/x', '10.0.0.51'), 200);
    assert.equal(await via('/deny/x', '192.168.1.77'), 403, 'in 192.168.1.0/24');
    assert.equal(await via('/deny/x', '172.16.1.1'), 403);
    assert.equal(await via('/deny/x', '172.16.1.2'), 200);
    assert.equal(await via('/allow/x', '203.0.113.9'), 200);
    assert.equal(await via('/allow/x', '198.51.100.1'), 200);
    assert.equal(await via('/allow/x', '198.51.100.2'), 403);
    assert.equal(await via('/allow/x', '2001:db8:1::5'), 200, 'in 2001:db8:1::/48');
    assert.equal(await via('/allow/x', '2001:db8::15'), 200, 'in 2001:db8::10-2001:db8::20');
    assert.equal(await via('/allow/x', '2001:db8::21'), 403);
    assert.equal(await via('/allow/x', '203.0.113.9', '127.0.0.2'), 403, 'an untrusted peer cannot claim an address');
  });

  it("userAgentBlock (Goma's example) ignores case; maintenance answers before anything else", async () => {
    assert.equal((await get(port, '/bots/x', { 'user-agent': 'Mozilla/5.0 (compatible; Googlebot/2.1)' })).status, 403);
    assert.equal((await get(port, '/bots/x', { 'user-agent': 'mozilla/5.0 (compatible; GOOGLEBOT/2.1)' })).status, 403);
    assert.equal((await get(port, '/bots/x', { 'user-agent': 'curl/8' })).status, 200);
    const seenBefore = backendSeen.length;
    const maint = await get(port, '/maint/anything');
    assert.equal(maint.status, 503);
    assert.equal((JSON.parse(maint.body) as { error: { message: string } }).error.message, '503 Service Unavailable');
    assert.equal(backendSeen.length, seenBefore);
  });

  it('a WebSocket upgrade goes through the same chain', async () => {
    const upgrade = (headers: Record<string, string>) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => {
          const extra = Object.entries(headers)
            .map(([k, v]) => `${k}: ${v}\r\n`)
            .join('');
          socket.write(
            `GET /ws/chat HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${extra}\r\n`,
          );
        });
        let head = '';
        socket.setEncoding('utf8');
        socket.on('data', (d: string) => {
          head += d;
          if (head.includes('\r\n')) {
            socket.destroy();
            resolve(head.split('\r\n')[0] as string);
          }
        });
        socket.on('error', reject);
      });
    assert.match(await upgrade({}), /^HTTP\/1\.1 401 /);
    assert.match(await upgrade(basic('apr', 'admin')), /^HTTP\/1\.1 101 /);
  });

  it('counts refusals by route, middleware and reason, and logs the middleware and the user', async () => {
    const metrics = await get(adminPort, '/metrics');
    assert.match(
      metrics.body,
      /gatehouse_middleware_denied_total\{route="basic",middleware="basic-auth",reason="bad_credentials"\} [1-9]/,
    );
    assert.match(
      metrics.body,
      /gatehouse_middleware_denied_total\{route="jwt",middleware="simple-jwt",reason="expired"\} 1/,
    );
    assert.match(
      metrics.body,
      /gatehouse_middleware_denied_total\{route="fwd",middleware="comprehensive-auth",reason="auth_unavailable"\} 1/,
    );
    await gateway.waitForLog((l) => l.msg === 'request' && l.middleware === 'basic-auth' && l.status === 401);
    await gateway.waitForLog((l) => l.msg === 'request' && l.user === 'alice' && l.status === 200);
  });
});

describe('gatehouse validate refuses every middleware it cannot enforce', () => {
  it('names file, line and column for each fail-closed case', async () => {
    const dir = tempDir('gatehouse-mw-validate-');
    const routes = 'routes:\n  - name: r\n    path: /\n    target: http://127.0.0.1:1\n';
    type Case = [file: string, text: string, where: string, message: RegExp];
    /** A config with one middleware, `a`, whose keys are `lines`. */
    const withMiddleware = (lines: string) => `${routes}middlewares:\n  - name: a\n${lines}`;
    /** A middleware of a type Gatehouse does not know or does not enforce: refused at its `type`. */
    const typeCase = (file: string, type: string, message: RegExp): Case => [
      file,
      withMiddleware(`    type: ${type}\n`),
      '7:11 GH_CONFIG_MIDDLEWARE_TYPE',
      message,
    ];
    const cases: Case[] = [
      [
        'unknown-name.yaml',
        `${routes}    middlewares: [auth]\n`,
        '5:19 GH_CONFIG_UNKNOWN_MIDDLEWARE',
        /no middleware is named "auth"/,
      ],
      typeCase('unknown-type.yaml', 'basicAuthh', /unknown middleware type/),
      typeCase('ldap.yaml', 'ldap', /not supported/),
      typeCase('oauth.yaml', 'oauth', /not supported/),
      typeCase('geo-block.yaml', 'geoBlock', /not supported/),
      typeCase('http-cache.yaml', 'httpCache', /not supported/),
      typeCase('plugin.yaml', 'myGoPlugin', /unknown middleware type/),
      [
        'two-keys.yaml',
        withMiddleware(`    type: jwt\n    rule: { secret: s, jwksUrl: "http://x/j" }\n`),
        '8:33 GH_CONFIG_MIDDLEWARE_RULE',
        /exactly one key source/,
      ],
      [
        'bad-hash.yaml',
        withMiddleware(`    type: basic\n    rule: { users: ["u:$2y$05$short"] }\n`),
        '8:21 GH_CONFIG_MIDDLEWARE_RULE',
        /not a valid bcrypt hash/,
      ],
      [
        'unanchored.yaml',
        withMiddleware(`    type: access\n    paths: [".*\\\\.log$"]\n`),
        '8:13 GH_CONFIG_MIDDLEWARE_PATH',
        /anchored regular expression/,
      ],
      [
        'missing-key.yaml',
        withMiddleware(`    type: jwt\n    rule: { publicKey: keys/jwt.pem }\n`),
        '8:24 GH_JWT_KEY',
        /cannot read .*jwt\.pem: no such file/,
      ],
      [
        'not-a-key.yaml',
        withMiddleware(`    type: jwt\n    rule: { publicKey: not-a-key.pem }\n`),
        '8:24 GH_JWT_KEY',
        /publicKey is not a public key/,
      ],
    ];
    writeFile(dir, 'not-a-key.pem', '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n');
    for (const [name, text] of cases) writeFile(dir, name, text);
    const result = await runCli(['validate', '--json', ...cases.map(([name]) => name)], { cwd: dir });
    assert.equal(result.code, 1);
    const verdicts = result.stdout
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as { file: string; ok: boolean; errors: Array<Record<string, unknown>> });
    for (const [name, , where, message] of cases) {
      const verdict = verdicts.find((v) => v.file === name);
      assert.equal(verdict?.ok, false, `${name} must be refused`);
      const errors = verdict?.errors ?? [];
      assert.deepEqual(
        errors.map((e) => `${e.line}:${e.col} ${e.code}`),
        [where],
        `${name}: ${JSON.stringify(errors)}`,
      );
      assert.match(String(errors[0]?.message), message, name);
    }
    const good = writeFile(
      dir,
      'good.yaml',
      `${routes}    middlewares: [a]\nmiddlewares:\n  - name: a\n    type: jwt\n    rule: { publicKey: key.pem }\n`,
    );
    const { publicKey } = generateKeyPairSync('ed25519');
    writeFile(dir, 'key.pem', publicKey.export({ type: 'spki', format: 'pem' }) as string);
    const accepted = await runCli(['validate', good]);
    assert.equal(accepted.code, 0, accepted.stderr);
  });
});
