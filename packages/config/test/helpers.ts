// Shared by the config unit tests: parse YAML given as lines (so line numbers are easy to read).
import assert from 'node:assert/strict';
import { parseConfig } from '../src/parse.ts';
import type { ConfigDiagnostic, GatewayConfig, LoadResult } from '../src/types.ts';

export const FILE = '/etc/gatehouse/gatehouse.yaml';

export function yaml(...lines: string[]): string {
  return `${lines.join('\n')}\n`;
}

export function load(text: string, env: Record<string, string | undefined> = {}): LoadResult {
  return parseConfig(text, FILE, env);
}

export function ok(text: string, env: Record<string, string | undefined> = {}): GatewayConfig {
  const result = load(text, env);
  if (!result.ok)
    assert.fail(`expected a valid config, got:\n${result.errors.map((e) => JSON.stringify(e)).join('\n')}`);
  return result.config;
}

export function errors(text: string, env: Record<string, string | undefined> = {}): ConfigDiagnostic[] {
  const result = load(text, env);
  assert.equal(result.ok, false, 'expected errors');
  return result.ok ? [] : result.errors;
}

/** Asserts exactly one error with `code`, at `line`:`col`, and returns it. */
export function oneError(text: string, code: string, line: number, col: number, env = {}): ConfigDiagnostic {
  const all = errors(text, env);
  const found = all.filter((e) => e.code === code);
  assert.equal(found.length, 1, `expected one ${code}, got: ${JSON.stringify(all, null, 1)}`);
  const error = found[0] as ConfigDiagnostic;
  assert.deepEqual([error.line, error.col], [line, col], `${code} position: ${JSON.stringify(error)}`);
  assert.equal(error.severity, 'error');
  assert.equal(error.file, FILE);
  return error;
}

export function warnings(text: string, env: Record<string, string | undefined> = {}): ConfigDiagnostic[] {
  return load(text, env).warnings;
}

/** The smallest valid route list, for tests that are about something else. */
export const minimalRoute = ['routes:', '  - name: r', '    path: /', '    target: http://127.0.0.1:3000'];

/** `gateway.tls` with one certificate (a.pem, a.key); more lines can follow at any level under it. */
export const oneCertificate = ['gateway:', '  tls:', '    certificates:', '      - cert: a.pem', '        key: a.key'];

/** From Goma Gateway's mTLS documentation: must validate unchanged. */
export const gomaMtlsExample = `gateway:
  tls:
    certificates:
      - cert: /etc/goma/certs/cert.pem
        key: /etc/goma/certs/key.pem
    clientAuth:
      clientCA:  /etc/goma/certs/ca.pem
      required: true
routes:
  - name: api
    path: /
    hosts:
      - api.example.com
    enabled: true
    backends:
      - endpoint: https://api-example:8443
        weight: 80
      - endpoint: https://api-example-beta:8443
        weight: 20
    security:
      tls:
        insecureSkipVerify: false
        rootCAs: /etc/goma/certs/ca.pem
        clientCert: /etc/goma/certs/cert.pem
        clientKey: /etc/goma/certs/key.pem
    healthCheck:
      path: /
      interval: 15s
      timeout: 10s
      healthyStatuses: [200]
`;

/** A valid config in which every optional block is present, so that each leaf can be varied. */
export const everyBlock = {
  version: 2,
  gateway: {
    redis: { addr: 'redis.internal:6379', tls: { clientCert: '/c/redis.pem', clientKey: '/c/redis.key' } },
    tls: {
      certificates: [{ cert: '/c/a.pem', key: '/c/a.key' }],
      clientAuth: { clientCA: '/c/ca.pem' },
    },
    routes: [{ name: 'g', path: '/g', target: 'http://g:1' }],
    entryPoints: { passThrough: { forwards: [{ protocol: 'tcp', port: 2222, target: 'ssh:22' }] } },
    cors: { origins: ['https://a.example'] },
  },
  certManager: {
    providers: {
      p: { type: 'acme', acme: { email: 'ops@example.com' } },
      q: { type: 'acme', acme: { email: 'ops@example.com', storageFile: '/var/lib/gatehouse/q.json' } },
    },
  },
  routes: [
    {
      name: 'r',
      path: '/r',
      backends: [{ endpoint: 'http://b:1' }],
      security: { tls: { clientCert: '/c/client.pem', clientKey: '/c/client.key' } },
      healthCheck: {},
      clientAuth: {},
      maintenance: { enabled: true },
      cors: { origins: ['https://b.example'] },
    },
  ],
  middlewares: [{ name: 'm', type: 'access' }],
};
