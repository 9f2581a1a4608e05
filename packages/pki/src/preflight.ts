// The checks a change must pass before the primary builds a snapshot from it: pure functions over
// PEM text and parsed certificates, each returning diagnostics (never throwing). load.ts runs them.

import type { ConfigDiagnostic, SourcePos } from '@gatehouse/config';
import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { createSecureContext, rootCertificates } from 'node:tls';
import { certificateSubjectDer, parseCrls } from './crl.ts';
import { diagnostic, MaterialCode } from './diagnostic.ts';
import { certificateBlocks, splitCrls } from './inspect.ts';
import { certificateNameCovers, hostWithoutPort } from './name-match.ts';

const DAY_MS = 86_400_000;

export type Checked<T> = { ok: true; value: T } | { ok: false; diagnostic: ConfigDiagnostic };

/** Parses every CERTIFICATE block of `pem` (an origin is named in the message). */
export function parseCertificates(pem: string, origin: string, at: SourcePos): Checked<X509Certificate[]> {
  const blocks = certificateBlocks(pem);
  const certs: X509Certificate[] = [];
  for (const [i, block] of blocks.entries()) {
    try {
      certs.push(new X509Certificate(block));
    } catch (error) {
      return {
        ok: false,
        diagnostic: diagnostic(
          'error',
          at,
          MaterialCode.unparsable,
          `${origin}: certificate #${i + 1} is not a valid X.509 certificate (${(error as Error).message})`,
          'the PEM block is damaged; export the certificate again',
        ),
      };
    }
  }
  return { ok: true, value: certs };
}

/** Opens a private key, with its passphrase when it is encrypted. */
export function openPrivateKey(
  keyPem: string,
  passphrase: string | null,
  origin: string,
  at: SourcePos,
): Checked<KeyObject> {
  const encrypted = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(keyPem);
  if (encrypted && !passphrase) {
    return {
      ok: false,
      diagnostic: diagnostic(
        'error',
        at,
        MaterialCode.keyPassphrase,
        `${origin} is an encrypted private key and no passphrase is configured`,
        'set `passphrase:` beside `key:` (it may come from the environment), or decrypt the key: openssl pkey -in KEY -out KEY.plain',
      ),
    };
  }
  try {
    return { ok: true, value: createPrivateKey(passphrase ? { key: keyPem, passphrase } : keyPem) };
  } catch (error) {
    const message = (error as Error).message;
    const badPassphrase = encrypted || /decrypt|bad password/i.test(message);
    return {
      ok: false,
      diagnostic: diagnostic(
        'error',
        at,
        badPassphrase ? MaterialCode.keyPassphrase : MaterialCode.unparsable,
        badPassphrase
          ? `${origin} cannot be decrypted with the configured passphrase`
          : `${origin} is not a usable private key (${message})`,
        badPassphrase ? 'check `passphrase:`' : 'the PEM block is damaged or of an unsupported type',
      ),
    };
  }
}

/** The key belongs to the certificate when their public keys are the same. */
export function checkKeyMatchesCertificate(
  cert: X509Certificate,
  key: KeyObject,
  certOrigin: string,
  keyOrigin: string,
  at: SourcePos,
): ConfigDiagnostic | null {
  if (cert.checkPrivateKey(key)) return null;
  return diagnostic(
    'error',
    at,
    MaterialCode.keyMismatch,
    `the private key ${keyOrigin} does not belong to the certificate ${certOrigin} (serial ${cert.serialNumber.toUpperCase()})`,
    'write the key and the certificate of the same issuance; during a rotation the next file event retries once both are in place',
  );
}

