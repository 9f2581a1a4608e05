// The verified client certificate, read once per TLS connection, and the header that carries it to
// the backend in Envoy's X-Forwarded-Client-Cert (XFCC) format. Whatever the client sent under that
// header name, or under any X-Client-Cert* name, is removed first: a backend can trust the header
// because only Gatehouse ever writes it.
import type { X509Certificate } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { ClientIdentityField, RouteConfig } from '@gatehouse/config';
import { parseSubjectAltName } from '@gatehouse/pki/inspect';

export const DEFAULT_IDENTITY_HEADER = 'x-forwarded-client-cert';
const CLIENT_CERT_PREFIX = 'x-client-cert';

/** What Gatehouse knows about a verified peer certificate; computed once per connection. */
export interface PeerIdentity {
  /** SHA-256 over the DER, lower-case hex (XFCC `Hash`). */
  hash: string;
  /** RFC 4514 order and escaping, most specific first: `CN=client,O=Acme,C=DE`. */
  subject: string;
  dns: string[];
  uris: string[];
  ips: string[];
  emails: string[];
  /** SAN values, each without its type prefix: what `allowedSANs` globs are matched against. */
  sans: string[];
  /** The certificate's own PEM, for the `Cert` field. */
  pem: string;
  /** URI SAN of the certificate Gatehouse presented on this connection (XFCC `By`), or ''. */
  by: string;
  /** Composed header values by field list (`Hash,Subject`), so a keep-alive connection composes once. */
  composed: Map<string, string>;
}

export interface CompiledClientIdentity {
  /** Header to write for a verified peer; null: identity forwarding off for this route. */
  readonly header: string | null;
  readonly fields: readonly ClientIdentityField[];
  /** Cache key of `fields` in PeerIdentity.composed. */
  readonly fieldsKey: string;
}

declare module 'tls' {
  interface TLSSocket {
    /** The verified peer's identity, parsed on first use (null: no certificate to read). */
    peerIdentity?: PeerIdentity | null | undefined;
  }
}

/** Per route, at snapshot time. */
export function compileClientIdentity(route: Pick<RouteConfig, 'clientIdentity'>): CompiledClientIdentity {
  const config = route.clientIdentity;
  if (config === null) return Object.freeze({ header: null, fields: [], fieldsKey: '' });
  const fields = config.fields.length > 0 ? [...config.fields] : (['Hash', 'Subject', 'URI', 'DNS'] as const);
  return Object.freeze({
    header: (config.header || DEFAULT_IDENTITY_HEADER).toLowerCase(),
    fields: Object.freeze([...fields]),
    fieldsKey: fields.join(','),
  });
}

/** The TLS socket under an HTTP/1 request or an HTTP/2 compat request; null for plain HTTP. */
export function tlsSocketOf(req: {
  socket: unknown;
  stream?: { session?: { socket?: unknown } | undefined };
}): TLSSocket | null {
  // For h2 `req.socket` is a Proxy; the session's socket is the real TLSSocket.
  const socket = (req.stream?.session?.socket ?? req.socket) as (TLSSocket & { encrypted?: boolean }) | null;
  return socket !== null && socket !== undefined && socket.encrypted === true ? socket : null;
}

/**
 * The verified peer's identity, parsed on first use and cached on the socket. null when the
 * connection is not TLS, no certificate was presented, or it failed verification.
 */
export function peerIdentity(socket: TLSSocket | null): PeerIdentity | null {
  if (socket === null || socket.authorized !== true) return null;
  const cached = socket.peerIdentity;
  if (cached !== undefined) return cached;
  const cert = socket.getPeerX509Certificate();
  const own = socket.getX509Certificate();
  const identity = cert === undefined ? null : identityOf(cert, own);
  socket.peerIdentity = identity;
  return identity;
}

