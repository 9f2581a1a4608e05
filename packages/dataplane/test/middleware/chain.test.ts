// The chain and the pure parts of the authentication and access middlewares.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, it } from 'node:test';
import { hash as bcryptHash } from '@node-rs/bcrypt';
import { jwtVerify, SignJWT } from 'jose';
import { compileSourceRanges, inSourceRanges } from '../../src/middleware/access-policy.ts';
import { basicChallenge, parseBasicCredentials } from '../../src/middleware/basic-auth.ts';
import { type ChainOutcome, MiddlewareChain } from '../../src/middleware/chain.ts';
import { authRefusal, selectCookies, signInLocation, withQueryParams } from '../../src/middleware/forward-auth.ts';
import { bearerToken, claimHeaderValue, JWT_REFUSALS, refusalFor } from '../../src/middleware/jwt-auth.ts';
import { apr1, verifyPassword } from '../../src/middleware/password.ts';
import { coversFold, PathMatcher } from '../../src/middleware/path-matcher.ts';
import {
  answer,
  type MiddlewareAnswer,
  type MiddlewareRequest,
  type MiddlewareStep,
} from '../../src/middleware/step.ts';
import { isBlockedAgent } from '../../src/middleware/user-agent-block.ts';
import { VerificationCache } from '../../src/middleware/verification-cache.ts';

function request(path: string, headers: IncomingHttpHeaders = {}): MiddlewareRequest & { log: string[] } {
  return {
    req: { headers },
    method: 'GET',
    requestPath: path,
    target: path,
    requestId: 'r1',
    secure: false,
    clientAddress: () => '10.0.0.1',
    authUser: null,
    deniedBy: null,
    closed: false,
    addResponseHeader() {},
    routeName: 'r',
    routePath: '/',
    host: 'example.test',
    scheme: () => 'http',
    bodyLimit: 0,
    rewriteTarget() {},
    reapplyRequestHeaders() {},
    shapeResponseWith() {},
    replaceErrorsWith() {},
    logFields: null,
    log: [],
  };
}

type Req = ReturnType<typeof request>;

function outcome(): ChainOutcome<Req> & { result: Promise<string> } {
  let done: (v: string) => void = () => {};
  const result = new Promise<string>((resolve) => {
    done = resolve;
  });
  return {
    result,
    proceed: () => done('proceed'),
    refuse: (_r, step, a) => done(`refuse ${step.name} ${a.status}`),
    fail: (_r, step) => done(`fail ${step.name}`),
  };
}

const DENY = answer(403, 'GH_TEST', 'no', 'test');
function step(
  name: string,
  act: (r: Req) => MiddlewareAnswer | null | Promise<MiddlewareAnswer | null>,
): MiddlewareStep {
  return {
    name,
    type: 'test',
    onRequest: (r) => {
      (r as Req).log.push(name);
      return act(r as Req);
    },
  };
}

describe('the middleware chain', () => {
  it('runs steps in order, skips those whose paths do not match, and stops at an answer', async () => {
    const chain = new MiddlewareChain([
      { step: step('a', () => null), paths: null },
      { step: step('b', () => DENY), paths: new PathMatcher(['/other'], '/') },
      { step: step('c', async () => null), paths: null },
      { step: step('d', () => DENY), paths: new PathMatcher(['/x'], '/') },
      { step: step('e', () => null), paths: null },
    ]);
    const r = request('/x/y');
    const o = outcome();
    chain.run(r, o);
    assert.equal(await o.result, 'refuse d 403');
    assert.deepEqual(r.log, ['a', 'c', 'd']);
    assert.equal(r.deniedBy, 'd');
  });
  it('proceeds when every step passes; a throw or a rejection refuses', async () => {
    const pass = outcome();
    new MiddlewareChain([{ step: step('a', async () => null), paths: null }]).run(request('/'), pass);
    assert.equal(await pass.result, 'proceed');
    const thrown = outcome();
    new MiddlewareChain([
      {
        step: step('t', () => {
          throw new Error('x');
        }),
        paths: null,
      },
    ]).run(request('/'), thrown);
    assert.equal(await thrown.result, 'fail t');
    const rejected = outcome();
    new MiddlewareChain([{ step: step('j', () => Promise.reject(new Error('x'))), paths: null }]).run(
      request('/'),
      rejected,
    );
    assert.equal(await rejected.result, 'fail j');
  });
  it('drops a late result for a request that closed meanwhile', async () => {
    const r = request('/');
    let settled = false;
    const o = outcome();
    o.proceed = () => {
      settled = true;
    };
    new MiddlewareChain([
      {
        step: step('slow', async () => {
          (r as { closed: boolean }).closed = true;
          return null;
        }),
        paths: null,
      },
    ]).run(r, o);
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(settled, false);
  });
});

