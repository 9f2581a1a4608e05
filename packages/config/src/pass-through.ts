// TCP and UDP pass-through (Goma's `gateway.entryPoints.passThrough`): the spec of the block and the
// step that expands `tcp/udp`, checks targets and refuses ports that two forwards or a forward and
// an HTTP listener would both claim. Kept apart from schema.ts and normalize.ts so that the keys of
// raw forwarding stay in one place.
import { isIP } from 'node:net';
import { parseListenAddress } from './address.ts';
import { ConfigCode } from './diagnostics.ts';
import { arr, duration, type Field, int, obj, str } from './spec.ts';
import type { GatewayConfig, ListenAddress, SourcePos } from './types.ts';
import type { Normalizer } from './normalize.ts';
import type { Plain } from './walk.ts';

export type PassThroughProtocol = 'tcp' | 'udp';

/** One listening socket of one forward: `tcp/udp` in the file becomes two of these. */
export interface PassThroughForward {
  protocol: PassThroughProtocol;
  /** Interface to listen on; '' = all interfaces. */
  host: string;
  port: number;
  /** Where the traffic goes, as written (`db.internal:5432`). */
  target: string;
  targetHost: string;
  targetPort: number;
  /** TCP: how long connecting to the target may take. */
  dialTimeoutMs: number;
  at: SourcePos;
}

export interface PassThroughConfig {
  forwards: PassThroughForward[];
  /** A UDP session (one client address) with no datagram either way for this long is closed. */
  udpSessionIdleMs: number;
  /** Open UDP sessions per forward and worker; a new client beyond this is dropped. */
  udpMaxSessions: number;
}

export const DEFAULT_UDP_SESSION_IDLE = '60s';
export const DEFAULT_UDP_MAX_SESSIONS = 1024;

/** `host:port` with a host name, an IPv4 address or a bracketed IPv6 address: a listen address with a host and a port. */
export function parseTarget(raw: string): { host: string; port: number } | { error: string } {
  const parsed = parseListenAddress(raw);
  if ('error' in parsed) return parsed;
  if (parsed.host === '') return { error: `"${raw}" has no host; write \`HOST:PORT\`` };
  if (parsed.port === 0) return { error: 'port 0 is not a port to connect to' };
  return { host: parsed.host, port: parsed.port };
}

function checkTarget(value: string): string | null {
  const parsed = parseTarget(value);
  return 'error' in parsed ? parsed.error : null;
}

function checkBindHost(value: string): string | null {
  return value === '' || isIP(value) !== 0 ? null : `"${value}" is not an IP address`;
}

const forward = obj({
  protocol: {
    spec: str({ enum: ['tcp', 'udp', 'tcp/udp'] }),
    required: true,
    description: '`tcp`, `udp`, or `tcp/udp` (both on the same port).',
  },
  port: { spec: int(1, 65535), required: true, description: 'Port the gateway listens on.' },
  target: {
    spec: str({
      check: checkTarget,
      code: ConfigCode.address,
      expected: 'HOST:PORT',
      hint: 'write the target as `HOST:PORT`, e.g. `db.internal:5432` or `[::1]:53`',
    }),
    required: true,
    description: 'Where the traffic goes: `HOST:PORT` (IPv6 in brackets).',
  },
  host: {
    spec: str({ check: checkBindHost, code: ConfigCode.address, expected: 'an IP address' }),
    default: '',
    description:
      'Gatehouse addition: the IP address to listen on. Default `""`: all interfaces (UDP: all IPv4 interfaces; write `"::"` for IPv6).',
  },
  timeout: {
    spec: duration(),
    description:
      'TCP: how long connecting to the target may take (Goma: integer seconds). Default, and for `0`: `gateway.timeouts.upstreamConnect`.',
  },
});

export const passThroughField: Field = {
  description:
    'Raw TCP and UDP forwarding on every worker. A reload adds, removes and retargets forwards without touching the others.',
  spec: obj({
    forwards: { spec: arr(forward), default: [], description: 'One listening port each, forwarded to `target`.' },
    udpSessionIdleTimeout: {
      spec: duration(),
      default: DEFAULT_UDP_SESSION_IDLE,
      description:
        'Gatehouse addition: a UDP session (one client address, one upstream socket) with no datagram either way for this long is closed.',
    },
    udpMaxSessions: {
      spec: int(1, 1_000_000),
      default: DEFAULT_UDP_MAX_SESSIONS,
      description:
        'Gatehouse addition: open UDP sessions per forward and worker; datagrams from further clients are dropped (and counted) until one expires.',
    },
  }),
};

/** The forwards of `raw` (the `passThrough` block), checked against each other and the HTTP listeners. */
export function normalizePassThrough(n: Normalizer, raw: unknown, config: GatewayConfig): PassThroughConfig {
  const block = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Plain) : {};
  const base = 'gateway.entryPoints.passThrough';
  const forwards: PassThroughForward[] = [];
  const rawForwards = Array.isArray(block.forwards) ? block.forwards : [];
  const firstAt = new Map<string, string>();
  rawForwards.forEach((item, i) => {
    const path = `${base}.forwards[${i}]`;
    const f = item !== null && typeof item === 'object' ? (item as Plain) : {};
    if (typeof f.protocol !== 'string' || typeof f.port !== 'number' || typeof f.target !== 'string') return;
    const target = parseTarget(f.target);
    if ('error' in target) return;
    const host = typeof f.host === 'string' ? f.host : '';
    const protocols: PassThroughProtocol[] = f.protocol === 'tcp/udp' ? ['tcp', 'udp'] : [f.protocol as 'tcp'];
    for (const protocol of protocols) {
      const key = `${protocol}:${f.port}`;
      const first = firstAt.get(key);
      if (first !== undefined) {
        n.ctx.diags.error(
          ConfigCode.duplicateForward,
          n.at(`${path}.port`),
          `${path}.port: ${protocol} port ${f.port} is already forwarded by ${first}`,
          'give every forward its own port (per protocol)',
        );
        continue;
      }
      firstAt.set(key, path);
      if (protocol === 'tcp') checkHttpClash(n, `${path}.port`, host, f.port, config);
      forwards.push({
        protocol,
        host,
        port: f.port,
        target: f.target.trim(),
        targetHost: target.host,
        targetPort: target.port,
        // Goma's zero value means "not set", not "wait forever".
        dialTimeoutMs:
          typeof f.timeout === 'number' && f.timeout > 0 ? f.timeout : config.gateway.timeouts.upstreamConnectMs,
        at: n.at(path),
      });
    }
  });
  return {
    forwards,
    udpSessionIdleMs: typeof block.udpSessionIdleTimeout === 'number' ? block.udpSessionIdleTimeout : 60_000,
    udpMaxSessions: typeof block.udpMaxSessions === 'number' ? block.udpMaxSessions : DEFAULT_UDP_MAX_SESSIONS,
  };
}

/** A TCP forward cannot share its port with an HTTP listener: the kernel would split connections between them. */
function checkHttpClash(n: Normalizer, path: string, host: string, port: number, config: GatewayConfig): void {
  const { web, webSecure } = config.gateway.entryPoints;
  const listeners: Array<[string, ListenAddress | null]> = [
    ['web', web],
    ['webSecure', webSecure],
    ['admin', config.gateway.admin.address],
  ];
  for (const [name, address] of listeners) {
    if (address === null || address.port !== port) continue;
    if (address.host !== host && address.host !== '' && host !== '') continue;
    n.ctx.diags.error(
      ConfigCode.address,
      n.at(path),
      `${path}: tcp port ${port} is also the ${name} listener's port`,
      'give the forward a port of its own',
    );
  }
}
