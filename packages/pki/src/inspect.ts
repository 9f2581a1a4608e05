// Pure X.509 inspection: what a certificate says about itself, in the shapes logs, /status, metrics
// and the SNI store need. No I/O; node:crypto does the parsing.

import { X509Certificate } from 'node:crypto';
import { CertificateParseError } from './errors.ts';
import type { ResolvedServerCertificate } from './types.ts';

export type KeyType = ResolvedServerCertificate['keyType'];

export interface CertificateInfo {
  /** Subject DN, one `K=v` per RDN, joined with `, ` (`O=Gatehouse Dev, CN=localhost`). */
  subject: string;
  issuer: string;
  commonName: string | null;
  /** Upper-case hex. */
  serial: string;
  /** `AA:BB:...`, SHA-256 over the DER. */
  fingerprint256: string;
  notBefore: string; // ISO 8601
  notAfter: string; // ISO 8601
  dnsNames: string[];
  ipAddresses: string[];
  uris: string[];
  /** Names it serves: DNS SANs lower-cased; the CN only when the certificate has no SAN at all. */
  names: string[];
  keyType: KeyType;
  isCA: boolean;
}

export interface PemBlock {
  /** The word(s) after BEGIN: `CERTIFICATE`, `PRIVATE KEY`, `X509 CRL`, ... */
  label: string;
  /** The whole block, BEGIN to END line, with a trailing newline. */
  pem: string;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;
const PEM_BEGIN = /-----BEGIN [A-Z0-9 ]+-----/g;

/** Every complete PEM block in `text`, in order. Text between blocks (comments, openssl -text dumps) is ignored. */
export function splitPemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const match of text.matchAll(PEM_BLOCK)) {
    const label = match[1] ?? '';
    const body = (match[2] ?? '').replace(/\r/g, '');
    blocks.push({ label, pem: `-----BEGIN ${label}-----\n${body}-----END ${label}-----\n` });
  }
  return blocks;
}

/** How many BEGIN lines `text` has; more than complete blocks means a truncated (half-written) file. */
export function countPemBegins(text: string): number {
  return text.match(PEM_BEGIN)?.length ?? 0;
}

/** The CERTIFICATE blocks of `text`, in order. */
export function certificateBlocks(text: string): string[] {
  return splitPemBlocks(text)
    .filter((b) => b.label === 'CERTIFICATE')
    .map((b) => b.pem);
}

/** Splits Node's `subjectAltName` (`DNS:a, IP Address:1.2.3.4, URI:"x,y"`) into [type, value] pairs. */
export function parseSubjectAltName(san: string | undefined): Array<[string, string]> {
  if (!san) return [];
  const entries: Array<[string, string]> = [];
  // Node quotes (JSON style) any value holding a comma, quote or other special character.
  const entry = /(?:^|, )([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)/g;
  for (const match of san.matchAll(entry)) {
    const type = match[1] ?? '';
    let value = match[2] ?? '';
    if (value.startsWith('"')) {
      try {
        value = JSON.parse(value) as string;
      } catch {
        value = value.slice(1, -1);
      }
    }
    entries.push([type, value]);
  }
  return entries;
}

/** RDN lines of Node's multi-line DN string, unquoted values kept as printed. */
function dnLines(dn: string): string[] {
  return dn.split('\n').filter((line) => line.length > 0);
}

function commonNameOf(dn: string): string | null {
  let cn: string | null = null;
  for (const line of dnLines(dn)) {
    if (line.startsWith('CN=')) {
      const value = line.slice(3);
      cn = value.startsWith('"') ? safeUnquote(value) : value;
    }
  }
  return cn;
}

function safeUnquote(value: string): string {
  try {
    return JSON.parse(value) as string;
  } catch {
    return value;
  }
}

export function keyTypeOf(type: string | undefined): KeyType {
  switch (type) {
    case 'rsa':
    case 'ec':
    case 'ed25519':
    case 'ed448':
    case 'rsa-pss':
      return type;
    default:
      return 'other';
  }
}

/** Parses one PEM certificate (the first CERTIFICATE block when `pem` holds several). */
export function parseCertificate(pem: string | Buffer): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (error) {
    throw new CertificateParseError(`not a parsable X.509 certificate: ${(error as Error).message}`, { cause: error });
  }
}

/** Everything Gatehouse reports about a certificate. Pure; throws CertificateParseError on bad input. */
export function inspectCertificate(pem: string | X509Certificate): CertificateInfo {
  const cert = typeof pem === 'string' ? parseCertificate(certificateBlocks(pem)[0] ?? pem) : pem;
  const dnsNames: string[] = [];
  const ipAddresses: string[] = [];
  const uris: string[] = [];
  const sans = parseSubjectAltName(cert.subjectAltName);
  for (const [type, value] of sans) {
    if (type === 'DNS') dnsNames.push(value);
    else if (type === 'IP Address') ipAddresses.push(value);
    else if (type === 'URI') uris.push(value);
  }
  const commonName = commonNameOf(cert.subject);
  const names =
    sans.length > 0 ? unique(dnsNames.map((n) => n.toLowerCase())) : commonName ? [commonName.toLowerCase()] : [];
  return {
    subject: dnLines(cert.subject).join(', '),
    issuer: dnLines(cert.issuer).join(', '),
    commonName,
    serial: cert.serialNumber.toUpperCase(),
    fingerprint256: cert.fingerprint256,
    notBefore: cert.validFromDate.toISOString(),
    notAfter: cert.validToDate.toISOString(),
    dnsNames,
    ipAddresses,
    uris,
    names,
    keyType: keyTypeOf(cert.publicKey.asymmetricKeyType),
    isCA: cert.ca,
  };
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/** Whole days from `now` until `notAfter` (negative once expired), floored, for /status and logs. */
export function daysLeft(notAfter: string, now: number = Date.now()): number {
  return Math.floor((Date.parse(notAfter) - now) / 86_400_000);
}

/** Each `-----BEGIN X509 CRL-----` block on its own: Node reads only the first CRL of one string. */
export function splitCrls(pem: string): string[] {
  return pem.match(/-----BEGIN X509 CRL-----[\s\S]*?-----END X509 CRL-----\n?/g) ?? [];
}