/** Not yet valid or expired at `now` is an error: such a certificate fails every handshake. */
export function checkValidityWindow(
  cert: X509Certificate,
  now: number,
  origin: string,
  at: SourcePos,
): ConfigDiagnostic | null {
  const from = cert.validFromDate.getTime();
  const to = cert.validToDate.getTime();
  if (now < from) {
    return diagnostic(
      'error',
      at,
      MaterialCode.notYetValid,
      `${origin} is not valid yet: valid from ${cert.validFromDate.toISOString()}`,
      'check the clock of this host, or wait until the certificate becomes valid',
    );
  }
  if (now > to) {
    return diagnostic(
      'error',
      at,
      MaterialCode.expired,
      `${origin} expired at ${cert.validToDate.toISOString()}`,
      'renew the certificate',
    );
  }
  return null;
}

/** A warning when fewer than `days` are left. */
export function checkExpirySoon(
  cert: X509Certificate,
  now: number,
  days: number,
  origin: string,
  at: SourcePos,
): ConfigDiagnostic | null {
  const left = cert.validToDate.getTime() - now;
  if (left < 0 || left >= days * DAY_MS) return null;
  const whole = Math.floor(left / DAY_MS);
  return diagnostic(
    'warning',
    at,
    MaterialCode.expiresSoon,
    `${origin} expires in ${whole} day${whole === 1 ? '' : 's'} (${cert.validToDate.toISOString()})`,
    'renew it; the new files are picked up without a restart',
  );
}

const EKU = { server: '1.3.6.1.5.5.7.3.1', client: '1.3.6.1.5.5.7.3.2', any: '2.5.29.37.0' } as const;

/**
 * A certificate with an extendedKeyUsage that lacks the purpose it is used for is refused by the
 * peer ("unsupported certificate purpose"): an error for a server certificate (every client
 * refuses it), a warning for an upstream client certificate (the backend decides).
 */
export function checkPurpose(
  cert: X509Certificate,
  purpose: 'server' | 'client',
  origin: string,
  at: SourcePos,
): ConfigDiagnostic | null {
  const usages = cert.keyUsage;
  if (!usages || usages.includes(EKU[purpose]) || usages.includes(EKU.any)) return null;
  const has = usages.includes(EKU.client)
    ? 'clientAuth'
    : usages.includes(EKU.server)
      ? 'serverAuth'
      : usages.join(', ');
  return diagnostic(
    purpose === 'server' ? 'error' : 'warning',
    at,
    MaterialCode.wrongPurpose,
    `${origin} is not for ${purpose === 'server' ? 'TLS servers' : 'TLS clients'}: its extendedKeyUsage is ${has}, without ${purpose === 'server' ? 'serverAuth' : 'clientAuth'}`,
    `issue it with extendedKeyUsage ${purpose === 'server' ? 'serverAuth' : 'clientAuth'}; peers refuse it as "unsupported certificate purpose"`,
  );
}

let systemRoots: X509Certificate[] | null = null;
function isIssuedBySystemRoot(cert: X509Certificate): boolean {
  systemRoots ??= rootCertificates.map((pem) => new X509Certificate(pem));
  for (const root of systemRoots) if (cert.checkIssued(root) && cert.verify(root.publicKey)) return true;
  return false;
}

function isSelfSigned(cert: X509Certificate): boolean {
  return cert.checkIssued(cert) && cert.verify(cert.publicKey);
}

/**
 * The certificate file must hold the leaf first and then each issuer in turn: every certificate is
 * issued (name and signature) by the next. When the last one is not a root, its issuer must be one
 * the clients have: a missing intermediate is reported when the last certificate points to its
 * issuer through Authority Information Access (as every publicly issued certificate does) and that
 * issuer is not a public root. A private CA's leaf without AIA is taken to be issued by a root the
 * clients were given.
 */
