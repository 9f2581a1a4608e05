// Builders for normalised config values, as packages/config would produce them, for unit tests.
import type { BackendConfig, GatewayConfig, RouteConfig, SourcePos } from '@gatehouse/config';

const at: SourcePos = { file: '<test>', line: 1, col: 1, path: 'routes[0]' };

export function backend(endpoint: string, weight = 1): BackendConfig {
  const url = new URL(endpoint);
  return {
    endpoint,
    protocol: url.protocol as 'http:' | 'https:',
    hostname: url.hostname.replace(/^\[|\]$/g, ''),
    port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
    basePath: url.pathname || '/',
    weight,
    at,
  };
}

export function route(partial: Partial<RouteConfig> & { name: string }): RouteConfig {
  return {
    path: '/',
    hosts: [],
    methods: null,
    priority: 0,
    enabled: true,
    rewrite: null,
    backends: [backend('http://127.0.0.1:1')],
    security: { forwardHostHeaders: true, tls: null },
    healthCheck: null,
    clientAuth: null,
    clientIdentity: null,
    retry: { attempts: 1, on: ['connect-failure', 'reset'] },
    maxBodyBytes: 0,
    at,
    ...partial,
  };
}

export function gatewayConfig(routes: RouteConfig[]): GatewayConfig {
  return {
    version: 2,
    file: '<test>',
    gateway: {
      entryPoints: { web: { raw: '127.0.0.1:0', host: '127.0.0.1', port: 0 }, webSecure: null },
      tls: {
        certificates: [],
        defaultName: null,
        clientAuth: null,
        minVersion: 'TLSv1.2',
        ciphers: '',
        ecdhCurve: 'X25519:P-256',
        sessionTicketRotationMs: 3_600_000,
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
      },
      admin: { address: null, socket: null, pidFile: null },
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
      proxy: { trustedProxies: [] },
      watch: { enabled: false, pollIntervalMs: 0, debounceMs: 100 },
      workers: 1,
    },
    routes,
  };
}
