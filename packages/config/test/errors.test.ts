// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these tests are about the config's ${ENV} syntax
// Every error kind, each at its exact line and column.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errors, load, minimalRoute, ok, oneError, warnings, yaml } from './helpers.ts';

describe('YAML syntax errors', () => {
  it('reports a bad indentation at the parser position', () => {
    const text = yaml('routes:', '  - name: a', '    path: /', '   target: http://x:1');
    const [error] = errors(text);
    assert.equal(error?.code, 'GH_CONFIG_YAML');
    assert.deepEqual([error?.line, error?.col], [4, 1]);
    assert.equal(error?.message, 'YAML: Sequence item without - indicator');
    assert.match(error?.hint ?? '', /indentation/);
  });
  it('reports an unclosed quote', () => {
    // The parser notices at the end of the input; the hint says what to look for above it.
    const error = oneError(yaml('routes:', '  - name: "a', '    path: /'), 'GH_CONFIG_YAML', 4, 1);
    assert.match(error.message, /closing "quote$/);
    assert.match(error.hint ?? '', /not closed/);
  });
  it('reports a repeated key at the repeat', () => {
    const text = yaml('gateway:', '  log:', '    level: info', '    level: debug', ...minimalRoute);
    const error = oneError(text, 'GH_CONFIG_YAML', 4, 5);
    assert.notEqual(error.hint, null);
  });
  it('reports a tab used as indentation', () => {
    const [error] = errors('gateway:\n\tlog: {}\n');
    assert.equal(error?.code, 'GH_CONFIG_YAML');
    assert.equal(error?.line, 2);
  });
});

describe('the whole file', () => {
  it('rejects an empty file', () => {
    oneError('# nothing but a comment\n', 'GH_CONFIG_EMPTY', 1, 1);
  });
  it('rejects a file that is not a map', () => {
    const error = oneError('- a\n- b\n', 'GH_CONFIG_TYPE', 1, 1);
    assert.equal(error.message, 'the file must be a map of keys (got a list)');
  });
  it('rejects a second YAML document', () => {
    const error = oneError(yaml(...minimalRoute, '---', 'routes: []'), 'GH_CONFIG_YAML', 5, 1);
    assert.equal(error.message, 'YAML: Source contains multiple documents');
  });
});

describe('unknown keys', () => {
  it('suggests the nearest valid key', () => {
    const text = yaml('routes:', '  - name: a', '    path: /', '    backend:', '      - endpoint: http://x:1');
    const error = oneError(text, 'GH_CONFIG_UNKNOWN_KEY', 4, 5);
    assert.equal(error.path, 'routes[0].backend');
    assert.equal(error.hint, 'did you mean `backends`?');
  });
  it('lists the valid keys when none is near', () => {
    const error = oneError(yaml('gateway:', '  zzzzzz: 1', ...minimalRoute), 'GH_CONFIG_UNKNOWN_KEY', 2, 3);
    assert.match(error.hint ?? '', /^valid keys here: entryPoints, tls, timeouts/);
  });
  it('says where a misplaced key belongs', () => {
    const text = yaml(
      'routes:',
      '  - name: a',
      '    path: /',
      '    backends:',
      '      - endpoint: http://x:1',
      '        healthCheck:',
      '          path: /healthz',
    );
    const error = oneError(text, 'GH_CONFIG_UNKNOWN_KEY', 6, 9);
    assert.equal(error.hint, '`healthCheck` belongs under `routes[]`; check the indentation');
    const top = oneError(yaml('gateway:', '  clientCA: ca.pem', ...minimalRoute), 'GH_CONFIG_UNKNOWN_KEY', 2, 3);
    assert.equal(top.hint, '`clientCA` belongs under `gateway.tls.clientAuth`; check the indentation');
  });
  it('catches a misspelt top-level key', () => {
    const error = oneError(yaml('rouets:', '  - name: a'), 'GH_CONFIG_UNKNOWN_KEY', 1, 1);
    assert.equal(error.hint, 'did you mean `routes`?');
  });
  it('catches unknown keys deep inside', () => {
    const text = yaml(...minimalRoute, '    healthCheck:', '      intervall: 5s');
    const error = oneError(text, 'GH_CONFIG_UNKNOWN_KEY', 6, 7);
    assert.equal(error.hint, 'did you mean `interval`?');
  });
});

describe('wrong types', () => {
  it('a scalar where a list belongs', () => {
    const text = yaml('routes:', '  - name: a', '    path: /', '    hosts: api.example.com', '    target: http://x:1');
    const error = oneError(text, 'GH_CONFIG_TYPE', 4, 12);
    assert.match(error.message, /hosts must be a list \(got "api.example.com"\)/);
  });
  it('a string where a boolean belongs', () => {
    const text = yaml('routes:', '  - name: a', '    path: /', '    enabled: "yes"', '    target: http://x:1');
    const error = oneError(text, 'GH_CONFIG_TYPE', 4, 14);
    assert.match(error.message, /enabled must be `true` or `false`/);
  });
  it('a string where a whole number belongs', () => {
    const text = yaml('routes:', '  - name: a', '    path: /', '    priority: high', '    target: http://x:1');
    oneError(text, 'GH_CONFIG_TYPE', 4, 15);
  });
  it('a number out of range', () => {
    const error = oneError(yaml('gateway:', '  workers: 5000', ...minimalRoute), 'GH_CONFIG_RANGE', 2, 12);
    assert.match(error.message, /from 0 to 1024/);
  });
  it('a list where a map belongs', () => {
    oneError(yaml('gateway:', '  log:', '    - info', ...minimalRoute), 'GH_CONFIG_TYPE', 3, 5);
  });
  it('a value outside an enum, with a suggestion', () => {
    const error = oneError(yaml('gateway:', '  log:', '    level: inf', ...minimalRoute), 'GH_CONFIG_ENUM', 3, 12);
    assert.equal(error.hint, 'did you mean `info`?');
  });
});

describe('endpoints', () => {
  const route = (endpoint: string) =>
    yaml('routes:', '  - name: a', '    path: /', '    backends:', `      - endpoint: ${endpoint}`);
  it('rejects a malformed URL', () => {
    const error = oneError(route('http//api:8080'), 'GH_CONFIG_ENDPOINT', 5, 19);
    assert.match(error.message, /is not a URL/);
  });
  it('rejects a scheme other than http or https', () => {
    const error = oneError(route('ftp://api:21'), 'GH_CONFIG_ENDPOINT', 5, 19);
    assert.match(error.message, /scheme `ftp`/);
  });
  it('rejects a bad target too', () => {
    oneError(yaml('routes:', '  - name: a', '    path: /', '    target: ws://x:1'), 'GH_CONFIG_ENDPOINT', 4, 13);
  });
});

describe('routes', () => {
  it('rejects duplicate names at the second one', () => {
    const text = yaml(...minimalRoute, '  - name: r', '    path: /b', '    target: http://x:1');
    const error = oneError(text, 'GH_CONFIG_DUPLICATE_ROUTE', 5, 11);
    assert.match(error.message, /already used by routes\[0\] \(line 2\)/);
  });
  it('rejects duplicate names across gateway.routes and routes', () => {
    const text = yaml(
      'gateway:',
      '  routes:',
      '    - name: r',
      '      path: /',
      '      target: http://x:1',
      ...minimalRoute,
    );
    oneError(text, 'GH_CONFIG_DUPLICATE_ROUTE', 7, 11);
  });
  it('rejects a route with neither target nor backends, at the route', () => {
    const error = oneError(yaml('routes:', '  - name: a', '    path: /'), 'GH_CONFIG_NO_BACKEND', 2, 5);
    assert.match(error.message, /neither `target` nor `backends`/);
  });
  it('rejects an empty backends list', () => {
    oneError(yaml('routes:', '  - name: a', '    path: /', '    backends: []'), 'GH_CONFIG_NO_BACKEND', 4, 5);
  });
  it('warns (does not fail) when both target and backends are set, and uses backends', () => {
    const text = yaml(...minimalRoute, '    backends:', '      - endpoint: http://b:2');
    const result = load(text);
    assert.ok(result.ok);
    assert.deepEqual(
      result.config.routes[0]?.backends.map((b) => b.endpoint),
      ['http://b:2'],
    );
    const warning = result.warnings.find((w) => w.code === 'GH_CONFIG_TARGET_AND_BACKENDS');
    assert.deepEqual([warning?.line, warning?.col], [4, 5]);
  });
  it('rejects a path that does not start with /', () => {
    const error = oneError(
      yaml('routes:', '  - name: a', '    path: api', '    target: http://x:1'),
      'GH_CONFIG_PATH',
      3,
      11,
    );
    assert.equal(error.hint, 'start the path with `/`');
  });
  it('rejects a rewrite that does not start with /', () => {
    oneError(yaml(...minimalRoute, '    rewrite: v2'), 'GH_CONFIG_PATH', 5, 14);
  });
  it('reports a missing name at the route', () => {
    const error = oneError(yaml('routes:', '  - path: /', '    target: http://x:1'), 'GH_CONFIG_REQUIRED', 2, 5);
    assert.match(error.message, /`name` is required/);
  });
  it('rejects a bad host and a bad method', () => {
    const text = yaml(...minimalRoute, '    hosts: ["api example.com"]', '    methods: [GET, "PO ST"]');
    oneError(text, 'GH_CONFIG_HOST', 5, 13);
    oneError(text, 'GH_CONFIG_METHOD', 6, 20);
  });
  it('rejects a route clientAuth whose `required` contradicts its `mode`', () => {
    const text = yaml(
      'gateway:',
      '  tls:',
      '    clientAuth: { clientCA: ca.pem }',
      ...minimalRoute,
      '    clientAuth:',
      '      mode: optional',
      '      required: true',
    );
    const error = oneError(text, 'GH_CONFIG_CLIENT_AUTH', 10, 7);
    assert.equal(error.hint, 'keep only `mode`');
  });
  it('rejects a route clientAuth when the listener asks for no client certificates', () => {
    oneError(yaml(...minimalRoute, '    clientAuth:', '      mode: required'), 'GH_CONFIG_CLIENT_AUTH', 6, 7);
  });
});

describe('backends', () => {
  it('rejects one endpoint listed twice in a route, at the second', () => {
    const text = yaml(
      'routes:',
      '  - name: a',
      '    path: /',
      '    backends:',
      '      - endpoint: http://x:1',
      '      - endpoint: http://y:1',
      '      - http://x:1',
    );
    const error = oneError(text, 'GH_CONFIG_DUPLICATE_BACKEND', 7, 9);
    assert.match(error.message, /already listed \(line 5\)/);
  });
});

describe('weights', () => {
  const route = (weight: string) =>
    yaml(
      'routes:',
      '  - name: a',
      '    path: /',
      '    backends:',
      '      - endpoint: http://x:1',
      `        weight: ${weight}`,
    );
  it('rejects a negative weight', () => {
    const error = oneError(route('-3'), 'GH_CONFIG_WEIGHT', 6, 17);
    assert.equal(error.path, 'routes[0].backends[0].weight');
    assert.equal(error.message, 'weight must be a whole number >= 0 (got -3)');
    assert.notEqual(error.hint, null);
  });
  it('rejects a fractional weight', () => {
    oneError(route('1.5'), 'GH_CONFIG_WEIGHT', 6, 17);
  });
  it('rejects a weight that is not a number', () => {
    oneError(route('heavy'), 'GH_CONFIG_WEIGHT', 6, 17);
  });
});

describe('durations', () => {
  it('rejects an unparseable duration', () => {
    const text = yaml(...minimalRoute, '    healthCheck:', '      interval: 15 seconds');
    const error = oneError(text, 'GH_CONFIG_DURATION', 6, 17);
    assert.equal(error.message, '"15 seconds" is not a duration');
    assert.match(error.hint ?? '', /1h30m/);
  });
  it('rejects a negative Goma integer', () => {
    oneError(yaml('gateway:', '  timeouts:', '    read: -5', ...minimalRoute), 'GH_CONFIG_DURATION', 3, 11);
  });
});

describe('health checks', () => {
  it('rejects a timeout equal to the interval, at the timeout', () => {
    const text = yaml(...minimalRoute, '    healthCheck:', '      interval: 10s', '      timeout: 10s');
    const error = oneError(text, 'GH_CONFIG_HEALTH_TIMEOUT', 7, 16);
    assert.match(error.message, /timeout 10s must be below its interval 10s/);
  });
  it('rejects a timeout above the interval', () => {
    const text = yaml(...minimalRoute, '    healthCheck:', '      timeout: 30s', '      interval: 15s');
    oneError(text, 'GH_CONFIG_HEALTH_TIMEOUT', 6, 16);
  });
  it('blames the interval when the default timeout is too long for it', () => {
    const text = yaml(...minimalRoute, '    healthCheck:', '      interval: 3s');
    const error = oneError(text, 'GH_CONFIG_HEALTH_TIMEOUT', 6, 17);
    assert.equal(error.path, 'routes[0].healthCheck.interval');
  });
  it('rejects a status that is not one', () => {
    oneError(yaml(...minimalRoute, '    healthCheck:', '      healthyStatuses: [200, 700]'), 'GH_CONFIG_STATUS', 6, 30);
    oneError(
      yaml(...minimalRoute, '    healthCheck:', '      healthyStatuses: ["399-200"]'),
      'GH_CONFIG_STATUS',
      6,
      25,
    );
  });
});

describe('upstream TLS pairs', () => {
  it('rejects clientCert without clientKey, at clientCert', () => {
    const text = yaml(...minimalRoute, '    security:', '      tls:', '        clientCert: /certs/c.pem');
    const error = oneError(text, 'GH_CONFIG_CLIENT_KEY_MISSING', 7, 9);
    assert.equal(error.path, 'routes[0].security.tls.clientCert');
  });
  it('rejects clientKey without clientCert, at clientKey', () => {
    const text = yaml(
      ...minimalRoute,
      '    security:',
      '      tls:',
      '        rootCAs: /ca.pem',
      '        clientKey: /k.pem',
    );
    oneError(text, 'GH_CONFIG_CLIENT_CERT_MISSING', 8, 9);
  });
  it('rejects a server certificate without its key', () => {
    const text = yaml('gateway:', '  tls:', '    certificates:', '      - cert: /c.pem', ...minimalRoute);
    const error = oneError(text, 'GH_CONFIG_REQUIRED', 4, 9);
    assert.match(error.message, /`key` is required/);
  });
  it('rejects clientAuth without clientCA', () => {
    oneError(
      yaml('gateway:', '  tls:', '    clientAuth:', '      required: true', ...minimalRoute),
      'GH_CONFIG_REQUIRED',
      4,
      7,
    );
  });
});

describe('listen addresses and proxies', () => {
  it('rejects an address without a port', () => {
    const text = yaml('gateway:', '  entryPoints:', '    web:', '      address: "8080"', ...minimalRoute);
    const error = oneError(text, 'GH_CONFIG_ADDRESS', 4, 16);
    assert.match(error.message, /port is missing/);
  });
  it('rejects a port above 65535 on the admin listener', () => {
    oneError(
      yaml('gateway:', '  admin:', '    address: "127.0.0.1:70000"', ...minimalRoute),
      'GH_CONFIG_ADDRESS',
      3,
      14,
    );
  });
  it('rejects a bare number with a hint to quote it', () => {
    const text = yaml('gateway:', '  entryPoints:', '    web:', '      address: 8080', ...minimalRoute);
    const error = oneError(text, 'GH_CONFIG_ADDRESS', 4, 16);
    assert.match(error.hint ?? '', /":8080"/);
  });
  it('rejects two listeners on one port', () => {
    const text = yaml(
      'gateway:',
      '  entryPoints:',
      '    webSecure:',
      '      address: ":8080"',
      '  tls:',
      '    certificates: [{ cert: c.pem, key: k.pem }]',
      ...minimalRoute,
    );
    oneError(text, 'GH_CONFIG_ADDRESS', 4, 16);
  });
  it('turns off, with a warning at its key, an HTTPS listener asked for without a certificate', () => {
    const text = yaml('gateway:', '  entryPoints:', '    webSecure:', '      address: ":443"', ...minimalRoute);
    const result = load(text);
    assert.ok(result.ok);
    assert.equal(result.config.gateway.entryPoints.webSecure, null);
    const [warning] = result.warnings;
    assert.deepEqual([warning?.code, warning?.line, warning?.col], ['GH_CONFIG_NO_CERTIFICATE', 4, 7]);
    assert.match(warning?.hint ?? '', /gateway\.tls\.certificates/);
  });
  it('rejects all listeners off', () => {
    const text = yaml(
      'gateway:',
      '  entryPoints:',
      '    web:',
      '      enabled: false',
      '    webSecure:',
      '      address: ""',
      ...minimalRoute,
    );
    oneError(text, 'GH_CONFIG_ADDRESS', 3, 5);
  });
  it('rejects a bad trusted proxy CIDR', () => {
    const text = yaml('gateway:', '  proxy:', '    trustedProxies: ["10.0.0.0/8", "10.0.0.0/40"]', ...minimalRoute);
    oneError(text, 'GH_CONFIG_CIDR', 3, 36);
  });
});

describe('sizes, versions, environment', () => {
  it('rejects a bad size', () => {
    oneError(yaml('gateway:', '  limits:', '    maxBodySize: lots', ...minimalRoute), 'GH_CONFIG_SIZE', 3, 18);
  });
  it('rejects another version', () => {
    const error = oneError(yaml('version: 1', ...minimalRoute), 'GH_CONFIG_VERSION', 1, 10);
    assert.match(error.hint ?? '', /v2/);
  });
  it('reports an unset variable at the `${`', () => {
    const text = yaml('routes:', '  - name: a', '    path: /', '    target: http://${API_HOST}:80');
    const error = oneError(text, 'GH_CONFIG_ENV', 4, 20);
    assert.match(error.message, /`API_HOST` is not set/);
  });
  it('counts the opening quote of a quoted scalar', () => {
    const text = yaml('routes:', '  - name: a', '    path: /', '    target: "http://${API_HOST}:80"');
    oneError(text, 'GH_CONFIG_ENV', 4, 21);
  });
  it('rejects a key given under two of its names', () => {
    const text = yaml('gateway:', '  timeouts:', '    read: 30', '    request: 30s', ...minimalRoute);
    oneError(text, 'GH_CONFIG_DUPLICATE_KEY', 4, 5);
  });
});

describe('empty trust material (no empty trust)', () => {
  const tlsWith = (...clientAuth: string[]) =>
    yaml(
      'gateway:',
      '  tls:',
      '    certificates:',
      '      - cert: /etc/tls/cert.pem',
      '        key: /etc/tls/key.pem',
      '    clientAuth:',
      ...clientAuth,
      ...minimalRoute,
    );
  it('rejects `clientCA: ""` at the value, instead of trusting nobody, or the public roots', () => {
    const error = oneError(tlsWith('      clientCA: ""', '      required: true'), 'GH_CONFIG_EMPTY_MATERIAL', 7, 17);
    assert.equal(error.path, 'gateway.tls.clientAuth.clientCA');
    assert.match(error.message, /clientCA is empty/);
  });
  it('rejects a whitespace-only CRL', () => {
    oneError(tlsWith('      clientCA: /etc/tls/ca.pem', '      crl: "  "'), 'GH_CONFIG_EMPTY_MATERIAL', 8, 12);
  });
  it('rejects `${CLIENT_CA}` that expands to an empty string, and names the variable', () => {
    const text = tlsWith('      clientCA: ${CLIENT_CA}', '      required: true');
    const error = oneError(text, 'GH_CONFIG_EMPTY_MATERIAL', 7, 17, { CLIENT_CA: '' });
    assert.match(error.message, /\$\{CLIENT_CA\} expands to ""/);
    // The same file with the variable set is valid.
    assert.equal(load(text, { CLIENT_CA: '/etc/tls/ca.pem' }).ok, true);
  });
  it('rejects empty certificate, key and backend TLS fields too', () => {
    const text = yaml(
      'gateway:',
      '  tls:',
      '    certificates:',
      "      - cert: ''",
      '        key: " "',
      'routes:',
      '  - name: r',
      '    path: /',
      '    target: https://127.0.0.1:3000',
      '    security:',
      '      tls:',
      '        rootCAs: ""',
      '        clientCert: ${NONE:-}',
      '        clientKey: ""',
    );
    const found = errors(text)
      .filter((e) => e.code === 'GH_CONFIG_EMPTY_MATERIAL')
      .map((e) => `${e.line}:${e.col} ${e.path}`);
    assert.deepEqual(found, [
      '4:15 gateway.tls.certificates[0].cert',
      '5:14 gateway.tls.certificates[0].key',
      '12:18 routes[0].security.tls.rootCAs',
      '13:21 routes[0].security.tls.clientCert',
      '14:20 routes[0].security.tls.clientKey',
    ]);
  });
});

describe('allow-lists', () => {
  it('allow-list globs: an allowedSANs entry with an unknown type prefix is an error at the entry', () => {
    const text = yaml(
      'gateway:',
      '  tls:',
      '    certificates: [{ cert: /c.pem, key: /k.pem }]',
      '    clientAuth: { clientCA: /ca.pem }',
      'routes:',
      '  - name: r',
      '    path: /',
      '    target: http://127.0.0.1:3000',
      '    clientAuth:',
      '      allowedSANs: ["URI:spiffe://x/*", "dirName:CN=x", "*.ok.test", "IP:10.0.0.1", "email:a@b.c"]',
    );
    const error = oneError(text, 'GH_CONFIG_CLIENT_AUTH', 10, 41);
    assert.equal(error.path, 'routes[0].clientAuth.allowedSANs[1]');
    assert.match(error.message, /`dirName:` is not a SAN type/);
  });
});

describe('everything at once', () => {
  it('reports every error in one pass, in file order', () => {
    const text = yaml(
      'gateway:',
      '  timeouts:',
      '    request: soon',
      'routes:',
      '  - name: a',
      '    path: nope',
      '    backends:',
      '      - endpoint: ftp://x',
      '        weight: -1',
      '    healthCheck:',
      '      interval: 1s',
      '      timeout: 2s',
      '  - name: a',
      '    path: /b',
      '    tagret: http://x:1',
    );
    const found = errors(text).map((e) => `${e.line}:${e.col} ${e.code}`);
    assert.deepEqual(found, [
      '3:14 GH_CONFIG_DURATION',
      '6:11 GH_CONFIG_PATH',
      '8:19 GH_CONFIG_ENDPOINT',
      '9:17 GH_CONFIG_WEIGHT',
      '12:16 GH_CONFIG_HEALTH_TIMEOUT',
      '13:5 GH_CONFIG_NO_BACKEND',
      '13:11 GH_CONFIG_DUPLICATE_ROUTE',
      '15:5 GH_CONFIG_UNKNOWN_KEY',
    ]);
  });
});

describe('warnings', () => {
  it('warns about Goma keys Gatehouse ignores, at the key', () => {
    const text = yaml('gateway:', '  networking:', '    dnsCache: { ttl: 300 }', ...minimalRoute, '    enabled: true');
    const found = warnings(text).map((w) => `${w.line}:${w.col} ${w.code} ${w.path}`);
    assert.deepEqual(found, ['2:3 GH_CONFIG_UNSUPPORTED_KEY gateway.networking']);
  });
  it('gives advice where Gatehouse has another way, and none where it has not', () => {
    const found = warnings(yaml('gateway:', '  debug: true', '  disableKeepAlive: true', ...minimalRoute));
    assert.deepEqual(
      found.map((w) => w.hint),
      ['use `gateway.log.level: debug`.', null],
    );
  });
  it('does not flag top-level x- keys (anchors live there)', () => {
    assert.deepEqual(warnings(yaml('x-defaults: &d', '  a: 1', ...minimalRoute)), []);
  });
  it('warns about deprecated spellings', () => {
    const text = yaml('routes:', '  - name: a', '    path: /', '    destination: http://x:1');
    const [warning] = warnings(text);
    assert.equal(warning?.code, 'GH_CONFIG_DEPRECATED_KEY');
    assert.equal(warning?.hint, 'write `target`');
    assert.deepEqual([warning?.line, warning?.col], [4, 5]);
  });
});

describe('the admin listener', () => {
  const adminYaml = (...lines: string[]) => yaml('gateway:', '  admin:', ...lines, ...minimalRoute);
  it('rejects an admin address other machines can reach without a token', () => {
    for (const address of ['":9180"', '"0.0.0.0:9180"', '"10.1.2.3:9180"', '"[::]:9180"', '"admin.internal:9180"']) {
      const error = oneError(adminYaml(`    address: ${address}`), 'GH_CONFIG_ADMIN', 3, 14);
      assert.equal(error.path, 'gateway.admin.address');
      assert.match(error.message, /gateway\.admin\.token/);
    }
  });
  it('accepts loopback admin addresses without a token, and any address with one', () => {
    for (const address of ['"127.0.0.1:9180"', '"127.8.9.10:9180"', '"[::1]:9180"', '"localhost:9180"']) {
      ok(adminYaml(`    address: ${address}`));
    }
    const config = ok(adminYaml('    address: ":9180"', '    token: ${ADMIN_TOKEN}'), {
      ADMIN_TOKEN: 'a-long-enough-token-0123',
    });
    assert.equal(config.gateway.admin.token, 'a-long-enough-token-0123');
  });
  it('rejects an empty token, also one that ${ENV} expands to nothing, instead of turning authentication off', () => {
    const error = oneError(adminYaml('    token: ""'), 'GH_CONFIG_ADMIN', 3, 12);
    assert.match(error.message, /^token is empty/);
    oneError(adminYaml('    token: "${ADMIN_TOKEN}"'), 'GH_CONFIG_ADMIN', 3, 12, { ADMIN_TOKEN: '' });
    oneError(adminYaml('    token: "   "'), 'GH_CONFIG_ADMIN', 3, 12);
  });
  it('rejects a short token and one that cannot travel in a header', () => {
    assert.match(oneError(adminYaml('    token: short'), 'GH_CONFIG_ADMIN', 3, 12).message, /at least 16/);
    oneError(adminYaml('    token: "sixteen chars and a space"'), 'GH_CONFIG_ADMIN', 3, 12);
  });
  it('names only the token when a non-loopback address comes with an invalid one', () => {
    const all = errors(adminYaml('    address: ":9180"', '    token: ""'));
    assert.deepEqual(
      all.map((e) => e.path),
      ['gateway.admin.token'],
    );
  });
});
