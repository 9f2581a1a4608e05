// `gateway.redis` (Goma's shape: addr, password, db, tls): the Redis that instances share, for
// rate limits and for ACME (challenge tokens, issued certificates and the per-name order lock).
import { ConfigCode } from './diagnostics.ts';
import { duration, type Field, goma, int, material, obj, str } from './spec.ts';
import type { RedisConfig } from './middleware/limits-types.ts';
import { asMaterialRef as ref } from './material-ref.ts';
import type { Plain } from './walk.ts';

/** Every Redis command gives up after this; the caller decides what a failure means. */
export const REDIS_TIMEOUT_MS = 2_000;

function checkAddr(value: string): string | null {
  return parseAddr(value) === null ? `"${value}" is not HOST:PORT` : null;
}

function parseAddr(value: string): { host: string; port: number } | null {
  const match = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(value.trim());
  if (!match) return null;
  const port = Number(match[2]);
  if (port < 1 || port > 65_535) return null;
  return { host: (match[1] as string).replace(/^\[(.*)\]$/, '$1'), port };
}

export const redisField: Field = {
  description:
    'Redis shared by several Gatehouse instances: rate-limit counters, and ACME challenge tokens, certificates and order locks.',
  optional: true,
  spec: obj({
    addr: {
      spec: str({ check: checkAddr, code: ConfigCode.address, expected: 'HOST:PORT' }),
      required: true,
      description: 'Redis address, `HOST:PORT`.',
    },
    password: {
      spec: str({ emptyIsAbsent: true }),
      // biome-ignore lint/suspicious/noTemplateCurlyInString: describes the YAML `${ENV}` syntax
      description: 'Redis password (AUTH). Write `${ENV_NAME}` to keep it out of the file.',
    },
    db: { spec: int(0, 15), default: 0, description: 'Redis database number.' },
    timeout: {
      spec: duration(),
      default: '250ms',
      description:
        'Gatehouse addition: longest wait for one rate-limit check; past it the rule follows its `onStoreError`.',
    },
    flushOnStartup: goma('Goma switch that empties the Redis database at start; Gatehouse never does.'),
    tls: {
      optional: true,
      description:
        'TLS to Redis (rate limits and ACME). Present, even empty: TLS on, the server certificate always verified against `clientCa` (default: system roots) and the host of `addr`. Files reload like other certificates.',
      spec: obj({
        clientCa: {
          spec: material('ca-bundle'),
          description: 'CA bundle the Redis server certificate must chain to. Default: system roots.',
        },
        clientCert: {
          spec: material('certificate'),
          description: 'Client certificate presented to Redis (needs `clientKey`).',
        },
        clientKey: { spec: material('private-key'), description: 'Private key of `clientCert`.' },
      }),
    },
  }),
};

export function normalizeRedis(raw: unknown): RedisConfig | null {
  if (raw === undefined || raw === null || typeof raw !== 'object') return null;
  const block = raw as Plain;
  const addr = typeof block.addr === 'string' ? parseAddr(block.addr) : null;
  if (addr === null) return null;
  const tls =
    block.tls !== undefined && block.tls !== null && typeof block.tls === 'object' ? (block.tls as Plain) : null;
  return {
    host: addr.host,
    port: addr.port,
    password: typeof block.password === 'string' ? block.password : null,
    db: typeof block.db === 'number' ? block.db : 0,
    timeoutMs: REDIS_TIMEOUT_MS,
    checkTimeoutMs: typeof block.timeout === 'number' ? block.timeout : 250,
    tls: tls ? { clientCa: ref(tls.clientCa), clientCert: ref(tls.clientCert), clientKey: ref(tls.clientKey) } : null,
  };
}
