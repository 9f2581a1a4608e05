// Certificate expiry across everything a generation serves or trusts: what the primary logs at load
// and once a day, and what /status and `gatehouse_certificate_not_after_seconds` report. Pure.

import { certificateBlocks, daysLeft, inspectCertificate } from './inspect.ts';
import type { ResolvedMaterial } from './types.ts';

export type CertificateRole = 'server' | 'client-ca' | 'upstream-ca' | 'upstream-client';

export interface CertificateFact {
  role: CertificateRole;
  /** Names served (server), or the subject for CAs and client certificates. */
  name: string;
  names: string[];
  subject: string;
  serial: string;
  fingerprint256: string;
  notAfter: string;
  /** Seconds since the epoch, for the not-after gauge. */
  notAfterSeconds: number;
  daysLeft: number;
  /** Where it came from: a file path, or the config key (`routes.api.security.tls.rootCAs`). */
  source: string;
}

/**
 * One fact per certificate in `material`: each server leaf, each CA of the client CA bundle, and
 * per distinct upstream identity its CA bundle and client certificate (leaf only).
 */
export function certificateFacts(material: ResolvedMaterial, now: number = Date.now()): CertificateFact[] {
  const facts: CertificateFact[] = [];
  for (const cert of material.certificates) {
    facts.push(fact('server', cert.certPem, cert.source, now));
  }
  if (material.clientCA) {
    for (const block of certificateBlocks(material.clientCA)) {
      facts.push(fact('client-ca', block, 'gateway.tls.clientAuth.clientCA', now));
    }
  }
  const seen = new Set<string>();
  for (const [route, upstream] of Object.entries(material.upstreamTls)) {
    if (seen.has(upstream.identity)) continue;
    seen.add(upstream.identity);
    if (upstream.ca) {
      for (const block of certificateBlocks(upstream.ca)) {
        facts.push(fact('upstream-ca', block, `routes.${route}.security.tls.rootCAs`, now));
      }
    }
    if (upstream.cert)
      facts.push(fact('upstream-client', upstream.cert, `routes.${route}.security.tls.clientCert`, now));
  }
  return facts;
}

/** The facts with fewer than `days` left (expired ones included), soonest first. */
export function expiringWithin(facts: readonly CertificateFact[], days: number): CertificateFact[] {
  return facts.filter((f) => f.daysLeft < days).sort((a, b) => a.notAfterSeconds - b.notAfterSeconds);
}

function fact(role: CertificateRole, pem: string, source: string, now: number): CertificateFact {
  const info = inspectCertificate(pem);
  const names = role === 'server' ? info.names : [];
  return {
    role,
    name: names.length > 0 ? names.join(',') : (info.commonName ?? info.subject),
    names,
    subject: info.subject,
    serial: info.serial,
    fingerprint256: info.fingerprint256,
    notAfter: info.notAfter,
    notAfterSeconds: Math.floor(Date.parse(info.notAfter) / 1000),
    daysLeft: daysLeft(info.notAfter, now),
    source,
  };
}
