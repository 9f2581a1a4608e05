// Re-verifies a client certificate chain that a TLS handshake already accepted, against client-auth
// material that changed since (a new CRL, a CA taken out of the bundle). OpenSSL verifies a chain
// once, at the handshake; a keep-alive connection or an h2 session outlives that, so after a change
// the data plane asks this module once per connection, and caches the answer until the next change.
//
// It follows what OpenSSL does with Node's settings: the chain must end at a self-signed CA of the
// bundle (no partial chains), every certificate of it must be within its dates, and, once a CRL is
// configured, every certificate of the chain needs a CRL from its issuer that does not list it
// (X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL). Pure: no I/O.
import { X509Certificate } from 'node:crypto';
import { type CrlInfo, certificateIssuerDer, parseCrls } from './crl.ts';
import { certificateBlocks } from './inspect.ts';

export interface ClientTrust {
  readonly anchors: readonly X509Certificate[];
  readonly crls: readonly CrlInfo[];
}

/** Why a chain no longer passes; null when it does. Names follow OpenSSL's verify errors. */
export type ClientChainFailure =
  | 'UNABLE_TO_GET_ISSUER_CERT'
  | 'CERT_HAS_EXPIRED'
  | 'CERT_NOT_YET_VALID'
  | 'CERT_REVOKED'
  | 'UNABLE_TO_GET_CRL'
  | 'CRL_HAS_EXPIRED';

/** Once per generation. A bundle or CRL that does not parse trusts nothing (preflight reports it). */
export function compileClientTrust(caPem: string | null, crlPem: string | null): ClientTrust {
  let anchors: X509Certificate[] = [];
  let crls: CrlInfo[] = [];
  try {
    anchors = caPem ? certificateBlocks(caPem).map((pem) => new X509Certificate(pem)) : [];
    crls = crlPem ? parseCrls(crlPem) : [];
  } catch {
    anchors = [];
    crls = [];
  }
  return Object.freeze({ anchors: Object.freeze(anchors), crls: Object.freeze(crls) });
}

const MAX_DEPTH = 10;

function issuedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
}

export interface VerifyClientChainOptions {
  /**
   * The CA bundle and CRL are the ones the handshake verified this chain against, so the part of
   * it that cannot be rebuilt here (a resumed session carries the client's leaf alone) passed them
   * there. What can be rebuilt is checked again (dates, and the CRL for each certificate of it).
   */
  anchorVerified?: boolean;
  /** More CAs that may complete a chain but are not trusted as its end (earlier bundles). */
  intermediates?: readonly X509Certificate[];
}

/**
 * `presented`: the peer's chain, leaf first (intermediates the client sent may follow). null when
 * the chain passes under `trust` at `now`.
 */
export function verifyClientChain(
  trust: ClientTrust,
  presented: readonly X509Certificate[],
  now: number,
  options: VerifyClientChainOptions = {},
): ClientChainFailure | null {
  const leaf = presented[0];
  if (leaf === undefined) return 'UNABLE_TO_GET_ISSUER_CERT';
  const path: X509Certificate[] = [leaf];
  const candidates = [...presented.slice(1), ...(options.intermediates ?? [])];
  let current = leaf;
  for (let depth = 0; ; depth++) {
    if (depth >= MAX_DEPTH) return 'UNABLE_TO_GET_ISSUER_CERT';
    if (issuedBy(current, current)) {
      // A self-signed end: trusted only if it is one of the bundle's own CAs.
      if (!trust.anchors.some((a) => a.fingerprint256 === current.fingerprint256)) return 'UNABLE_TO_GET_ISSUER_CERT';
      break;
    }
    const issuer = trust.anchors.find((a) => issuedBy(current, a)) ?? candidates.find((c) => issuedBy(current, c));
    if (issuer === undefined) {
      if (options.anchorVerified === true) break;
      return 'UNABLE_TO_GET_ISSUER_CERT';
    }
    path.push(issuer);
    current = issuer;
  }
  for (const cert of path) {
    if (Date.parse(cert.validFrom) > now) return 'CERT_NOT_YET_VALID';
    if (Date.parse(cert.validTo) < now) return 'CERT_HAS_EXPIRED';
  }
  if (trust.crls.length === 0) return null;
  for (let i = 0; i < path.length; i++) {
    const cert = path[i] as X509Certificate;
    // By the issuer's name, as OpenSSL finds CRLs: also for the last certificate of a chain that
    // could not be rebuilt to its root.
    const issuerName = certificateIssuerDer(cert);
    const crl = trust.crls.find((c) => c.issuerDer.equals(issuerName));
    if (crl === undefined) return 'UNABLE_TO_GET_CRL';
    if (crl.nextUpdate !== null && crl.nextUpdate.getTime() < now) return 'CRL_HAS_EXPIRED';
    if (crl.revokedSerials.includes(cert.serialNumber.toUpperCase())) return 'CERT_REVOKED';
  }
  return null;
}
