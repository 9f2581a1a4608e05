// A minimal DER reader for what node:crypto does not expose: a CRL's issuer, update times and
// revoked serials, and a certificate's raw subject Name. Preflight needs them because OpenSSL, once
// a CRL is configured, rejects every client certificate whose issuer has no CRL (UNABLE_TO_GET_CRL)
// or an expired one (CRL_HAS_EXPIRED): both deserve a warning at load rather than a surprise later.
// Pure; throws CrlParseError on malformed input.

import type { X509Certificate } from 'node:crypto';
import { CrlParseError } from './errors.ts';

export interface CrlInfo {
  /** DER of the issuer Name, comparable byte for byte with `certificateSubjectDer`. */
  issuerDer: Buffer;
  thisUpdate: Date;
  nextUpdate: Date | null;
  /** Upper-case hex without leading zero bytes, as X509Certificate.serialNumber prints serials. */
  revokedSerials: string[];
}

interface Tlv {
  tag: number;
  /** Offset of the first content byte. */
  start: number;
  /** Offset just past the content. */
  end: number;
  /** Offset of the tag byte. */
  offset: number;
}

function readTlv(buf: Buffer, offset: number, limit: number): Tlv {
  if (offset + 2 > limit) throw new CrlParseError('truncated DER');
  const tag = buf[offset]!;
  let length = buf[offset + 1]!;
  let start = offset + 2;
  if (length & 0x80) {
    const bytes = length & 0x7f;
    if (bytes === 0 || bytes > 4 || start + bytes > limit) throw new CrlParseError('unsupported DER length');
    length = 0;
    for (let i = 0; i < bytes; i++) length = length * 256 + buf[start + i]!;
    start += bytes;
  }
  const end = start + length;
  if (end > limit) throw new CrlParseError('DER length runs past its container');
  return { tag, start, end, offset };
}

const SEQUENCE = 0x30;
const INTEGER = 0x02;
const UTC_TIME = 0x17;
const GENERALIZED_TIME = 0x18;

function children(buf: Buffer, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.start; at < parent.end; ) {
    const tlv = readTlv(buf, at, parent.end);
    out.push(tlv);
    at = tlv.end;
  }
  return out;
}

function expect(tlv: Tlv | undefined, tag: number, what: string): Tlv {
  if (!tlv || tlv.tag !== tag) throw new CrlParseError(`expected ${what}`);
  return tlv;
}

function readTime(buf: Buffer, tlv: Tlv): Date {
  const text = buf.toString('latin1', tlv.start, tlv.end);
  const m =
    tlv.tag === UTC_TIME
      ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text)
      : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!m) throw new CrlParseError(`unsupported time ${JSON.stringify(text)}`);
  let year = Number(m[1]);
  if (tlv.tag === UTC_TIME) year += year < 50 ? 2000 : 1900;
  return new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
}

function serialHex(buf: Buffer, tlv: Tlv): string {
  let start = tlv.start;
  while (start < tlv.end - 1 && buf[start] === 0) start++;
  return buf.toString('hex', start, tlv.end).toUpperCase();
}

function derOf(pem: string, label: string): Buffer {
  const m = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`).exec(pem);
  if (!m) throw new CrlParseError(`no ${label} block`);
  return Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64');
}

/** Reads the first `X509 CRL` block of `pem`. */
export function parseCrl(pem: string): CrlInfo {
  const der = derOf(pem, 'X509 CRL');
  const outer = expect(readTlv(der, 0, der.length), SEQUENCE, 'CertificateList');
  const tbs = expect(children(der, outer)[0], SEQUENCE, 'TBSCertList');
  const fields = children(der, tbs);
  let i = 0;
  if (fields[i]?.tag === INTEGER) i++; // version
  expect(fields[i++], SEQUENCE, 'signature algorithm');
  const issuer = expect(fields[i++], SEQUENCE, 'issuer Name');
  const thisTlv = fields[i++];
  if (!thisTlv || (thisTlv.tag !== UTC_TIME && thisTlv.tag !== GENERALIZED_TIME))
    throw new CrlParseError('expected thisUpdate');
  const thisUpdate = readTime(der, thisTlv);
  let nextUpdate: Date | null = null;
  const maybeNext = fields[i];
  if (maybeNext && (maybeNext.tag === UTC_TIME || maybeNext.tag === GENERALIZED_TIME)) {
    nextUpdate = readTime(der, maybeNext);
    i++;
  }
  const revokedSerials: string[] = [];
  const revoked = fields[i];
  if (revoked?.tag === SEQUENCE) {
    for (const entry of children(der, revoked)) {
      const serial = expect(children(der, entry)[0], INTEGER, 'revoked serial');
      revokedSerials.push(serialHex(der, serial));
    }
  }
  return { issuerDer: Buffer.from(der.subarray(issuer.offset, issuer.end)), thisUpdate, nextUpdate, revokedSerials };
}

/** Every `X509 CRL` block of `pem`, parsed. */
export function parseCrls(pem: string): CrlInfo[] {
  const blocks = pem.match(/-----BEGIN X509 CRL-----[\s\S]*?-----END X509 CRL-----/g) ?? [];
  return blocks.map(parseCrl);
}

/** DER of a certificate's subject Name (tbsCertificate: [0] version, serial, signature, issuer, validity, subject). */
export function certificateSubjectDer(cert: X509Certificate): Buffer {
  return certificateNameDer(cert, 4, 'subject Name');
}

/** DER of a certificate's issuer Name, comparable with a CRL's `issuerDer`. */
export function certificateIssuerDer(cert: X509Certificate): Buffer {
  return certificateNameDer(cert, 2, 'issuer Name');
}

function certificateNameDer(cert: X509Certificate, index: number, what: string): Buffer {
  const der = cert.raw;
  const outer = expect(readTlv(der, 0, der.length), SEQUENCE, 'Certificate');
  const tbs = expect(children(der, outer)[0], SEQUENCE, 'TBSCertificate');
  const fields = children(der, tbs);
  const first = fields[0]?.tag === 0xa0 ? 1 : 0;
  const name = expect(fields[first + index], SEQUENCE, what);
  return Buffer.from(der.subarray(name.offset, name.end));
}
