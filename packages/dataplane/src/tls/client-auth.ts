// Client-certificate policy. Node sets `requestCert` per server, not per name, so the handshake can
// only enforce the gateway-wide `required: true`; every other rule (per-route mode, allow-lists, a
// presented-but-invalid certificate under `required: false`) is decided here, after the handshake,
// from `socket.authorized` and `socket.authorizationError`.
//
// compileClientAuth runs once per snapshot: globs become matchers (allow-list-globs.ts), hosts
// become a Map plus a wildcard Map. checkClientAuth runs per request: Map lookups, a string compare,
// and the precompiled matchers only when a route has an allow-list (whose verdict is then cached on
// the connection).
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { ClientAuthMode, GatewayConfig } from '@gatehouse/config';
import { effectiveClientAuth } from '@gatehouse/config/client-auth-modes';
import { type ClientTrust, compileClientTrust } from '@gatehouse/pki/client-trust';
import { sessionIdContextFor } from '@gatehouse/pki/server-context';
import { ERROR_KINDS, type ErrorKind } from '../errors.ts';
import { compileSanGlobs, compileSubjectGlobs, type Matcher, type SanMatcher } from './allow-list-globs.ts';
import { type PeerIdentity, peerIdentity, tlsSocketOf } from './client-identity.ts';
import { trustDenial } from './connection-trust.ts';

export interface RoutePolicy {
  readonly mode: ClientAuthMode;
  /** null: no allow-list on subjects. */
  readonly subject: Matcher | null;
  /** null: no allow-list on SANs. */
  readonly san: SanMatcher | null;
  /** Two routes with the same key enforce the same thing (for the 421 check). */
  readonly key: string;
}

export interface ClientAuthPolicy {
  /** The mode of a route without its own `clientAuth`. */
  readonly gatewayMode: ClientAuthMode;
  readonly gatewayPolicy: RoutePolicy;
  readonly routes: ReadonlyMap<string, RoutePolicy>;
  /** Host (no port, lower-case) → policy key, or MIXED when routes of one host disagree. */
  readonly exactHosts: ReadonlyMap<string, string>;
  /** `example.com` for a route host `*.example.com`. */
  readonly wildcardHosts: ReadonlyMap<string, string>;
  /** True when some route differs from the gateway default: only then can SNI and Host disagree. */
  readonly perRoute: boolean;
  /** `requestCert` for the HTTPS server. */
  readonly requestCert: boolean;
  /** `rejectUnauthorized` for the HTTPS server: the handshake itself enforces `required`. */
  readonly rejectAtHandshake: boolean;
  /**
   * The client-auth material (CA bundle, CRL, mode) as one key: the session id context of every
   * TLS context, and what an open connection's handshake is compared with (connection-trust.ts).
   */
  readonly trustKey: string;
  /** The CA bundle and the CRL, hashed: unchanged when only the mode changed. */
  readonly materialKey: string;
  /** The same material, parsed, for re-verifying open connections after it changed. */
  readonly trust: ClientTrust;
}

const MIXED = '\u0000mixed';

/** OpenSSL verify results (as Node reports them in `authorizationError`) → what a client is told. */
const VERIFY_REASONS: Readonly<Record<string, ErrorKind>> = Object.freeze({
  CERT_HAS_EXPIRED: ERROR_KINDS.clientCertExpired,
  CERT_NOT_YET_VALID: ERROR_KINDS.clientCertNotYetValid,
  UNABLE_TO_GET_ISSUER_CERT: ERROR_KINDS.clientCertUnknownCa,
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: ERROR_KINDS.clientCertUnknownCa,
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: ERROR_KINDS.clientCertUnknownCa,
  SELF_SIGNED_CERT_IN_CHAIN: ERROR_KINDS.clientCertUnknownCa,
  DEPTH_ZERO_SELF_SIGNED_CERT: ERROR_KINDS.clientCertUnknownCa,
  CERT_UNTRUSTED: ERROR_KINDS.clientCertUnknownCa,
  CERT_REVOKED: ERROR_KINDS.clientCertRevoked,
  UNABLE_TO_GET_CRL: ERROR_KINDS.clientCertNoCrl,
  CERT_SIGNATURE_FAILURE: ERROR_KINDS.clientCertBadSignature,
  INVALID_PURPOSE: ERROR_KINDS.clientCertBadPurpose,
});

