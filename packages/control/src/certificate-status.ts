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
      source: cert.source,
      ...(cert.provider === undefined
        ? {}
        : {
            provider: cert.provider,
            nextRenewal: new Date(renewalTime(Date.parse(cert.notBefore), Date.parse(cert.notAfter))).toISOString(),
          }),
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
        source,
      });
    } catch {
      // Material was preflighted by pki before it reached a snapshot; a block it accepted but we cannot
      // inspect is left out of the report rather than failing /status.
    }
  }
  return out;
}
