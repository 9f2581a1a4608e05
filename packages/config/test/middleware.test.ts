// The middleware section fails closed: every name must resolve, every type must be one Gatehouse
// runs, every rule must validate, and each problem names its line and column.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluateClaims, parseClaimsExpression } from '../src/middleware/claims-expression.ts';
import { checkSourceRange, passwordScheme } from '../src/middleware/auth-rules.ts';
import { parseMiddlewarePath } from '../src/middleware/paths.ts';
import { errors, load, ok, yaml } from './helpers.ts';

const route = (...extra: string[]) => [
  'routes:',
  '  - name: r',
  '    path: /api',
  '    target: http://127.0.0.1:1',
  ...extra,
];
const BCRYPT_ADMIN = '$2y$05$TIx7l8sJWvMFXw4n0GbkQuOhemPQOormacQC4W1p28TOVzJtx.XpO';

function found(text: string): string[] {
  return errors(text).map((e) => `${e.line}:${e.col} ${e.code} ${e.path}`);
}

describe('middleware definitions', () => {
  it("normalises Goma's basicAuth doc example (docs/middlewares/basic.md)", () => {
    const config = ok(
      yaml(
        ...route('    middlewares: [basic-auth]'),
        'middlewares:',
        '  - name: basic-auth',
        '    type: basicAuth',
        '    paths:',
        '      - /admin',
        '    rule:',
        '      realm: your-realm',
        '      forwardUsername: true',
        '      users:',
        '        - username: admin',
        `          password: "${BCRYPT_ADMIN}"`,
        '        - username: user1',
        '          password: "{SHA}0DPiKuNIrrVmD8IUCuw1hQxNqZc="',
        '        - "user3:$apr1$abc$OH5apFdc8k9Op/fAtLfU8."',
      ),
    );
    assert.deepEqual(config.routes[0]?.middlewares, ['basic-auth']);
    const [m] = config.middlewares;
    assert.equal(m?.type, 'basicAuth');
    assert.deepEqual(m?.paths, ['/admin']);
    assert.deepEqual(m?.type === 'basicAuth' ? m.rule.users.map((u) => `${u.username}:${u.scheme}`) : [], [
      'admin:bcrypt',
      'user1:sha1',
      'user3:apr1',
    ]);
  });
  it('warns about a plaintext password at its line', () => {
    const result = load(
      yaml(
        ...route('    middlewares: [b]'),
        'middlewares:',
        '  - name: b',
        '    type: basic',
        '    rule:',
        '      users: ["u:secret"]',
      ),
    );
    assert.ok(result.ok);
    assert.deepEqual(
      result.warnings.map((w) => `${w.line}:${w.col} ${w.code}`),
      ['10:15 GH_CONFIG_PLAINTEXT_PASSWORD'],
    );
  });
  it('prepends gateway.defaults.middlewares, keeping the position of a name the route lists', () => {
    const defs = ['middlewares:', ...['sec', 'log', 'own'].flatMap((n) => [`  - name: ${n}`, '    type: access'])];
    const config = ok(
      yaml(
        'gateway:',
        '  defaults:',
        '    middlewares: [sec, log]',
        'routes:',
        '  - { name: a, path: /a, target: "http://x:1", middlewares: [own] }',
        '  - { name: b, path: /b, target: "http://x:1", middlewares: [log, own] }',
        '  - { name: c, path: /c, target: "http://x:1" }',
        ...defs,
      ),
    );
    assert.deepEqual(
      config.routes.map((r) => r.middlewares.join(',')),
      ['sec,log,own', 'sec,log,own', 'sec,log'],
    );
  });
  it('accepts definitions under gateway, as Goma v1 files have them', () => {
    const config = ok(
      yaml('gateway:', '  middlewares:', '    - name: m', '      type: access', ...route('    middlewares: [m]')),
    );
    assert.equal(config.middlewares[0]?.name, 'm');
  });
  it('turns on maintenance with its defaults', () => {
    const config = ok(yaml(...route('    maintenance: { enabled: true }')));
    assert.deepEqual(config.routes[0]?.maintenance, { statusCode: 503, message: 'Service temporarily unavailable' });
    assert.equal(ok(yaml(...route('    maintenance: { enabled: false }'))).routes[0]?.maintenance, null);
  });
});