/** What a failed verification is called, for 401 bodies and logs. */
export function verifyFailure(code: string | Error | null | undefined): ErrorKind {
  const text =
    typeof code === 'string'
      ? code
      : ((code as { code?: string } | null | undefined)?.code ?? String(code?.message ?? ''));
  return VERIFY_REASONS[text] ?? ERROR_KINDS.clientCertInvalid;
}

function routePolicy(mode: ClientAuthMode, subjects: readonly string[], sans: readonly string[]): RoutePolicy {
  return Object.freeze({
    mode,
    subject: compileSubjectGlobs(subjects),
    san: compileSanGlobs(sans),
    key: `${mode}\u0000${subjects.join('\u0001')}\u0000${sans.join('\u0001')}`,
  });
}

/** `api.example.com:8443` → `api.example.com`; `[::1]:8443` → `::1`. Lower-cases only when needed. */
export function hostOnly(host: string): string {
  let end = host.length;
  if (host.charCodeAt(0) === 91 /* [ */) {
    const close = host.indexOf(']');
    return lowerAscii(close > 0 ? host.slice(1, close) : host);
  }
  const colon = host.lastIndexOf(':');
  if (colon !== -1 && host.indexOf(':') === colon) end = colon;
  while (end > 0 && host.charCodeAt(end - 1) === 46 /* trailing dot */) end--;
  return lowerAscii(end === host.length ? host : host.slice(0, end));
}

function lowerAscii(text: string): string {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 65 && c <= 90) return text.toLowerCase();
  }
  return text;
}

/** The material a snapshot carries (PEM text), absent in tests that only look at modes. */
export interface ClientAuthMaterial {
  clientCA: string | null;
  crl: string | null;
}

/** Once per snapshot. */
export function compileClientAuth(snapshot: {
  config: Pick<GatewayConfig, 'gateway' | 'routes'>;
  tls?: ClientAuthMaterial;
}): ClientAuthPolicy {
  // The handshake switches come from the same pure computation that `gatehouse validate` prints.
  const effective = effectiveClientAuth(snapshot.config);
  const gatewayMode = effective.gatewayMode;
  const gatewayPolicy = routePolicy(gatewayMode, [], []);
  const routes = new Map<string, RoutePolicy>();
  const exactHosts = new Map<string, string>();
  const wildcardHosts = new Map<string, string>();
  let perRoute = false;
  for (const route of snapshot.config.routes) {
    if (!route.enabled) continue;
    const own = route.clientAuth;
    const policy = own === null ? gatewayPolicy : routePolicy(own.mode, own.allowedSubjects, own.allowedSANs);
    routes.set(route.name, policy);
    if (policy.key !== gatewayPolicy.key) perRoute = true;
    for (const host of route.hosts) {
      const wildcard = host.startsWith('*.');
      const name = hostOnly(wildcard ? host.slice(2) : host);
      const map = wildcard ? wildcardHosts : exactHosts;
      const seen = map.get(name);
      map.set(name, seen === undefined || seen === policy.key ? policy.key : MIXED);
    }
  }
  return Object.freeze({
    gatewayMode,
    gatewayPolicy,
    routes,
    exactHosts,
    wildcardHosts,
    perRoute,
    requestCert: effective.requestCert,
    rejectAtHandshake: effective.rejectAtHandshake,
    trustKey: sessionIdContextFor({
      clientCA: snapshot.tls?.clientCA ?? null,
      crl: snapshot.tls?.crl ?? null,
      clientAuthMode: clientAuthModeKey(gatewayMode, effective.requestCert, effective.rejectAtHandshake),
    }),
    materialKey: sessionIdContextFor({
      clientCA: snapshot.tls?.clientCA ?? null,
      crl: snapshot.tls?.crl ?? null,
      clientAuthMode: '',
    }),
    trust: compileClientTrust(snapshot.tls?.clientCA ?? null, snapshot.tls?.crl ?? null),
  });
}

/** How client certificates are asked for, as the session id context hashes it. */
export function clientAuthModeKey(mode: ClientAuthMode, requestCert: boolean, rejectAtHandshake: boolean): string {
  return `${mode}/${requestCert}/${rejectAtHandshake}`;
}

/** The policy key for a host name (SNI or Host): exact route host, then one-label wildcard, then the default. */
export function policyKeyForHost(policy: ClientAuthPolicy, name: string): string {
  const host = hostOnly(name);
  const exact = policy.exactHosts.get(host);
  if (exact !== undefined) return exact;
  const dot = host.indexOf('.');
  if (dot > 0) {
    const wild = policy.wildcardHosts.get(host.slice(dot + 1));
    if (wild !== undefined) return wild;
  }
  return policy.gatewayPolicy.key;
}

