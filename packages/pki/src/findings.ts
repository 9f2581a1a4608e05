// What the material checks found, collected by severity, and the chain check every certificate
// (server or client) goes through.
import type { ConfigDiagnostic, SourcePos } from '@gatehouse/config';
import type { X509Certificate } from 'node:crypto';
import { checkChain, checkExpirySoon, checkValidityWindow, parseCertificates } from './preflight.ts';

/** Collects diagnostics by severity. */
export class Findings {
  readonly errors: ConfigDiagnostic[] = [];
  readonly warnings: ConfigDiagnostic[] = [];
  add(d: ConfigDiagnostic | null | undefined): void {
    if (!d) return;
    (d.severity === 'error' ? this.errors : this.warnings).push(d);
  }
  addAll(ds: readonly ConfigDiagnostic[]): void {
    for (const d of ds) this.add(d);
  }
}

/** Parses a leaf-first chain and runs the validity, expiry and chain checks; null when it cannot serve. */
export function checkedChain(
  pem: string,
  origin: string,
  at: SourcePos,
  now: number,
  warningDays: number,
  findings: Findings,
): X509Certificate[] | null {
  const parsed = parseCertificates(pem, origin, at);
  if (!parsed.ok) {
    findings.add(parsed.diagnostic);
    return null;
  }
  const chain = parsed.value;
  let usable = true;
  for (const [i, cert] of chain.entries()) {
    const label = i === 0 ? origin : `${origin}: intermediate #${i + 1} (${cert.subject.split('\n').join(', ')})`;
    const window = checkValidityWindow(cert, now, label, at);
    if (window) usable = false;
    findings.add(window ?? checkExpirySoon(cert, now, warningDays, label, at));
  }
  const broken = checkChain(chain, origin, at);
  if (broken) {
    findings.add(broken);
    usable = false;
  }
  return usable ? chain : null;
}