describe('fail closed', () => {
  it('refuses a route naming an undefined middleware, and a default naming one', () => {
    assert.deepEqual(
      found(yaml('gateway:', '  defaults:', '    middlewares: [typo]', ...route('    middlewares: [auth]'))),
      [
        '3:19 GH_CONFIG_UNKNOWN_MIDDLEWARE gateway.defaults.middlewares[0]',
        '8:19 GH_CONFIG_UNKNOWN_MIDDLEWARE routes[0].middlewares[0]',
      ],
    );
  });
  it('refuses unknown and unimplemented types', () => {
    const text = yaml(
      ...route(),
      'middlewares:',
      ...['basicAuthh', 'ldap', 'oauth', 'geoBlock', 'httpCache', 'oauth2', 'myGoPlugin'].flatMap((t, i) => [
        `  - name: m${i}`,
        `    type: ${t}`,
      ]),
    );
    const all = errors(text);
    assert.deepEqual(
      all.map((e) => `${e.line}:${e.col} ${e.code}`),
      [7, 9, 11, 13, 15, 17, 19].map((line) => `${line}:11 GH_CONFIG_MIDDLEWARE_TYPE`),
    );
    assert.match(all[0]?.hint ?? '', /did you mean `basicAuth`/);
    assert.match(all[1]?.message ?? '', /`ldap` is not supported/);
    assert.match(all[5]?.message ?? '', /`oauth2` is not supported/);
    assert.match(all[6]?.hint ?? '', /Go plugins are not supported/);
  });
  it('refuses invalid rules, each at its line', () => {
    const text = yaml(
      ...route(),
      'middlewares:',
      '  - name: no-rule',
      '    type: basicAuth',
      '  - name: bad-hash',
      '    type: basicAuth',
      '    rule: { users: ["u:$6$salt$abc"] }',
      '  - name: two-keys',
      '    type: jwtAuth',
      '    rule: { secret: s, jwksUrl: "https://idp/jwks" }',
      '  - name: no-key',
      '    type: jwt',
      '    rule: { issuer: x }',
      '  - name: confusion',
      '    type: jwt',
      '    rule: { jwksUrl: "https://idp/jwks", algorithms: [HS256] }',
      '  - name: expression',
      '    type: jwt',
      '    rule: { secret: s, claimsExpression: "Equals(\'a\', 1) &&" }',
      '  - name: none-alg',
      '    type: jwt',
      '    rule: { secret: s, algorithms: [none] }',
      '  - name: policy',
      '    type: accessPolicy',
      '    rule: { action: MAYBE, sourceRanges: ["10.0.0.9-10.0.0.1", "10.0.0.0/33"] }',
      '  - name: status',
      '    type: access',
      '    rule: { statusCode: 99 }',
      '  - name: fwd',
      '    type: forwardAuth',
      '    rule: { authUrl: "ftp://auth" }',
      '  - name: ua',
      '    type: userAgentBlock',
      '    rule: { userAgents: [] }',
      '  - name: path',
      '    type: access',
      '    paths: ["/tenant/*/api", ".*\\\\.log$"]',
    );
    assert.deepEqual(found(text), [
      '6:5 GH_CONFIG_MIDDLEWARE_RULE middlewares[0]',
      '10:21 GH_CONFIG_MIDDLEWARE_RULE middlewares[1].rule.users[0]',
      '13:33 GH_CONFIG_MIDDLEWARE_RULE middlewares[2].rule.jwksUrl',
      '16:11 GH_CONFIG_MIDDLEWARE_RULE middlewares[3].rule',
      '19:54 GH_CONFIG_MIDDLEWARE_RULE middlewares[4].rule.algorithms',
      '22:42 GH_CONFIG_MIDDLEWARE_RULE middlewares[5].rule.claimsExpression',
      '25:37 GH_CONFIG_ENUM middlewares[6].rule.algorithms[0]',
      '28:21 GH_CONFIG_ENUM middlewares[7].rule.action',
      '28:43 GH_CONFIG_TYPE middlewares[7].rule.sourceRanges[0]',
      '28:64 GH_CONFIG_TYPE middlewares[7].rule.sourceRanges[1]',
      '31:25 GH_CONFIG_RANGE middlewares[8].rule.statusCode',
      '34:22 GH_CONFIG_TYPE middlewares[9].rule.authUrl',
      '37:25 GH_CONFIG_MIDDLEWARE_RULE middlewares[10].rule.userAgents',
      '40:13 GH_CONFIG_MIDDLEWARE_PATH middlewares[11].paths[0]',
      '40:30 GH_CONFIG_MIDDLEWARE_PATH middlewares[11].paths[1]',
    ]);
  });
  it('refuses two middlewares with one name, and a name listed twice on a route', () => {
    assert.deepEqual(
      found(
        yaml(
          ...route('    middlewares: [m, m]'),
          'middlewares:',
          '  - { name: m, type: access }',
          '  - { name: m, type: access }',
        ),
      ),
      [
        '5:22 GH_CONFIG_DUPLICATE_MIDDLEWARE routes[0].middlewares[1]',
        '8:13 GH_CONFIG_DUPLICATE_MIDDLEWARE middlewares[1].name',
      ],
    );
  });
});