describe('paths', () => {
  it('match with and without the route prefix, by whole segments, ignoring case; regexes anchored', () => {
    const m = new PathMatcher(['/admin', '/docs/*', '^/v[0-9]+/temp'], '/api');
    for (const path of ['/admin', '/admin/x', '/API/Admin/users', '/docs', '/docs/a', '/api/v2/temp', '/v1/temp/x']) {
      assert.ok(m.matches(path), path);
    }
    for (const path of ['/administrator', '/api/adminx', '/x/admin', '/api/v/temp', '/api/docsx']) {
      assert.ok(!m.matches(path), path);
    }
    assert.ok(new PathMatcher(['/'], '/').matches('/anything'));
    assert.ok(coversFold('/A/b', '/a') && !coversFold('/ab', '/a'));
  });
});

describe('basicAuth', () => {
  it('reads Basic credentials and refuses malformed ones', () => {
    const header = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;
    assert.deepEqual(parseBasicCredentials(header('u:p:q')), ['u', 'p:q']);
    assert.deepEqual(parseBasicCredentials(`bAsIc ${Buffer.from('u:p').toString('base64')}`), ['u', 'p']);
    assert.equal(parseBasicCredentials(header(':p')), null);
    assert.equal(parseBasicCredentials(header('nocolon')), null);
    assert.equal(parseBasicCredentials('Bearer abc'), null);
    assert.equal(parseBasicCredentials('Basic !!'), null);
    assert.equal(basicChallenge('a "b"'), 'Basic realm="a \\"b\\"", charset="UTF-8"');
  });
  it('checks bcrypt ($2a$ $2b$ $2y$), {SHA}, $apr1$ and plaintext', async () => {
    const b = await bcryptHash('s3cret', 4);
    for (const prefix of ['$2a$', '$2b$', '$2y$']) {
      const h = prefix + b.slice(4);
      assert.equal(await verifyPassword('bcrypt', h, 's3cret'), true, prefix);
      assert.equal(await verifyPassword('bcrypt', h, 'wrong'), false, prefix);
    }
    const sha = `{SHA}${createHash('sha1').update('s3cret').digest('base64')}`;
    assert.equal(verifyPassword('sha1', sha, 's3cret'), true);
    assert.equal(verifyPassword('sha1', sha, 's3creT'), false);
    // `openssl passwd -apr1 -salt abc admin`
    assert.equal(apr1('admin', 'abc'), '$apr1$abc$OH5apFdc8k9Op/fAtLfU8.');
    assert.equal(verifyPassword('apr1', '$apr1$abc$OH5apFdc8k9Op/fAtLfU8.', 'admin'), true);
    assert.equal(verifyPassword('apr1', '$apr1$abc$OH5apFdc8k9Op/fAtLfU8.', 'admin2'), false);
    assert.equal(verifyPassword('plain', 'pw', 'pw'), true);
    assert.equal(verifyPassword('plain', 'pw', 'pw2'), false);
  });
  it('remembers successes for a bounded time and number', () => {
    const cache = new VerificationCache(2, 1000);
    const a = cache.keyOf('u', 'p', 'h');
    assert.notEqual(a, cache.keyOf('u', 'p2', 'h'));
    cache.remember(a, 0);
    assert.ok(cache.has(a, 999));
    assert.ok(!cache.has(a, 1000), 'expired');
    cache.remember('k1', 0);
    cache.remember('k2', 0);
    cache.remember('k3', 0);
    assert.equal(cache.size, 2);
    assert.ok(!cache.has('k1', 1), 'the oldest went first');
  });
});