/** Pure: the identity of a certificate (and the URI SAN of the certificate we presented, for `By`). */
export function identityOf(cert: X509Certificate, own?: X509Certificate): PeerIdentity {
  const dns: string[] = [];
  const uris: string[] = [];
  const ips: string[] = [];
  const emails: string[] = [];
  const sans: string[] = [];
  for (const [type, value] of parseSubjectAltName(cert.subjectAltName)) {
    sans.push(value);
    if (type === 'DNS') dns.push(value);
    else if (type === 'URI') uris.push(value);
    else if (type === 'IP Address') ips.push(value);
    else if (type === 'email') emails.push(value);
  }
  let by = '';
  if (own !== undefined) {
    for (const [type, value] of parseSubjectAltName(own.subjectAltName)) {
      if (type === 'URI') {
        by = value;
        break;
      }
    }
  }
  return {
    hash: cert.fingerprint256.replaceAll(':', '').toLowerCase(),
    subject: rfc4514(cert.subject),
    dns,
    uris,
    ips,
    emails,
    sans,
    pem: cert.toString(),
    by,
    composed: new Map(),
  };
}

/**
 * Node prints a DN as one `K=v` line per RDN, least specific first, values already escaped as
 * RFC 2253 wants (`CN=svc\, Inc`). RFC 4514 order (what Envoy's XFCC `Subject` and
 * `allowedSubjects` use) is the reverse, joined with commas: `CN=client,O=Acme,C=DE`.
 */
export function rfc4514(nodeDn: string): string {
  const parts = nodeDn.split('\n');
  let out = '';
  for (let i = parts.length - 1; i >= 0; i--) {
    const part = parts[i] as string;
    if (part.length === 0) continue;
    out = out === '' ? part : `${out},${part}`;
  }
  return out;
}

/** An XFCC value: quoted when it holds `,`, `;`, `=` or `"` (and Subject always, as Envoy does). */
function xfccValue(value: string, alwaysQuote: boolean): string {
  let needs = alwaysQuote;
  for (let i = 0; i < value.length && !needs; i++) {
    const c = value.charCodeAt(i);
    needs = c === 44 || c === 59 || c === 61 || c === 34;
  }
  return needs ? `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"` : value;
}

/** Pure: the XFCC element for `identity` with `fields`, in Envoy's order and format. */
export function formatXfcc(identity: PeerIdentity, fields: readonly ClientIdentityField[]): string {
  const parts: string[] = [];
  for (const field of fields) {
    switch (field) {
      case 'By':
        if (identity.by !== '') parts.push(`By=${xfccValue(identity.by, false)}`);
        break;
      case 'Hash':
        parts.push(`Hash=${identity.hash}`);
        break;
      case 'Cert':
        parts.push(`Cert=${xfccValue(encodeURIComponent(identity.pem), true)}`);
        break;
      case 'Subject':
        parts.push(`Subject=${xfccValue(identity.subject, true)}`);
        break;
      case 'URI':
        // Envoy sends the first URI SAN only.
        if (identity.uris.length > 0) parts.push(`URI=${xfccValue(identity.uris[0] as string, false)}`);
        break;
      case 'DNS':
        for (const name of identity.dns) parts.push(`DNS=${xfccValue(name, false)}`);
        break;
    }
  }
  return parts.join(';');
}

/**
 * Removes every client-sent identity header from `outgoing` (the headers that will be forwarded),
 * then, for a verified peer on a route that forwards identity, sets the configured header.
 * Returns the value set, or null.
 */
export function applyClientIdentity(
  compiled: CompiledClientIdentity,
  req: { socket: unknown; stream?: { session?: { socket?: unknown } | undefined } },
  outgoing: IncomingHttpHeaders | Record<string, string | string[] | number | undefined>,
): string | null {
  stripIdentityHeaders(compiled, outgoing);
  if (compiled.header === null) return null;
  const identity = peerIdentity(tlsSocketOf(req));
  if (identity === null) return null;
  let value = identity.composed.get(compiled.fieldsKey);
  if (value === undefined) {
    value = formatXfcc(identity, compiled.fields);
    identity.composed.set(compiled.fieldsKey, value);
  }
  if (value === '') return null;
  outgoing[compiled.header] = value;
  return value;
}

/** Deletes x-forwarded-client-cert, the route's configured header and x-client-cert* (keys lower-case). */
export function stripIdentityHeaders(compiled: CompiledClientIdentity, outgoing: Record<string, unknown>): void {
  for (const name in outgoing) {
    if (
      name === DEFAULT_IDENTITY_HEADER ||
      name === compiled.header ||
      (name.length >= CLIENT_CERT_PREFIX.length && name.startsWith(CLIENT_CERT_PREFIX))
    ) {
      delete outgoing[name];
    }
  }
}
