// Hand-built, fully typed GatewayConfig / Snapshot values for the pure control-plane functions.
import type { GatewayConfig, MaterialRef, RouteConfig, SourcePos } from '@gatehouse/config';
import type { ResolvedServerCertificate, Snapshot } from '@gatehouse/dataplane';

const at: SourcePos = { file: '/etc/gatehouse/gatehouse.yaml', line: 1, col: 1, path: '' };

export function fileRef(path: string, kind: MaterialRef['kind']): MaterialRef {
  return { form: 'file', kind, path, pem: null, at };
}

export function route(name: string, endpoints: string[], extra: Partial<RouteConfig> = {}): RouteConfig {
  return {
    name,
    path: `/${name}`,
    hosts: [],
    methods: null,
    priority: 0,
    enabled: true,
    rewrite: null,
    backends: endpoints.map((endpoint) => {
      const url = new URL(endpoint);
      return {
        endpoint,
        protocol: url.protocol as 'http:' | 'https:',
        hostname: url.hostname,
        port: Number(url.port),
        basePath: '/',
        weight: 1,
        at,
      };
    }),
    security: { forwardHostHeaders: true, tls: null },
    healthCheck: null,
    clientAuth: null,
    clientIdentity: null,
    retry: { attempts: 0, on: [] },
    maxBodyBytes: 0,
    at,
    ...extra,
  };
}

export function config(
  routes: RouteConfig[],
  overrides: { webPort?: number; level?: 'info' | 'debug' } = {},
): GatewayConfig {
  return {
    version: 2,
    file: at.file,
    gateway: {
      entryPoints: {
        web: { raw: `127.0.0.1:${overrides.webPort ?? 8080}`, host: '127.0.0.1', port: overrides.webPort ?? 8080 },
        webSecure: null,
      },
      tls: {
        certificates: [],
        defaultName: null,
        clientAuth: null,
        minVersion: 'TLSv1.2',
        ciphers: 'ECDHE+AESGCM',
        ecdhCurve: 'X25519:P-256',
        sessionTicketRotationMs: 3_600_000,
        expiryWarningDays: 14,
      },
      timeouts: {
        requestHeaderMs: 10_000,
        requestMs: 60_000,
        keepAliveMs: 5_000,
        upstreamConnectMs: 5_000,
        upstreamResponseMs: 30_000,
        upstreamIdleMs: 4_000,
        drainMs: 30_000,
      },
      log: { level: overrides.level ?? 'info', format: 'json', accessLog: true },
      monitoring: {
        enableLiveness: true,
        enableReadiness: true,
        enableRouteHealthCheck: true,
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
        h2ResetWindowMs: 30_000,
      },
      proxy: { trustedProxies: [] },
      watch: { enabled: true, pollIntervalMs: 10_000, debounceMs: 100 },
      workers: 0,
    },
    routes,
  };
}

export function certificate(source: string, serial: string, name = 'localhost'): ResolvedServerCertificate {
  return {
    certPem: `cert ${serial}`,
    keyPem: `key ${serial}`,
    passphrase: null,
    names: [name],
    keyType: 'ec',
    serial,
    fingerprint256: `FP:${serial}`,
    subject: `CN=${name}`,
    notBefore: '2026-01-01T00:00:00.000Z',
    notAfter: '2027-01-01T00:00:00.000Z',
    isDefault: true,
    source,
  };
}

export function snapshot(
  generation: number,
  cfg: GatewayConfig,
  certificates: ResolvedServerCertificate[] = [],
): Snapshot {
  return {
    generation,
    config: cfg,
    tls: { certificates, clientCA: null, crl: null, ticketKeys: Buffer.alloc(48).toString('base64') },
    upstreamTls: {},
    health: {},
  };
}