export function checkChain(certs: X509Certificate[], origin: string, at: SourcePos): ConfigDiagnostic | null {
  for (let i = 0; i + 1 < certs.length; i++) {
    const child = certs[i]!;
    const parent = certs[i + 1]!;
    if (child.checkIssued(parent) && child.verify(parent.publicKey)) continue;
    const issuerElsewhere = certs.findIndex((c, j) => j !== i && child.checkIssued(c) && child.verify(c.publicKey));
    return diagnostic(
      'error',
      at,
      issuerElsewhere >= 0 ? MaterialCode.chainOrder : MaterialCode.chainIncomplete,
      issuerElsewhere >= 0
        ? `${origin}: certificate #${i + 2} is not the issuer of #${i + 1}; the chain is out of order`
        : `${origin}: certificate #${i + 2} (${oneLine(parent.subject)}) did not issue #${i + 1} (${oneLine(child.subject)}, issued by ${oneLine(child.issuer)})`,
      issuerElsewhere >= 0
        ? 'order the file leaf first, then each intermediate, each followed by its issuer'
        : `replace #${i + 2} with the intermediate "${oneLine(child.issuer)}", or remove it`,
    );
  }
  const top = certs[certs.length - 1];
  if (!top || isSelfSigned(top) || isIssuedBySystemRoot(top)) return null;
  if (top.infoAccess?.includes('CA Issuers')) {
    return diagnostic(
      'error',
      at,
      MaterialCode.chainIncomplete,
      `${origin}: the chain is incomplete: "${oneLine(top.issuer)}", the issuer of ${certs.length === 1 ? 'the certificate' : `certificate #${certs.length}`}, is an intermediate that is not in the file`,
      `append the intermediate certificate(s) after the leaf (a "fullchain" file); its address is in the certificate: ${top.infoAccess.trim()}`,
    );
  }
  return null;
}

/** clientCA / rootCAs: every block parses; a bundle of several CAs is fine. OpenSSL must load it too. */
export function checkCaBundle(
  pem: string,
  origin: string,
  at: SourcePos,
  now: number,
): { certs: X509Certificate[]; errors: ConfigDiagnostic[]; warnings: ConfigDiagnostic[] } {
  const parsed = parseCertificates(pem, origin, at);
  if (!parsed.ok) return { certs: [], errors: [parsed.diagnostic], warnings: [] };
  const errors: ConfigDiagnostic[] = [];
  const warnings: ConfigDiagnostic[] = [];
  try {
    createSecureContext({ ca: certificateBlocks(pem) });
  } catch (error) {
    errors.push(
      diagnostic(
        'error',
        at,
        MaterialCode.unparsable,
        `${origin}: OpenSSL rejects the CA bundle (${(error as Error).message})`,
        null,
      ),
    );
  }
  for (const [i, ca] of parsed.value.entries()) {
    const label = parsed.value.length > 1 ? `${origin} #${i + 1} (${oneLine(ca.subject)})` : origin;
    if (!ca.ca) {
      warnings.push(
        diagnostic(
          'warning',
          at,
          MaterialCode.notCA,
          `${label} is not a CA certificate (basicConstraints CA:FALSE); it can only trust itself`,
          'give the certificate of the CA that issued the peers, not a peer certificate',
        ),
      );
    }
    if (now > ca.validToDate.getTime()) {
      warnings.push(
        diagnostic(
          'warning',
          at,
          MaterialCode.expired,
          `${label} expired at ${ca.validToDate.toISOString()}; certificates it issued no longer verify`,
          'replace it with the renewed CA certificate',
        ),
      );
    }
  }
  return { certs: parsed.value, errors, warnings };
}

/** The CRL must load into OpenSSL (a SecureContext is built with it, as the workers will). */
export function checkCrl(pem: string, origin: string, at: SourcePos): ConfigDiagnostic | null {
  try {
    createSecureContext({ crl: splitCrls(pem) });
    return null;
  } catch (error) {
    return diagnostic(
      'error',
      at,
      MaterialCode.unparsable,
      `${origin} is not a valid X.509 CRL (${(error as Error).message})`,
      'give the PEM CRL your CA publishes (openssl ca -gencrl); convert DER with: openssl crl -inform der -in FILE -out FILE.pem',
    );
  }
}

/**
 * Once a CRL is configured, OpenSSL checks the leaf of every client chain against its issuer's CRL:
 * a client CA without a CRL, or with an expired one, fails every client certificate it issued
 * (UNABLE_TO_GET_CRL, CRL_HAS_EXPIRED). Warnings, because a CA that only issues intermediates needs
 * no CRL here.
 */
