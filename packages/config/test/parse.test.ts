// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these tests are about the config's ${ENV} syntax
// Valid configs: the Goma example unchanged, defaults, Goma spellings, env expansion, material forms.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_CIPHERS } from '../src/schema.ts';
import { errors, FILE, gomaMtlsExample, load, minimalRoute, ok, oneCertificate, warnings, yaml } from './helpers.ts';

describe('the Goma mTLS example', () => {
  it('validates unchanged, with no warnings', () => {
    const result = load(gomaMtlsExample);
    assert.ok(result.ok, JSON.stringify(result));
    assert.deepEqual(result.warnings, []);
  });
  it('normalises to the expected config', () => {
    const config = ok(gomaMtlsExample);
    assert.equal(config.file, FILE);
    const { tls } = config.gateway;
    assert.equal(tls.certificates.length, 1);
    assert.deepEqual(tls.certificates[0]?.cert, {
      form: 'file',
      kind: 'certificate',
      path: '/etc/goma/certs/cert.pem',
      pem: null,
      at: { file: FILE, line: 4, col: 15, path: 'gateway.tls.certificates[0].cert' },
    });
    assert.equal(tls.certificates[0]?.key.kind, 'private-key');
    assert.equal(tls.clientAuth?.required, true);
    assert.equal(tls.clientAuth?.clientCA?.kind, 'ca-bundle');
    assert.deepEqual(tls.clientAuth?.clientCA?.at, {
      file: FILE,
      line: 7,
      col: 18,
      path: 'gateway.tls.clientAuth.clientCA',
    });

    const [route] = config.routes;
    assert.ok(route);
    assert.equal(route.name, 'api');
    assert.equal(route.path, '/');
    assert.deepEqual(route.hosts, ['api.example.com']);
    assert.equal(route.enabled, true);
    assert.deepEqual(
      route.backends.map((b) => [b.protocol, b.hostname, b.port, b.basePath, b.weight]),
      [
        ['https:', 'api-example', 8443, '/', 80],
        ['https:', 'api-example-beta', 8443, '/', 20],
      ],
    );
    assert.deepEqual(route.backends[1]?.at, { file: FILE, line: 18, col: 9, path: 'routes[0].backends[1]' });
    assert.equal(route.security.forwardHostHeaders, true);
    assert.equal(route.security.tls?.insecureSkipVerify, false);
    assert.equal(route.security.tls?.rootCAs?.kind, 'ca-bundle');
    assert.equal(route.security.tls?.clientCert?.kind, 'certificate');
    assert.equal(route.security.tls?.clientKey?.kind, 'private-key');
    assert.equal(route.security.tls?.serverName, null);
    assert.deepEqual(route.healthCheck, {
      path: '/',
      intervalMs: 15_000,
      timeoutMs: 10_000,
      healthyStatuses: [[200, 200]],
      fall: 3,
      rise: 2,
      panic: false,
      passive5xx: false,
      passiveFailures: 5,
      passiveBaseEjectionMs: 30_000,
      passiveMaxEjectionPercent: 50,
    });
    // The listener asks for client certificates, so the verified identity is forwarded by default.
    assert.deepEqual(route.clientIdentity, {
      header: 'x-forwarded-client-cert',
      fields: ['Hash', 'Subject', 'URI', 'DNS'],
    });
    assert.equal(route.clientAuth, null);
    assert.deepEqual(route.at, { file: FILE, line: 10, col: 5, path: 'routes[0]' });
  });
});

