// Open connections and changed trust material. OpenSSL verifies a client certificate once, at the
// handshake; an HTTP/1.1 keep-alive connection or an h2 session outlives that. When a generation
// changes the client-auth material (CA bundle, CRL, mode: its `trustKey`), the next request on a
// connection made under the old material re-verifies the peer's chain against the new material
// (pki verifyClientChain), once per connection and material; the verdict is kept on the socket. A
// connection made under the current material costs one string compare per request.
//
// Which material a handshake used is read from the context it ran on: the SNI callback's context
// (Node keeps it on the socket's handle) or, without SNI, the server's default context of the
// moment the connection arrived. Each context of a generation is registered with that generation's
// mark. A socket whose context is unknown (Node internals changed) is re-verified, never trusted.
//
// The chain is the one the client sent, kept at the handshake (keepPresentedChains): Node's own
// 'secure' handler reads the peer certificate in a way that empties OpenSSL's list of the client's
// certificates (seen on Node 24.21), so afterwards a server sees the leaf alone.
import { X509Certificate } from 'node:crypto';
import type { SecureContext, Server as TlsServer, TLSSocket } from 'node:tls';
import { verifyClientChain } from '@gatehouse/pki/client-trust';
import { ERROR_KINDS, type ErrorKind } from '../errors.ts';
import type { ClientAuthPolicy } from './client-auth.ts';
import { nativeContextOf } from './session-tickets.ts';

declare module 'tls' {
  interface TLSSocket {
    /** The material the handshake verified the client against (tagHandshake); unset: treated as stale. */
    handshakeTrust?: TrustMark | undefined;
    /**
     * The client's leaf as read before Node's 'secure' handler; its issuerCertificate links hold what
     * it sent. null from the first key-log line until then (or when no certificate came).
     */
    presentedLeaf?: X509Certificate | null | undefined;
    /** The re-verification against newer material, kept for that material's trustKey. */
    trustVerdict?: TrustVerdict | undefined;
  }
}

interface TrustVerdict {
  key: string;
  denial: ErrorKind | null;
}

/** The material a handshake was verified against; one object per generation, shared by its sockets. */
interface TrustMark {
  trustKey: string;
  materialKey: string;
}

/** Never equal to a policy's keys. */
const STALE: TrustMark = Object.freeze({ trustKey: '\u0000stale', materialKey: '\u0000stale' });

/** Native SecureContext → the material it verifies client certificates with. */
const marks = new WeakMap<object, TrustMark>();
/** The mark of each policy, so that all contexts of a generation share one object. */
const markOf = new WeakMap<ClientAuthPolicy, TrustMark>();

/**
 * Every CA any generation of this worker trusted, by fingerprint: they may complete a chain whose
 * intermediates are not known (a resumed session carries the leaf alone), never end one. Bounded by
 * the CAs an operator ever configured.
 */
const knownCas = new Map<string, X509Certificate>();

/** `context` (a tls.SecureContext) verifies client certificates with `policy`'s material. */
export function registerContext(context: SecureContext, policy: ClientAuthPolicy): void {
  let mark = markOf.get(policy);
  if (mark === undefined) {
    mark = Object.freeze({ trustKey: policy.trustKey, materialKey: policy.materialKey });
    markOf.set(policy, mark);
    for (const ca of policy.trust.anchors) knownCas.set(ca.fingerprint256, ca);
  }
  const native = nativeContextOf(context);
  if (native !== undefined) marks.set(native, mark);
}

/** Where Node keeps a socket's context (no public type): the SNI pick, else the server's default. */
interface HandshakeInternals {
  _handle?: { sni_context?: object } | null;
  _tlsOptions?: { secureContext?: { context?: object } };
}

/**
 * While `requestCert`: keeps on each new socket the certificates its client sent. The server's
 * 'keylog' event is the one documented hook that hands over a TLSSocket before its handshake ends;
 * a 'secure' listener prepended there runs before Node's own. Off when no certificate is asked
 * for, so plain TLS pays nothing (Node asks OpenSSL for key-log lines only while someone listens).
 */