export function checkCrlCoverage(
  crlPem: string,
  cas: readonly X509Certificate[],
  origin: string,
  at: SourcePos,
  now: number,
): ConfigDiagnostic[] {
  let crls: ReturnType<typeof parseCrls>;
  try {
    crls = parseCrls(crlPem);
  } catch (error) {
    return [
      diagnostic(
        'error',
        at,
        MaterialCode.unparsable,
        `${origin}: cannot read the CRL (${(error as Error).message})`,
        null,
      ),
    ];
  }
  const out: ConfigDiagnostic[] = [];
  const subjects = cas.map((ca) => certificateSubjectDer(ca));
  for (const [i, ca] of cas.entries()) {
    if (crls.some((crl) => crl.issuerDer.equals(subjects[i]!))) continue;
    out.push(
      diagnostic(
        'warning',
        at,
        MaterialCode.crlMissingForCA,
        `${origin} has no CRL from client CA "${oneLine(ca.subject)}": every client certificate it issues directly will be rejected (UNABLE_TO_GET_CRL)`,
        'add that CA’s CRL to the CRL file (several PEM CRLs may be concatenated)',
      ),
    );
  }
  for (const crl of crls) {
    const issuer = cas.find((_, i) => crl.issuerDer.equals(subjects[i]!));
    // A CRL whose issuer is not in clientCA is not useless: it may be an intermediate's that clients
    // send in their chain. So no warning for it, only for stale ones.
    const name = issuer ? `"${oneLine(issuer.subject)}"` : 'an issuer outside clientCA (an intermediate?)';
    if (crl.nextUpdate && crl.nextUpdate.getTime() < now) {
      out.push(
        diagnostic(
          'warning',
          at,
          MaterialCode.crlExpired,
          `${origin}: the CRL from ${name} expired at ${crl.nextUpdate.toISOString()}; client certificates of that CA are rejected (CRL_HAS_EXPIRED) until a fresh CRL is in place`,
          'publish a new CRL (openssl ca -gencrl); the file is reloaded when it changes',
        ),
      );
    } else if (crl.thisUpdate.getTime() > now) {
      out.push(
        diagnostic(
          'warning',
          at,
          MaterialCode.crlNotYetValid,
          `${origin}: the CRL from ${name} is valid only from ${crl.thisUpdate.toISOString()}; client certificates of that CA are rejected until then`,
          'check the clock of this host and of the CA',
        ),
      );
    }
  }
  return out;
}

/**
 * A warning for every route host that no server certificate covers (clients would see a name
 * mismatch, or the default certificate). `coverage` holds each certificate's DNS names and IPs.
 */
export function checkHostCoverage(
  hosts: readonly string[],
  coverage: readonly string[],
  at: SourcePos,
): ConfigDiagnostic[] {
  const out: ConfigDiagnostic[] = [];
  for (const [i, raw] of hosts.entries()) {
    const host = canonicalHost(hostWithoutPort(raw));
    if (host === '' || host === '*') continue;
    if (coverage.some((name) => certificateNameCovers(name, host))) continue;
    out.push(
      diagnostic(
        'warning',
        { ...at, path: `${at.path}.hosts[${i}]` },
        MaterialCode.sanMismatch,
        `no server certificate covers host "${raw}": HTTPS clients will get the default certificate and a name mismatch`,
        `add a certificate whose subjectAltName includes ${host.startsWith('*.') ? host : `DNS:${host} (or a wildcard)`}`,
      ),
    );
  }
  return out;
}

/** IPv6 literals in one canonical (compressed) form so `::1` and `0:0:0:0:0:0:0:1` compare equal. */
export function canonicalHost(host: string): string {
  if (!host.includes(':')) return host.toLowerCase();
  try {
    return new URL(`http://[${host}]/`).hostname.slice(1, -1);
  } catch {
    return host.toLowerCase();
  }
}

function oneLine(dn: string): string {
  return dn.split('\n').filter(Boolean).join(', ');
}