describe('defaults', () => {
  it('fills every gateway default from a file with one route', () => {
    const config = ok(yaml(...minimalRoute));
    const g = config.gateway;
    // No certificate, no HTTPS listener by default.
    assert.deepEqual(g.entryPoints, {
      web: { raw: ':8080', host: '', port: 8080 },
      webSecure: null,
      passThrough: { forwards: [], udpSessionIdleMs: 60_000, udpMaxSessions: 1024 },
    });
    assert.deepEqual(g.tls, {
      certificates: [],
      certsDir: null,
      defaultName: null,
      clientAuth: null,
      minVersion: 'TLSv1.2',
      ciphers: DEFAULT_CIPHERS,
      ecdhCurve: 'X25519:P-256',
      sessionTicketRotationMs: 12 * 3_600_000,
      sessionTimeoutMs: 300_000,
      expiryWarningDays: 14,
    });
    assert.equal(
      DEFAULT_CIPHERS,
      'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305',
    );
    assert.deepEqual(g.timeouts, {
      requestHeaderMs: 10_000,
      requestMs: 60_000,
      keepAliveMs: 60_000,
      upstreamConnectMs: 5_000,
      upstreamResponseMs: 60_000,
      upstreamIdleMs: 4_000,
      drainMs: 30_000,
    });
    assert.deepEqual(g.log, { level: 'info', format: 'json', accessLog: true });
    assert.deepEqual(g.monitoring, {
      enableLiveness: true,
      enableReadiness: true,
      enableRouteHealthCheck: false,
      enableMetrics: false,
      metricsPath: '/metrics',
      host: null,
    });
    assert.deepEqual(g.admin, {
      address: { raw: '127.0.0.1:9180', host: '127.0.0.1', port: 9180 },
      socket: null,
      pidFile: null,
      token: null,
    });
    assert.deepEqual(g.limits, {
      maxHeaderBytes: 16_384,
      maxHeaderCount: 100,
      maxUrlLength: 8_192,
      maxBodyBytes: 10 * 1024 * 1024,
      maxConnectionsPerWorker: 10_000,
      maxConcurrentStreams: 100,
      h2MaxResetsPerWindow: 200,
      h2ResetWindowMs: 10_000,
    });
    assert.deepEqual(g.proxy, { trustedProxies: [], allowUnderscoresInHeaders: false });
    assert.deepEqual(g.watch, { enabled: true, pollIntervalMs: 10_000, debounceMs: 200, pairGraceMs: 5_000 });
    assert.equal(g.workers, 0);
  });
  it('turns the HTTPS listener on at :8443 when there is a certificate', () => {
    const config = ok(yaml('gateway:', '  tls:', '    certificates: [{ cert: c.pem, key: k.pem }]', ...minimalRoute));
    assert.deepEqual(config.gateway.entryPoints.webSecure, { raw: ':8443', host: '', port: 8443 });
  });
  it('warns that clientAuth without a certificate has no effect', () => {
    const found = warnings(yaml('gateway:', '  tls:', '    clientAuth:', '      clientCA: ca.pem', ...minimalRoute));
    assert.deepEqual(
      found.map((w) => `${w.line}:${w.col} ${w.code}`),
      ['3:5 GH_CONFIG_CLIENT_AUTH'],
    );
  });
  it('fills every route default', () => {
    const [route] = ok(yaml(...minimalRoute)).routes;
    assert.deepEqual(route, {
      name: 'r',
      path: '/',
      hosts: [],
      methods: null,
      priority: 0,
      enabled: true,
      trailingSlash: false,
      disableMetrics: false,
      rewrite: null,
      backends: [
        {
          endpoint: 'http://127.0.0.1:3000',
          protocol: 'http:',
          hostname: '127.0.0.1',
          port: 3000,
          basePath: '/',
          weight: 1,
          priority: 0,
          match: [],
          exclusive: false,
          at: { file: FILE, line: 4, col: 13, path: 'routes[0].target' },
        },
      ],
      security: { forwardHostHeaders: true, exploitProtection: false, tls: null },
      healthCheck: null,
      clientAuth: null,
      clientIdentity: null,
      retry: { attempts: 1, on: ['connect-failure', 'reset'] },
      maxBodyBytes: 0,
      tlsProvider: null,
      middlewares: [],
      maintenance: null,
      cors: null,
      at: { file: FILE, line: 2, col: 5, path: 'routes[0]' },
    });
  });
  it('gives a health check its defaults, any status below 400 healthy', () => {
    const [route] = ok(yaml(...minimalRoute, '    healthCheck:', '      path: /')).routes;
    assert.equal(route?.healthCheck?.intervalMs, 10_000);
    assert.equal(route?.healthCheck?.timeoutMs, 5_000);
    assert.deepEqual(route?.healthCheck?.healthyStatuses, [[100, 399]]);
  });
  it('accepts version 2 as a number or a string, and absent', () => {
    assert.equal(ok(yaml('version: 2', ...minimalRoute)).version, 2);
    assert.equal(ok(yaml('version: "2"', ...minimalRoute)).version, 2);
  });
  it('warns that a file without routes answers 404', () => {
    const result = load('gateway: {}\n');
    assert.ok(result.ok);
    assert.match(result.warnings[0]?.message ?? '', /no routes/);
  });
});

