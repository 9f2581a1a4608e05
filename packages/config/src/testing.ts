// Builders of normalised config values (what parseConfig produces) for the unit tests of the packages
// that consume a GatewayConfig: one place, so that a new config field is added to every test's
// fixture at once. `@gatehouse/config/testing`; nothing at run time imports it.
import type { BackendConfig, GatewayConfig, RouteConfig, SourcePos } from './types.ts';

const TEST_FILE = '<test>';
const at: SourcePos = { file: TEST_FILE, line: 1, col: 1, path: 'routes[0]' };

/** A backend as the parser normalises it: IPv6 without brackets, the scheme's port when none is given. */
export function testBackend(endpoint: string, weight = 1): BackendConfig {
  const url = new URL(endpoint);
  return {
    endpoint,
    protocol: url.protocol as 'http:' | 'https:',
    hostname: url.hostname.replace(/^\[|\]$/g, ''),
    port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
    basePath: url.pathname || '/',
    weight,
    priority: 0,
    match: [],
    exclusive: false,
    at,
  };
}

/** A route with the parser's defaults; `partial` names it and overrides any field. */
export function testRoute(partial: Partial<RouteConfig> & { name: string }): RouteConfig {
  return {
    path: '/',
    hosts: [],
    methods: null,
    priority: 0,
    enabled: true,
    trailingSlash: false,
    disableMetrics: false,
    rewrite: null,
    backends: [testBackend('http://127.0.0.1:1')],
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
    at,
    ...partial,
  };
}

type Gateway = GatewayConfig['gateway'];
/** Per section of `gateway`, the fields to change (sections are merged one level deep). */
export type GatewayOverrides = { [K in keyof Gateway]?: Gateway[K] extends object ? Partial<Gateway[K]> : Gateway[K] };

/** A whole config around `routes`: plain HTTP on 127.0.0.1:0, no TLS, no admin, one worker. */
export function testGatewayConfig(routes: RouteConfig[], overrides: GatewayOverrides = {}): GatewayConfig {
  const gateway: Gateway = {
    entryPoints: {
      web: { raw: '127.0.0.1:0', host: '127.0.0.1', port: 0 },
      webSecure: null,
      passThrough: { forwards: [], udpSessionIdleMs: 60_000, udpMaxSessions: 1024 },
    },
    cors: null,
    tls: {
      certificates: [],
      certsDir: null,
      defaultName: null,
      clientAuth: null,
      minVersion: 'TLSv1.2',
      ciphers: '',
      ecdhCurve: 'X25519:P-256',
      sessionTicketRotationMs: 3_600_000,
      sessionTimeoutMs: 300_000,
      expiryWarningDays: 14,
    },
    timeouts: {
      requestHeaderMs: 10_000,
      requestMs: 60_000,
      keepAliveMs: 5_000,
      upstreamConnectMs: 1_000,
      upstreamResponseMs: 2_000,
      upstreamIdleMs: 4_000,
      drainMs: 5_000,
    },
    log: { level: 'info', format: 'json', accessLog: true },
    monitoring: {
      enableLiveness: false,
      enableReadiness: false,
      enableRouteHealthCheck: false,
      enableMetrics: false,
      metricsPath: '/metrics',
      host: null,
    },
    admin: { address: null, socket: null, pidFile: null, token: null },
    limits: {
      maxHeaderBytes: 16_384,
      maxHeaderCount: 100,
      maxUrlLength: 8_192,
      maxBodyBytes: 0,
      maxConnectionsPerWorker: 10_000,
      maxConcurrentStreams: 100,
      h2MaxResetsPerWindow: 100,
      h2ResetWindowMs: 1_000,
    },
    proxy: { trustedProxies: [], allowUnderscoresInHeaders: false },
    watch: { enabled: false, pollIntervalMs: 0, debounceMs: 100, pairGraceMs: 5_000 },
    workers: 1,
    strictSlash: true,
    redis: null,
    extraConfig: [],
  };
  for (const key of Object.keys(overrides) as (keyof Gateway)[]) {
    const value = overrides[key];
    const base = gateway[key];
    (gateway as unknown as Record<string, unknown>)[key] =
      typeof base === 'object' && base !== null && !Array.isArray(base) && typeof value === 'object' && value !== null
        ? { ...base, ...value }
        : value;
  }
  return { version: 2, file: TEST_FILE, gateway, routes, certManager: null, middlewares: [] };
}