describe('accessPolicy and userAgentBlock', () => {
  it('matches addresses, CIDRs and ranges, IPv4 (also IPv4-mapped) and IPv6', () => {
    const list = compileSourceRanges([
      '10.0.0.2-10.0.0.10',
      '192.168.1.0/24',
      '172.16.1.1',
      '2001:db8::/64',
      'fe80::1-fe80::ff',
    ]);
    for (const a of [
      '10.0.0.2',
      '10.0.0.10',
      '10.0.0.9',
      '::ffff:10.0.0.5',
      '192.168.1.200',
      '172.16.1.1',
      '2001:db8::abcd',
      'fe80::80',
    ]) {
      assert.ok(inSourceRanges(list, a), a);
    }
    for (const a of [
      '10.0.0.11',
      '10.0.0.1',
      '192.168.2.1',
      '172.16.1.2',
      '2001:db8:0:1::1',
      'fe80::100',
      'not-an-ip',
      '',
    ]) {
      assert.ok(!inSourceRanges(list, a), a);
    }
  });
  it('blocks user agents by substring, ignoring case', () => {
    assert.ok(isBlockedAgent('Mozilla/5.0 (compatible; GoogleBot/2.1)', ['googlebot']));
    assert.ok(!isBlockedAgent('curl/8', ['googlebot']));
    assert.ok(!isBlockedAgent(undefined, ['googlebot']));
  });
});

describe('jwtAuth', () => {
  const secret = new TextEncoder().encode('k'.repeat(32));
  const verify = (token: string) =>
    jwtVerify(token, secret, { algorithms: ['HS256'], issuer: 'i', audience: 'a', clockTolerance: 30 }).then(
      () => null,
      refusalFor,
    );
  const now = Math.floor(Date.now() / 1000);
  const sign = (iss: string, aud: string, exp: number, nbf = now - 10) =>
    new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(iss)
      .setAudience(aud)
      .setExpirationTime(exp)
      .setNotBefore(nbf)
      .sign(secret);
  it('maps each verification failure to its refusal, with the leeway', async () => {
    assert.equal(await verify(await sign('i', 'a', now + 60)), null);
    assert.equal(await verify(await sign('i', 'a', now - 10)), null, 'within the 30 s leeway');
    assert.equal(await verify(await sign('i', 'a', now - 120)), JWT_REFUSALS.expired);
    assert.equal(await verify(await sign('i', 'a', now + 600, now + 300)), JWT_REFUSALS.notYetValid);
    assert.equal(await verify(await sign('x', 'a', now + 60)), JWT_REFUSALS.issuer);
    assert.equal(await verify(await sign('i', 'x', now + 60)), JWT_REFUSALS.audience);
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"iss":"i"}').toString('base64url')}.`;
    assert.notEqual(await verify(none), null);
    assert.equal(await verify('garbage'), JWT_REFUSALS.malformed);
  });
  it('reads the bearer token and turns claims into header values', () => {
    assert.equal(bearerToken('Bearer abc'), 'abc');
    assert.equal(bearerToken('bearer abc '), 'abc');
    assert.equal(bearerToken('Basic abc'), null);
    assert.equal(claimHeaderValue(['a', 'b']), 'a,b');
    assert.equal(claimHeaderValue(true), 'true');
    assert.equal(claimHeaderValue({ a: 1 }), '{"a":1}');
    assert.equal(claimHeaderValue('x\r\ny: 1'), null, 'a claim cannot inject a header');
    assert.equal(claimHeaderValue(undefined), null);
  });
});