describe('Gatehouse keys', () => {
  it('reads listeners, admin, limits, proxies, watch and workers', () => {
    const config = ok(
      yaml(
        'gateway:',
        '  entryPoints:',
        '    web:',
        '      address: ""',
        '    webSecure:',
        '      address: "[::1]:9443"',
        '  admin:',
        '    address: false',
        '    socket: /run/gatehouse.sock',
        '    pidFile: /run/gatehouse.pid',
        '  limits:',
        '    maxHeaderBytes: 32KiB',
        '    maxBodySize: 0',
        '    maxUrlLength: 4096',
        '  proxy:',
        '    trustedProxies: [10.0.0.0/8, "::1", 192.168.1.1]',
        '  watch:',
        '    enabled: false',
        '    pollInterval: 1m',
        '    debounce: 50ms',
        '  workers: 4',
        '  tls:',
        '    certificates: [{ cert: c.pem, key: k.pem }]',
        ...minimalRoute,
      ),
    );
    const g = config.gateway;
    assert.equal(g.entryPoints.web, null);
    assert.deepEqual(g.entryPoints.webSecure, { raw: '[::1]:9443', host: '::1', port: 9443 });
    assert.deepEqual(g.admin, {
      address: null,
      socket: '/run/gatehouse.sock',
      pidFile: '/run/gatehouse.pid',
      token: null,
    });
    assert.equal(g.limits.maxHeaderBytes, 32_768);
    assert.equal(g.limits.maxBodyBytes, 0);
    assert.equal(g.limits.maxUrlLength, 4096);
    assert.deepEqual(g.proxy.trustedProxies, ['10.0.0.0/8', '::1/128', '192.168.1.1/32']);
    assert.deepEqual(g.watch, { enabled: false, pollIntervalMs: 60_000, debounceMs: 50, pairGraceMs: 5_000 });
    assert.equal(g.workers, 4);
  });
  it('turns a listener off with enabled: false', () => {
    const config = ok(yaml('gateway:', '  entryPoints:', '    webSecure:', '      enabled: false', ...minimalRoute));
    assert.equal(config.gateway.entryPoints.webSecure, null);
    assert.notEqual(config.gateway.entryPoints.web, null);
  });
  it('reads route matching, rewrite, retry, body limit and upstream server name', () => {
    const [route] = ok(
      yaml(
        'routes:',
        '  - name: api',
        '    path: /api/v1/',
        '    hosts: [API.Example.com, "*.example.com", "api.example.com:8443"]',
        '    methods: [get, POST, get]',
        '    priority: 10',
        '    enabled: false',
        '    rewrite: /v1',
        '    maxBodySize: 1MiB',
        '    retry:',
        '      attempts: 0',
        '      on: [connect-failure]',
        '    backends:',
        '      - http://a:1',
        '      - endpoint: https://[::1]/base/',
        '        weight: 0',
        '    security:',
        '      forwardHostHeaders: false',
        '      tls:',
        '        serverName: Backend.Internal',
      ),
    ).routes;
    assert.ok(route);
    assert.equal(route.path, '/api/v1');
    assert.deepEqual(route.hosts, ['api.example.com', '*.example.com', 'api.example.com:8443']);
    assert.deepEqual(route.methods, ['GET', 'POST']);
    assert.equal(route.priority, 10);
    assert.equal(route.enabled, false);
    assert.equal(route.rewrite, '/v1');
    assert.equal(route.maxBodyBytes, 1024 * 1024);
    assert.deepEqual(route.retry, { attempts: 0, on: ['connect-failure'] });
    assert.deepEqual(
      route.backends.map((b) => [b.endpoint, b.hostname, b.port, b.basePath, b.weight]),
      [
        ['http://a:1', 'a', 1, '/', 1],
        ['https://[::1]/base/', '::1', 443, '/base', 0],
      ],
    );
    assert.equal(route.security.forwardHostHeaders, false);
    assert.equal(route.security.tls?.serverName, 'backend.internal');
  });
  it('reads health-check tuning and status ranges', () => {
    const [route] = ok(
      yaml(
        ...minimalRoute,
        '    healthCheck:',
        '      path: /healthz',
        '      interval: 2s',
        '      timeout: 500ms',
        '      healthyStatuses: [200, "300-302", 4xx]',
        '      fall: 5',
        '      rise: 1',
        '      panic: true',
        '      passive5xx: true',
        '      passiveFailures: 2',
        '      ejectionTime: 1m',
        '      maxEjectionPercent: 100',
      ),
    ).routes;
    assert.deepEqual(route?.healthCheck, {
      path: '/healthz',
      intervalMs: 2000,
      timeoutMs: 500,
      healthyStatuses: [
        [200, 200],
        [300, 302],
        [400, 499],
      ],
      fall: 5,
      rise: 1,
      panic: true,
      passive5xx: true,
      passiveFailures: 2,
      passiveBaseEjectionMs: 60_000,
      passiveMaxEjectionPercent: 100,
    });
  });
  it('reads route client auth and client identity', () => {
    const config = ok(
      yaml(
        'gateway:',
        '  tls:',
        '    clientAuth:',
        '      clientCA: ca.pem',
        '      crl: crl.pem',
        'routes:',
        '  - name: strict',
        '    path: /admin',
        '    target: http://x:1',
        '    clientAuth:',
        '      allowedSubjects: ["CN=ops,O=Example"]',
        '      allowedSANs: ["*.ops.example.com"]',
        '    clientIdentity:',
        '      header: X-Client-Identity',
        '      fields: [Subject, Hash]',
        '  - name: open',
        '    path: /',
        '    target: http://x:1',
        '    clientAuth:',
        '      required: false',
        '    clientIdentity: false',
        '  - name: off',
        '    path: /public',
        '    target: http://x:1',
        '    clientAuth: { mode: "off" }',
      ),
    );
    assert.equal(config.gateway.tls.clientAuth?.required, false);
    assert.equal(config.gateway.tls.clientAuth?.crl?.kind, 'crl');
    assert.equal(config.gateway.tls.clientAuth?.crl?.path, '/etc/gatehouse/crl.pem');
    const [strict, open, off] = config.routes;
    assert.deepEqual(strict?.clientAuth, {
      mode: 'required',
      allowedSubjects: ['CN=ops,O=Example'],
      allowedSANs: ['*.ops.example.com'],
    });
    assert.deepEqual(strict?.clientIdentity, { header: 'x-client-identity', fields: ['Subject', 'Hash'] });
    assert.equal(open?.clientAuth?.mode, 'optional');
    assert.equal(open?.clientIdentity, null);
    assert.equal(off?.clientAuth?.mode, 'off');
    assert.equal(off?.clientIdentity, null, 'no identity where no certificate is asked for');
  });
  it('reads TLS policy and the default certificate name', () => {
    const config = ok(
      yaml(
        ...oneCertificate,
        '        passphrase: ${KEY_PASS}',
        '    default: WWW.example.com',
        '    minVersion: TLSv1.3',
        '    ciphers: ECDHE-RSA-AES128-GCM-SHA256',
        '    ecdhCurve: P-256',
        '    sessionTicketRotation: 1h',
        '    expiryWarningDays: 30',
        ...minimalRoute,
      ),
      { KEY_PASS: 's3cret' },
    );
    const { tls } = config.gateway;
    assert.equal(tls.certificates[0]?.passphrase, 's3cret');
    assert.equal(tls.certificates[0]?.cert.path, '/etc/gatehouse/a.pem');
    assert.equal(tls.defaultName, 'www.example.com');
    assert.equal(tls.minVersion, 'TLSv1.3');
    assert.equal(tls.ciphers, 'ECDHE-RSA-AES128-GCM-SHA256');
    assert.equal(tls.ecdhCurve, 'P-256');
    assert.equal(tls.sessionTicketRotationMs, 3_600_000);
    assert.equal(tls.expiryWarningDays, 30);
  });
});

