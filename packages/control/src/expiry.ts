// Certificate expiry warnings: at start and then once a day, one warning line per certificate in use
// that expires within the configured number of days (gateway.tls.expiryWarningDays). The list is
// read afresh each time, so a rotation that replaced a certificate silences its warning.
import type { Logger } from 'pino';
import type { CertificateStatus } from './gateway-api.ts';

export const DAY_MS = 86_400_000;

export interface ExpiryWarningOptions {
  logger: Logger;
  getCertificates: () => CertificateStatus[];
  days: number;
  /** Between checks; a day unless a test says otherwise. */
  intervalMs?: number;
  now?: () => number;
}

export interface ExpiringCertificate {
  name: string;
  role: CertificateStatus['role'];
  serial: string;
  notAfter: string;
  daysLeft: number;
  source: string;
}

/** Certificates whose not-after falls within `days` of `now` (already expired ones included). */
export function expiringWithin(list: CertificateStatus[], days: number, now: number): ExpiringCertificate[] {
  const out: ExpiringCertificate[] = [];
  for (const cert of list) {
    const notAfter = Date.parse(cert.notAfter);
    if (!Number.isFinite(notAfter)) continue;
    const daysLeft = Math.floor((notAfter - now) / DAY_MS);
    if (notAfter - now > days * DAY_MS) continue;
    out.push({
      name: cert.names[0] ?? cert.subject,
      role: cert.role,
      serial: cert.serial,
      notAfter: cert.notAfter,
      daysLeft,
      source: cert.source,
    });
  }
  return out;
}

export interface ExpiryWarnings {
  /** Checks now (the primary calls it after an accepted reload, which may bring new certificates). */
  check(): void;
  stop(): void;
}

export function startExpiryWarnings(opts: ExpiryWarningOptions): ExpiryWarnings {
  const now = opts.now ?? Date.now;
  const check = () => {
    let list: CertificateStatus[];
    try {
      list = opts.getCertificates();
    } catch (error) {
      opts.logger.error({ err: error }, 'certificate expiry check failed');
      return;
    }
    for (const cert of expiringWithin(list, opts.days, now())) {
      opts.logger.warn(cert, 'certificate expires soon');
    }
  };
  check();
  const timer = setInterval(check, opts.intervalMs ?? DAY_MS);
  timer.unref();
  return { check, stop: () => clearInterval(timer) };
}