describe('forwardAuth', () => {
  const rule = {
    authUrl: 'http://auth/verify',
    authSignIn: 'http://auth/login?rd=',
    authRequestHeaders: [],
    authResponseHeaders: [],
    authResponseHeadersAsParams: [],
    addAuthCookiesToResponse: ['session'],
    forwardHostHeaders: false,
    insecureSkipVerify: false,
    timeoutMs: 5000,
  };
  it('redirects a 401 to sign-in with the URL appended, relays other refusals', () => {
    const login = authRefusal(rule, 401, { 'set-cookie': ['session=1', 'other=2'] }, 'http://h/p?q=1');
    assert.equal(login.status, 302);
    assert.deepEqual(login.headers, {
      'set-cookie': ['session=1'],
      location: 'http://auth/login?rd=http%3A%2F%2Fh%2Fp%3Fq%3D1',
    });
    const forbidden = authRefusal(rule, 403, { 'www-authenticate': 'X' }, 'u');
    assert.equal(forbidden.status, 403);
    assert.deepEqual(forbidden.headers, { 'www-authenticate': 'X' });
    assert.equal(authRefusal({ ...rule, authSignIn: null }, 401, {}, 'u').status, 401);
    assert.equal(authRefusal(rule, 500, {}, 'u').status, 500);
  });
  it('selects cookies, builds the sign-in location and sets query parameters', () => {
    assert.deepEqual(selectCookies(['a=1', 'b=2'], []), ['a=1', 'b=2']);
    assert.deepEqual(selectCookies(['a=1; Path=/', 'b=2'], ['a']), ['a=1; Path=/']);
    assert.equal(signInLocation('http://x/login', 'u'), 'http://x/login');
    assert.equal(withQueryParams('/p?userId=spoof&q=1', [['userId', 'u1']]), '/p?userId=u1&q=1');
    assert.equal(withQueryParams('/p', [['a', 'b c']]), '/p?a=b+c');
    assert.equal(withQueryParams('/p?x', []), '/p?x');
  });
});

describe('the bcrypt gate', () => {
  it('runs at most maxActive checks, queues a bounded number, refuses past it', async () => {
    const { BcryptGate } = await import('../../src/middleware/bcrypt-gate.ts');
    let running = 0;
    let most = 0;
    const release: Array<() => void> = [];
    const checked: string[] = [];
    const check = (password: string, hash: string) =>
      new Promise<boolean>((resolve) => {
        running++;
        most = Math.max(most, running);
        checked.push(password);
        release.push(() => {
          running--;
          resolve(password === hash);
        });
      });
    const gate = new BcryptGate(check, 1, 2);
    const results = [gate.run('a', 'a'), gate.run('b', 'x'), gate.run('c', 'c')];
    assert.equal(gate.run('d', 'd'), null, 'the queue is full');
    assert.equal(gate.waiting, 2);
    while (release.length > 0 || gate.waiting > 0) {
      release.shift()?.();
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.deepEqual(await Promise.all(results), [true, false, true]);
    assert.deepEqual(checked, ['a', 'b', 'c'], 'in arrival order');
    assert.equal(most, 1);
  });
});

describe('jwtAuth key sources', () => {
  const at = { file: 't', line: 1, col: 1, path: 'm' };
  const rule = (source: import('@gatehouse/config').JwtKeySource, algorithms: string[] | null = null) => ({
    name: 'j',
    type: 'jwtAuth' as const,
    paths: [],
    at,
    rule: {
      source,
      algorithms,
      issuer: null,
      audience: null,
      claimsExpression: null,
      forwardHeaders: [] as Array<[string, string]>,
      forwardAuthorization: true,
      clockToleranceMs: 30_000,
      jwksRefreshMs: 300_000,
      jwksMinRefreshMs: 30_000,
    },
  });
  it('verifies with a PEM public key and an inline JWKS, never an HMAC token against them', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const { exportJWK } = await import('jose');
    const { JwtAuthStep } = await import('../../src/middleware/jwt-auth.ts');
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const pem = ec.publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const byPem = new JwtAuthStep(rule({ kind: 'publicKey', key: { form: 'inline', path: null, text: pem, at } }));
    const jwk = { ...(await exportJWK(ec.publicKey)), kid: 'k1' };
    const byJwks = new JwtAuthStep(
      rule({ kind: 'jwksFile', jwks: { form: 'inline', path: null, text: JSON.stringify({ keys: [jwk] }), at } }),
    );
    const es384 = await new SignJWT({ sub: 's' })
      .setProtectedHeader({ alg: 'ES384', kid: 'k1' })
      .setExpirationTime('1m')
      .sign(ec.privateKey);
    // An HS256 token whose secret is the public key's PEM: the classic algorithm confusion.
    const confused = await new SignJWT({ sub: 's' })
      .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
      .setExpirationTime('1m')
      .sign(new TextEncoder().encode(pem));
    for (const step of [byPem, byJwks]) {
      const ok = request('/', { authorization: `Bearer ${es384}` });
      assert.equal(await step.onRequest(ok), null);
      assert.equal(ok.authUser, 's');
      assert.notEqual(await step.onRequest(request('/', { authorization: `Bearer ${confused}` })), null);
      step.close();
    }
  });
});