describe('Goma compatibility', () => {
  it('reads Goma integer timeouts as seconds, under both Goma spellings', () => {
    const config = ok(yaml('gateway:', '  timeouts:', '    read: 30', '    idle: 90', ...minimalRoute));
    assert.equal(config.gateway.timeouts.requestMs, 30_000);
    assert.equal(config.gateway.timeouts.keepAliveMs, 90_000);
    const v1 = ok(yaml('gateway:', '  readTimeout: 15', '  idleTimeout: 20', ...minimalRoute));
    assert.equal(v1.gateway.timeouts.requestMs, 15_000);
    assert.equal(v1.gateway.timeouts.keepAliveMs, 20_000);
  });
  it('reads plain YAML 1.1 booleans as Go yaml.v3 does for bool keys', () => {
    const config = ok(
      yaml(
        'gateway:',
        '  watch:',
        '    enabled: off',
        '  monitoring:',
        '    enableMetrics: yes',
        ...minimalRoute,
        '    enabled: No',
        '    clientIdentity: on',
      ),
    );
    assert.equal(config.gateway.watch.enabled, false);
    assert.equal(config.gateway.monitoring.enableMetrics, true);
    assert.equal(config.routes[0]?.enabled, false);
    assert.notEqual(config.routes[0]?.clientIdentity, null);
  });
  it('reads routes under gateway.routes as Goma documents them', () => {
    const config = ok(
      yaml(
        'version: 2',
        'gateway:',
        '  routes:',
        '    - name: cart',
        '      path: /cart',
        '      target: http://cart:8080',
      ),
    );
    assert.equal(config.routes[0]?.name, 'cart');
    assert.equal(config.routes[0]?.at.path, 'gateway.routes[0]');
  });
  it('maps Goma v1 spellings', () => {
    const config = ok(
      yaml(
        'gateway:',
        '  tls:',
        '    keys:',
        '      - cert: c.pem',
        '        key: k.pem',
        '  log:',
        '    level: off',
        '    format: text',
        'routes:',
        '  - name: old',
        '    path: /',
        '    destination: http://x:1',
        '    disabled: true',
        '    disableHostForwarding: true',
        '    insecureSkipVerify: true',
      ),
    );
    assert.equal(config.gateway.tls.certificates.length, 1);
    assert.equal(config.gateway.log.level, 'silent');
    assert.equal(config.gateway.log.format, 'pretty');
    const [route] = config.routes;
    assert.equal(route?.backends[0]?.endpoint, 'http://x:1');
    assert.equal(route?.enabled, false);
    assert.equal(route?.security.forwardHostHeaders, false);
    assert.equal(route?.security.tls?.insecureSkipVerify, true);
  });
  it('reads security.enableExploitProtection, and Goma v1 blockCommonExploits (deprecated) as turning it on', () => {
    assert.equal(ok(yaml(...minimalRoute)).routes[0]?.security.exploitProtection, false);
    const on = ok(yaml(...minimalRoute, '    security:', '      enableExploitProtection: true'));
    assert.equal(on.routes[0]?.security.exploitProtection, true);
    const old = yaml(...minimalRoute, '    blockCommonExploits: true');
    assert.equal(ok(old).routes[0]?.security.exploitProtection, true);
    assert.match(
      warnings(old)
        .map((w) => w.path)
        .join(' '),
      /routes\[0\]\.blockCommonExploits/,
    );
    assert.deepEqual(
      errors(yaml(...minimalRoute, '    security:', '      enableExploitProtection: "yes"')).map((e) => e.path),
      ['routes[0].security.enableExploitProtection'],
    );
  });
  it('puts a Goma default {cert, key} first, so it is the default certificate', () => {
    const config = ok(
      yaml(...oneCertificate, '    default:', '      cert: d.pem', '      key: d.key', ...minimalRoute),
    );
    assert.deepEqual(
      config.gateway.tls.certificates.map((c) => c.cert.path),
      ['/etc/gatehouse/d.pem', '/etc/gatehouse/a.pem'],
    );
  });
  it('accepts the Goma keys that change nothing about who may reach what, with one warning each', () => {
    const text = yaml(
      'version: 2',
      'gateway:',
      '  writeTimeout: 15',
      '  networking: { dnsCache: { ttl: 300 } }',
      '  disableHealthCheckStatus: true',
      '  disableKeepAlive: false',
      '  enableStrictSlash: true',
      '  log:',
      '    filePath: /var/log/goma.log',
      '  monitoring:',
      '    enableMetrics: true',
      '    includeRouteHealthErrors: true',
      '  proxy:',
      '    enabled: true',
      'routes:',
      '  - name: r',
      '    path: /',
      '    target: http://x:1',
      '    disableMetrics: true',
      '    cors: {}',
      '    middlewares: []',
      '    backends:',
      '      - endpoint: http://x:2',
      '        match: []',
    );
    const result = load(text);
    assert.ok(result.ok, JSON.stringify(result));
    const unsupported = result.warnings.filter((w) => w.code === 'GH_CONFIG_UNSUPPORTED_KEY').map((w) => w.path);
    assert.deepEqual(unsupported, [
      'gateway.writeTimeout',
      'gateway.networking',
      'gateway.disableHealthCheckStatus',
      'gateway.log.filePath',
      'gateway.monitoring.includeRouteHealthErrors',
    ]);
    for (const w of result.warnings) assert.equal(w.severity, 'warning');
    assert.equal(result.config.gateway.monitoring.enableMetrics, true);
    assert.equal(result.config.routes[0]?.disableMetrics, true);
  });
  it('refuses the Goma keys it does not implement whose absence would change what is served', () => {
    const text = yaml(
      'version: 2',
      'gateway:',
      '  redis: { addr: "redis:6379" }',
      '  errorInterceptor: { enabled: true }',
      '  cors: { origins: ["*"] }',
      '  entryPoints:',
      '    web:',
      '      forwards: [{ protocol: tcp, port: 2222, target: "ssh:22" }]',
      'middlewares:',
      '  - name: auth',
      '    type: basic',
      'certManager:',
      '  acme: { email: a@example.com }',
      'plugins:',
      '  path: /etc/goma/plugins',
      'routes:',
      '  - name: r',
      '    path: /',
      '    middlewares: [auth]',
      '    security:',
      '      enableExploitProtection: true',
      '    backends:',
      '      - endpoint: http://x:2',
      '        match: [{ source: header, name: X-Canary, operator: equals, value: "1" }]',
    );
    const found = errors(text).map((e) => `${e.line}:${e.col} ${e.code} ${e.path}`);
    assert.deepEqual(found, [
      '4:3 GH_CONFIG_UNSUPPORTED_KEY gateway.errorInterceptor',
      '8:7 GH_CONFIG_UNSUPPORTED_KEY gateway.entryPoints.web.forwards',
      // A basicAuth without users can protect nothing: its rule is refused (the name still resolves).
      '10:5 GH_CONFIG_MIDDLEWARE_RULE middlewares[0]',
      '14:1 GH_CONFIG_UNSUPPORTED_KEY plugins',
    ]);
  });
  it("runs a config in the shape Goma's quick start writes, with warnings only, once its middlewares are off", () => {
    const text = yaml(
      'version: 2',
      'gateway:',
      '  timeouts:',
      '    write: 30',
      '    read: 30',
      '    idle: 30',
      '  entryPoints:',
      '    web:',
      '      address: ":80"',
      '    webSecure:',
      '      address: ":443"',
      '  extraConfig:',
      '    directory: ""',
      '    watch: false',
      '  routes:',
      '    - path: /',
      '      enabled: false',
      '      name: minimal',
      '      hosts:',
      '        - minimal.example.com',
      '      target: https://example.com',
      '    - path: /',
      '      name: example',
      "      rewrite: ''",
      '      target: https://example.com',
      '      cors: {}',
      '      security:',
      '        forwardHostHeaders: false',
      '        enableExploitProtection: false',
      '        tls:',
      '          skipVerification: true',
      '          # rootCAs: "" would be an error: empty trust material is never "the default"',
      '      middlewares:',
      '    - name: api',
      '      path: /',
      '      hosts: [app.example.com]',
      '      rewrite: /',
      '      backends:',
      '        - endpoint: https://api-1.example.com',
      '          weight: 1',
      '        - endpoint: https://api-2.example.com',
      '          weight: 3',
      '          exclusive: false',
      '      healthCheck:',
      '        path: /',
      '        interval: 30s',
      '        timeout: 10s',
      '        healthyStatuses: [200, 404]',
      '      middlewares: []',
      'middlewares: []',
    );
    const result = load(text);
    assert.ok(result.ok, JSON.stringify(result));
    const { config } = result;
    assert.deepEqual(config.gateway.entryPoints.web, { raw: ':80', host: '', port: 80 });
    assert.equal(config.gateway.entryPoints.webSecure, null, 'no certificate: HTTPS off, with a warning');
    assert.equal(config.gateway.timeouts.requestMs, 30_000);
    assert.equal(config.gateway.timeouts.keepAliveMs, 30_000);
    const [minimal, example, api] = config.routes;
    assert.equal(minimal?.enabled, false);
    assert.equal(example?.rewrite, null);
    assert.equal(example?.security.forwardHostHeaders, false);
    assert.equal(example?.security.tls?.insecureSkipVerify, true);
    assert.equal(example?.security.tls?.rootCAs, null);
    assert.deepEqual(api?.healthCheck?.healthyStatuses, [
      [200, 200],
      [404, 404],
    ]);
    assert.deepEqual(
      result.warnings.map((w) => `${w.line} ${w.code}`),
      ['4 GH_CONFIG_UNSUPPORTED_KEY', '11 GH_CONFIG_NO_CERTIFICATE'],
    );
  });
  it('follows YAML anchors and merge keys', () => {
    const config = ok(
      yaml(
        '# top-level x- keys are ignored: a home for anchors',
        'x-check: &check',
        '  path: /healthz',
        '  interval: 6s',
        'routes:',
        '  - name: a',
        '    path: /a',
        '    target: http://a:1',
        '    healthCheck: *check',
        '  - name: b',
        '    path: /b',
        '    target: http://b:1',
        '    healthCheck:',
        '      <<: *check',
        '      interval: 7s',
      ),
    );
    assert.equal(config.routes[0]?.healthCheck?.intervalMs, 6000);
    assert.equal(config.routes[1]?.healthCheck?.path, '/healthz');
    assert.equal(config.routes[1]?.healthCheck?.intervalMs, 7000);
  });
});

