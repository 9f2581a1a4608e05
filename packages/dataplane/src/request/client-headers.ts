// Which of a client's request headers may reach policy and the backend. Runs once per request,
// before routing, as one scan over the raw header names:
// - Names with `_` are dropped (nginx's `underscores_in_headers off`): many backends (CGI, PHP,
//   Django, Rack, WSGI) fold `_` into `-`, so `X_Forwarded_For` would read as the real
//   X-Forwarded-For that Gatehouse sets. `gateway.proxy.allowUnderscoresInHeaders: true` lets them
//   through, except names that equal a header Gatehouse sets or relies on once `_` reads as `-`.
// - From a peer that is not a trusted proxy, the forwarding headers that Gatehouse does not
//   recompute itself are removed: `Forwarded`, `X-Forwarded-Port/-Prefix/-Server/-Scheme/-Ssl`,
//   and the path overrides `X-Original-URL` / `X-Rewrite-URL`, which some frameworks (Symfony,
//   IIS) route by and which would bypass the path a policy was applied to.
// - On a request that is not an upgrade, `Connection` may not name Content-Length,
//   Transfer-Encoding, Host, TE or Upgrade: the next hop would strip the body's framing or the
//   Host the route was chosen by. Such a request is refused (400), never "fixed".
// Nothing is allocated unless a header has to go.
import type { IncomingHttpHeaders } from 'node:http';
import { equalsLower } from '../edge/field-syntax.ts';
import { ERROR_KINDS, type ErrorKind } from '../errors.ts';
import { isTrusted, type TrustedProxies } from './trusted-proxies.ts';

export const CONNECTION_REFUSAL = ERROR_KINDS.connectionNamesFraming;

export interface HeaderRules {
  /** `gateway.proxy.allowUnderscoresInHeaders`. */
  readonly allowUnderscores: boolean;
  /** Lower-case names a client may not spell with `_` even when underscores are allowed. */
  readonly protectedNames: ReadonlySet<string>;
}

/** Headers Gatehouse sets, strips or routes by: never to be impersonated with `_`. */
const PROTECTED = [
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'te',
  'upgrade',
  'forwarded',
  'x-real-ip',
  'x-request-id',
  'x-original-url',
  'x-rewrite-url',
] as const;
const PROTECTED_PREFIXES = ['x-forwarded-', 'x-client-cert'] as const;

/** Once per snapshot. `identityHeaders`: every route's client-identity header name. */
export function compileHeaderRules(allowUnderscores: boolean, identityHeaders: readonly string[]): HeaderRules {
  const protectedNames = new Set<string>(PROTECTED);
  for (const name of identityHeaders) protectedNames.add(name.toLowerCase());
  return Object.freeze({ allowUnderscores, protectedNames });
}

/** Would a backend that folds `_` into `-` read `name` (lower case) as one of ours? */
export function impersonatesProtected(rules: HeaderRules, name: string): boolean {
  const folded = name.replaceAll('_', '-');
  if (rules.protectedNames.has(folded)) return true;
  for (const prefix of PROTECTED_PREFIXES) if (folded.startsWith(prefix)) return true;
  return false;
}

/**
 * Applies the rules to one request: deletes the dropped fields from `headers` (the object that is
 * forwarded). Returns a refusal, or the bytes of the client's field names and values (what Node's
 * parser counts against maxHeaderSize besides the target; see header-room.ts). `raw`: the request's
 * rawHeaders. `upgrade`: the request is a protocol upgrade (the caller rewrites its Connection).
 */
export function screenClientHeaders(
  raw: readonly string[],
  headers: IncomingHttpHeaders,
  rules: HeaderRules,
  trusted: TrustedProxies,
  peer: string | undefined,
  upgrade: boolean,
): ErrorKind | number {
  /** 0: not yet asked, 1: trusted, 2: not trusted. */
  let trust = 0;
  let bytes = 0;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    bytes += name.length + (raw[i + 1] as string).length;
    if (name.indexOf('_') !== -1) {
      const lower = name.toLowerCase();
      if (!rules.allowUnderscores || impersonatesProtected(rules, lower)) delete headers[lower];
      continue;
    }
    let forwarding = false;
    switch (name.length) {
      case 9:
        forwarding = equalsLower(name, 'forwarded');
        break;
      case 10:
        if (!upgrade && equalsLower(name, 'connection') && namesFraming(raw[i + 1] as string)) {
          return CONNECTION_REFUSAL;
        }
        break;
      case 13:
        forwarding = equalsLower(name, 'x-rewrite-url');
        break;
      case 14:
        forwarding = equalsLower(name, 'x-original-url');
        break;
      case 15:
        forwarding = equalsLower(name, 'x-forwarded-ssl');
        break;
      case 16:
        forwarding = equalsLower(name, 'x-forwarded-port');
        break;
      case 18:
        forwarding =
          equalsLower(name, 'x-forwarded-prefix') ||
          equalsLower(name, 'x-forwarded-server') ||
          equalsLower(name, 'x-forwarded-scheme');
        break;
    }
    if (!forwarding) continue;
    if (trust === 0) trust = isTrusted(trusted, peer) ? 1 : 2;
    if (trust === 2) delete headers[name.toLowerCase()];
  }
  return bytes;
}

/** Does a Connection value name a field that frames the message or chose its route? */
export function namesFraming(value: string): boolean {
  let start = 0;
  while (start < value.length) {
    let comma = value.indexOf(',', start);
    if (comma === -1) comma = value.length;
    let s = start;
    let e = comma;
    while (s < e && isOws(value.charCodeAt(s))) s++;
    while (e > s && isOws(value.charCodeAt(e - 1))) e--;
    switch (e - s) {
      case 2:
        if (rangeEqualsLower(value, s, 'te')) return true;
        break;
      case 4:
        if (rangeEqualsLower(value, s, 'host')) return true;
        break;
      case 7:
        if (rangeEqualsLower(value, s, 'upgrade')) return true;
        break;
      case 14:
        if (rangeEqualsLower(value, s, 'content-length')) return true;
        break;
      case 17:
        if (rangeEqualsLower(value, s, 'transfer-encoding')) return true;
        break;
    }
    start = comma + 1;
  }
  return false;
}

function isOws(c: number): boolean {
  return c === 32 || c === 9;
}

function rangeEqualsLower(value: string, at: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    let c = value.charCodeAt(at + i);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}
