// Hand-built, fully typed GatewayConfig / Snapshot values for the pure control-plane functions.
import type { GatewayConfig, MaterialRef, RouteConfig, SourcePos } from '@gatehouse/config';
import { testBackend, testGatewayConfig, testRoute } from '@gatehouse/config/testing';
import type { ResolvedServerCertificate, Snapshot } from '@gatehouse/dataplane';

const at: SourcePos = { file: '/etc/gatehouse/gatehouse.yaml', line: 1, col: 1, path: '' };

export function fileRef(path: string, kind: MaterialRef['kind']): MaterialRef {
  return { form: 'file', kind, path, pem: null, at };
}

export function route(name: string, endpoints: string[], extra: Partial<RouteConfig> = {}): RouteConfig {
  return testRoute({
    name,
    path: `/${name}`,
    backends: endpoints.map((endpoint) => testBackend(endpoint)),
    retry: { attempts: 0, on: [] },
    at,
    ...extra,
  });
}

export function config(
  routes: RouteConfig[],
  overrides: { webPort?: number; level?: 'info' | 'debug' } = {},
): GatewayConfig {
  const port = overrides.webPort ?? 8080;
  return {
    ...testGatewayConfig(routes, {
      entryPoints: { web: { raw: `127.0.0.1:${port}`, host: '127.0.0.1', port } },
      tls: { ciphers: 'ECDHE+AESGCM' },
      timeouts: { upstreamConnectMs: 5_000, upstreamResponseMs: 30_000, drainMs: 30_000 },
      log: { level: overrides.level ?? 'info' },
      monitoring: { enableLiveness: true, enableReadiness: true, enableRouteHealthCheck: true },
      limits: { h2ResetWindowMs: 30_000 },
      watch: { enabled: true, pollIntervalMs: 10_000 },
      workers: 0,
    }),
    file: at.file,
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
    redisTls: null,
    health: {},
  };
}