describe('environment expansion', () => {
  it('expands in any scalar, with defaults, and re-types plain scalars', () => {
    const config = ok(
      yaml(
        'gateway:',
        '  workers: ${WORKERS}',
        '  entryPoints:',
        '    web:',
        '      address: ":${PORT:-8081}"',
        '  watch:',
        '    enabled: ${WATCH}',
        'routes:',
        '  - name: api',
        '    path: /',
        '    backends:',
        '      - endpoint: http://${API_HOST}:${API_PORT:-3000}',
        '        weight: ${W}',
      ),
      { WORKERS: '3', API_HOST: 'api.internal', W: '7', WATCH: 'false' },
    );
    assert.equal(config.gateway.workers, 3);
    assert.equal(config.gateway.entryPoints.web?.port, 8081);
    assert.equal(config.gateway.watch.enabled, false);
    assert.equal(config.routes[0]?.backends[0]?.endpoint, 'http://api.internal:3000');
    assert.equal(config.routes[0]?.backends[0]?.weight, 7);
  });
  it('validates the expanded value', () => {
    const result = load(yaml('gateway:', '  workers: ${WORKERS}', ...minimalRoute), { WORKERS: 'many' });
    assert.equal(result.ok, false);
    assert.equal(result.ok ? '' : result.errors[0]?.code, 'GH_CONFIG_TYPE');
  });
});