describe('pure parts', () => {
  it('reads path entries: prefixes, anchored regular expressions, nothing else', () => {
    assert.deepEqual(parseMiddlewarePath('/Admin/*'), { kind: 'prefix', base: '/admin' });
    assert.deepEqual(parseMiddlewarePath('/'), { kind: 'prefix', base: '' });
    assert.deepEqual(parseMiddlewarePath('^/api/v[0-9]+/'), { kind: 'regex', source: '^/api/v[0-9]+/' });
    assert.ok('error' in parseMiddlewarePath('/api/v[0-9]+'));
    assert.ok('error' in parseMiddlewarePath('^/(unclosed'));
    assert.ok('error' in parseMiddlewarePath('admin'));
  });
  it('tells the password schemes apart and refuses what it cannot check', () => {
    assert.equal(passwordScheme(BCRYPT_ADMIN), 'bcrypt');
    assert.equal(passwordScheme(BCRYPT_ADMIN.replace('$2y$', '$2b$')), 'bcrypt');
    assert.equal(passwordScheme('{SHA}0DPiKuNIrrVmD8IUCuw1hQxNqZc='), 'sha1');
    assert.equal(passwordScheme('$apr1$abc$OH5apFdc8k9Op/fAtLfU8.'), 'apr1');
    assert.equal(passwordScheme('hunter2'), 'plain');
    assert.ok(typeof passwordScheme('$2y$05$short') !== 'string');
    assert.ok(typeof passwordScheme('$6$salt$hash') !== 'string');
  });
  it('compares address ranges as whole addresses, IPv4 and IPv6', () => {
    assert.equal(checkSourceRange('10.0.0.2-10.0.0.10'), null, 'octet text would order 10 before 2');
    assert.equal(checkSourceRange('2001:db8::1-2001:db8::1:0'), null);
    assert.notEqual(checkSourceRange('2001:db8::ff-2001:db8::1'), null);
    assert.notEqual(checkSourceRange('10.0.0.1-2001:db8::1'), null);
    assert.equal(checkSourceRange('192.168.1.0/24'), null);
  });
  it("evaluates Goma's claims language", () => {
    const claims = {
      email_verified: true,
      role: 'admin',
      roles: ['ops', 'superadmin'],
      scope: 'api:read api:write',
      user: { dept: 'eng' },
      suspended: false,
    };
    const check = (text: string) => evaluateClaims(parseClaimsExpression(text), claims);
    assert.equal(check("Equals('email_verified', true) && OneOf('role', 'admin', 'moderator')"), true);
    assert.equal(check("(Contains('roles', 'ops') || Contains('roles', 'dev')) && !Equals('suspended', true)"), true);
    assert.equal(check("Contains('roles', 'admin')"), false, 'an array element must equal, not contain');
    assert.equal(check("Contains('scope', 'api:write')"), true);
    assert.equal(check("Prefix('user.dept', 'en')"), true);
    assert.equal(check("Equals('missing', false)"), false);
    assert.equal(
      check("!Equals('missing', true) || Equals('role', 'x') && Equals('role', 'y')"),
      true,
      '&& binds tighter',
    );
    assert.throws(() => parseClaimsExpression("Equals('a')"), /Equals takes/);
    assert.throws(() => parseClaimsExpression("Foo('a', 1)"), /expected Equals/);
    assert.throws(() => parseClaimsExpression("Equals('a', 1))"), /unexpected text/);
  });
});