/** The mode a TLS server name is held to (for logs and SniStore.policyFor). */
export function modeForHost(policy: ClientAuthPolicy, name: string): ClientAuthMode | 'mixed' {
  const key = policyKeyForHost(policy, name);
  if (key === MIXED) return 'mixed';
  return key.slice(0, key.indexOf('\u0000')) as ClientAuthMode;
}

// What checkClientAuth learns about a connection holds for its next requests: kept on the socket.
declare module 'tls' {
  interface TLSSocket {
    /** Whether the peer sent a certificate at all. */
    certificatePresented?: boolean | undefined;
    /** Allow-list verdicts of this connection's verified identity, by route policy. */
    allowListVerdicts?: Map<RoutePolicy, ErrorKind | null> | undefined;
  }
}

/** The slice of a request this module reads (HTTP/1 IncomingMessage or HTTP/2 compat request). */
export type AuthRequest = Pick<IncomingMessage, 'socket' | 'headers'> & {
  stream?: { session?: { socket?: unknown } | undefined };
};

/**
 * null: the request may go on to `routeName`. Otherwise the status and a reason safe to show.
 * An unknown route name is held to the gateway default.
 */
export function checkClientAuth(policy: ClientAuthPolicy, routeName: string, req: AuthRequest): ErrorKind | null {
  const route = policy.routes.get(routeName) ?? policy.gatewayPolicy;
  const socket = tlsSocketOf(req);
  if (socket === null)
    return route.mode === 'required' || route.subject !== null || route.san !== null
      ? ERROR_KINDS.clientCertNeedsTls
      : null;
  if (policy.perRoute) {
    const servername = socket.servername;
    const host = req.headers.host ?? req.headers[':authority'];
    if (typeof servername === 'string' && servername.length > 0 && typeof host === 'string') {
      if (policyKeyForHost(policy, servername) !== policyKeyForHost(policy, host)) return ERROR_KINDS.misdirected;
    }
  }
  if (route.mode === 'off') return null;
  if (socket.authorized !== true) {
    if (!presentedCertificate(socket)) {
      return route.mode === 'required' || route.subject !== null || route.san !== null
        ? ERROR_KINDS.clientCertRequired
        : null;
    }
    return verifyFailure(socket.authorizationError);
  }
  const needsCertificate = route.mode === 'required' || route.subject !== null || route.san !== null;
  // `authorized` alone proves nothing: Node has reported it true for a resumed TLS 1.3 session
  // that carried no certificate (nodejs/node#35317). A route that needs one checks that it is there.
  if (needsCertificate && !presentedCertificate(socket)) return ERROR_KINDS.clientCertRequired;
  // The handshake verified the certificate against the material of its time; after a change of
  // CA bundle or CRL the connection answers to the new one (once per connection and change).
  const stale = trustDenial(policy, socket);
  if (stale !== null) return stale;
  if (route.subject === null && route.san === null) return null;
  const identity = peerIdentity(socket);
  if (identity === null) return ERROR_KINDS.clientCertRequired;
  // An allow-list verdict depends only on (connection, route): keep it for the next request.
  let verdicts = socket.allowListVerdicts;
  if (verdicts === undefined) {
    verdicts = new Map();
    socket.allowListVerdicts = verdicts;
  }
  let verdict = verdicts.get(route);
  if (verdict === undefined) {
    verdict = allowListVerdict(route, identity);
    verdicts.set(route, verdict);
  }
  return verdict;
}

/** Pure: the allow-list decision for a verified identity. */
export function allowListVerdict(
  route: RoutePolicy,
  identity: Pick<PeerIdentity, 'subject' | 'dns' | 'uris' | 'ips' | 'emails'>,
): ErrorKind | null {
  if (route.subject !== null && !route.subject(identity.subject)) return ERROR_KINDS.clientCertSubjectNotAllowed;
  if (route.san !== null && !route.san(identity)) return ERROR_KINDS.clientCertSanNotAllowed;
  return null;
}

/** Did the peer send a certificate at all? Cached per connection. */
function presentedCertificate(socket: TLSSocket): boolean {
  let presented = socket.certificatePresented;
  if (presented === undefined) {
    presented = socket.getPeerX509Certificate() !== undefined;
    socket.certificatePresented = presented;
  }
  return presented;
}
