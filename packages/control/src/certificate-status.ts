// The certificate facts /status, metrics and expiry warnings report, derived from a snapshot. Pure.
import type { Snapshot } from '@gatehouse/dataplane';
import { certificateBlocks, daysLeft, inspectCertificate } from '@gatehouse/pki';
import { renewalTime } from './acme/renewal.ts';
import type { CertificateStatus } from './gateway-api.ts';

export function certificateStatuses(snapshot: Snapshot, now: number): CertificateStatus[] {
  const out: CertificateStatus[] = [];
  for (const cert of snapshot.tls.certificates) {
    out.push({
      role: 'server',
      names: cert.names,
      subject: cert.subject,
      serial: cert.serial,
      fingerprint256: cert.fingerprint256,
      notAfter: cert.notAfter,
      daysLeft: daysLeft(cert.notAfter, now),
      issuer: issuerOf(cert.certPem),
      source: cert.source,
      ...(cert.provider === undefined
        ? {}
        : {
            provider: cert.provider,
            nextRenewal: new Date(renewalTime(Date.parse(cert.notBefore), Date.parse(cert.notAfter))).toISOString(),
          }),
      sourceKind: cert.provider === undefined ? certificateSourceKind(cert.source) : 'acme',
    });
  }
  if (snapshot.tls.clientCA)
    out.push(...bundle(snapshot.tls.clientCA, 'client-ca', 'gateway.tls.clientAuth.clientCA', now));
  for (const [route, tls] of Object.entries(snapshot.upstreamTls)) {
    if (tls.cert)
      out.push(...bundle(tls.cert, 'upstream-client', `routes.${route}.security.tls.clientCert`, now).slice(0, 1));
    if (tls.ca) out.push(...bundle(tls.ca, 'upstream-ca', `routes.${route}.security.tls.rootCAs`, now));
  }
  return out;
}

function bundle(pem: string, role: CertificateStatus['role'], source: string, now: number): CertificateStatus[] {
  const out: CertificateStatus[] = [];
  for (const block of certificateBlocks(pem)) {
    try {
      const info = inspectCertificate(block);
      out.push({
        role,
        names: info.names,
        subject: info.subject,
        serial: info.serial,
        fingerprint256: info.fingerprint256,
        notAfter: info.notAfter,
        daysLeft: daysLeft(info.notAfter, now),
        issuer: info.issuer,
        source,
        sourceKind: 'file',
      });
    } catch {
      // Material was preflighted by pki before it reached a snapshot; a block it accepted but we cannot
      // inspect is left out of the report rather than failing /status.
    }
  }
  return out;
}

/** The same certificates with `daysLeft` counted at `now`: the rest is fixed for a generation. */
export function refreshDaysLeft(list: CertificateStatus[], now: number): CertificateStatus[] {
  return list.map((cert) => ({ ...cert, daysLeft: daysLeft(cert.notAfter, now) }));
}

/**
 * How a certificate reached the gateway, from its `source`: certificates obtained by ACME and those
 * found in a certificate folder carry an `acme:` or `folder:` prefix; `<inline>` is PEM in the config.
 */
export function certificateSourceKind(source: string): CertificateStatus['sourceKind'] {
  if (source.startsWith('acme:')) return 'acme';
  if (source.startsWith('folder:')) return 'folder';
  if (source.startsWith('<inline')) return 'inline';
  return 'file';
}

function issuerOf(certPem: string): string {
  const leaf = certificateBlocks(certPem)[0];
  if (leaf === undefined) return '';
  try {
    return inspectCertificate(leaf).issuer;
  } catch {
    return '';
  }
}