describe('certificate material forms', () => {
  const pem = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ\n-----END CERTIFICATE-----\n';
  it('tells file, inline PEM and base64 PEM apart', () => {
    const base64 = Buffer.from(pem).toString('base64');
    const config = ok(
      yaml(
        'gateway:',
        '  tls:',
        '    certificates:',
        '      - cert: |',
        ...pem
          .trimEnd()
          .split('\n')
          .map((l) => `          ${l}`),
        `        key: ${base64}`,
        '      - cert: certs/b.pem',
        '        key: /abs/b.key',
        ...minimalRoute,
      ),
    );
    const [first, second] = config.gateway.tls.certificates;
    assert.equal(first?.cert.form, 'pem');
    assert.equal(first?.cert.pem, pem);
    assert.equal(first?.key.form, 'base64');
    assert.equal(first?.key.pem, pem);
    assert.equal(second?.cert.form, 'file');
    assert.equal(second?.cert.path, '/etc/gatehouse/certs/b.pem');
    assert.equal(second?.key.path, '/abs/b.key');
  });
  it('resolves relative paths of an inline config against the working directory', () => {
    const result = load(yaml('gateway:', '  tls:', '    clientAuth:', '      clientCA: ca.pem', ...minimalRoute));
    assert.ok(result.ok);
  });
});

describe('warnings do not fail a config', () => {
  it('keeps the config when there are only warnings', () => {
    assert.equal(warnings(yaml(...minimalRoute, '    enableBotDetection: false', '    middlewares: []')).length, 0);
    assert.equal(warnings(yaml('gateway:', '  debug: true', ...minimalRoute)).length, 1);
  });
});

describe('admin paths', () => {
  it('resolves a relative socket and pid file against the config file, as certificate paths are', () => {
    const config = ok(
      yaml('gateway:', '  admin:', '    socket: run/admin.sock', '    pidFile: /run/gatehouse.pid', ...minimalRoute),
    );
    assert.equal(config.gateway.admin.socket, '/etc/gatehouse/run/admin.sock');
    assert.equal(config.gateway.admin.pidFile, '/run/gatehouse.pid');
  });
});