export function keepPresentedChains(server: TlsServer, requestCert: boolean): void {
  const listening = server.listeners('keylog').includes(onKeylog);
  if (requestCert && !listening) server.on('keylog', onKeylog);
  else if (!requestCert && listening) server.off('keylog', onKeylog);
}

function onKeylog(_line: Buffer, socket: TLSSocket): void {
  // Several key-log lines per handshake: one listener per socket.
  if (socket.presentedLeaf !== undefined) return;
  socket.presentedLeaf = null;
  socket.prependOnceListener('secure', keepPresented);
}

function keepPresented(this: TLSSocket): void {
  this.presentedLeaf = this.getPeerX509Certificate() ?? null;
}

/** On 'secureConnection': which material this handshake was verified against. */
export function tagHandshake(socket: TLSSocket): void {
  const internals = socket as unknown as HandshakeInternals;
  const native = internals._handle?.sni_context ?? internals._tlsOptions?.secureContext?.context;
  socket.handshakeTrust = (native !== undefined && marks.get(native)) || STALE;
}

/**
 * null when the connection's certificate passes the current material (or there is none to check).
 * Called only for authorized connections of routes that look at certificates.
 */
export function trustDenial(policy: ClientAuthPolicy, socket: TLSSocket): ErrorKind | null {
  const handshake = socket.handshakeTrust ?? STALE;
  if (handshake.trustKey === policy.trustKey) return null;
  const cached = socket.trustVerdict;
  if (cached !== undefined && cached.key === policy.trustKey) return cached.denial;
  const chain = peerChain(socket);
  let denial: ErrorKind | null = null;
  if (chain.length > 0) {
    const failure = verifyClientChain(policy.trust, chain, Date.now(), {
      // Same CA bundle and CRL as at the handshake (only the mode changed): the chain passed them
      // there, also where it cannot be rebuilt here (a resumed session shows the leaf alone). After
      // a CA or CRL change, a chain that cannot be rebuilt cannot be shown to pass: refused.
      anchorVerified: handshake.materialKey === policy.materialKey,
      intermediates: [...knownCas.values()],
    });
    if (failure !== null) denial = VERIFY_KINDS[failure] ?? ERROR_KINDS.clientCertInvalid;
  }
  socket.trustVerdict = { key: policy.trustKey, denial };
  return denial;
}

const VERIFY_KINDS: Readonly<Record<string, ErrorKind>> = Object.freeze({
  UNABLE_TO_GET_ISSUER_CERT: ERROR_KINDS.clientCertUnknownCa,
  CERT_HAS_EXPIRED: ERROR_KINDS.clientCertExpired,
  CERT_NOT_YET_VALID: ERROR_KINDS.clientCertNotYetValid,
  CERT_REVOKED: ERROR_KINDS.clientCertRevoked,
  UNABLE_TO_GET_CRL: ERROR_KINDS.clientCertNoCrl,
});

/** The peer's certificates as it sent them, leaf first. */
function peerChain(socket: TLSSocket): X509Certificate[] {
  const presented = socket.presentedLeaf;
  if (presented) {
    const chain = [presented];
    for (
      let cert = presented.issuerCertificate;
      cert !== undefined && chain.length < 10;
      cert = cert.issuerCertificate
    ) {
      chain.push(cert);
    }
    return chain;
  }
  // Not kept (no key-log hook when the handshake ran): what Node still shows, the leaf on Node 24.
  const leaf = socket.getPeerX509Certificate();
  if (leaf === undefined) return [];
  const chain = [leaf];
  let detailed = socket.getPeerCertificate(true) as { raw?: Buffer; issuerCertificate?: unknown } | null;
  for (let i = 0; i < 10 && detailed?.issuerCertificate; i++) {
    const issuer = detailed.issuerCertificate as { raw?: Buffer; issuerCertificate?: unknown };
    if (issuer === detailed || issuer.raw === undefined) break;
    chain.push(new X509Certificate(issuer.raw));
    detailed = issuer;
  }
  return chain;
}
