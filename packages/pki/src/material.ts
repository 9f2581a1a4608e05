// Turns a MaterialRef (path, PEM or base64 from the config) into PEM text of the kind the config
// key expects, or into one diagnostic that names the file, the key and what to do. The only I/O is
// reading the file; every check on the text is pure (checkMaterialText) and unit tested.

import type { ConfigDiagnostic, MaterialKind, MaterialRef } from '@gatehouse/config';
import { diagnostic, MaterialCode } from './diagnostic.ts';
import { NotAFileError } from './errors.ts';
import { countPemBegins, splitPemBlocks } from './inspect.ts';
import { type FileReader, type ReadFailure, readFailure, readRegularFile } from './regular-file.ts';

export type MaterialResolution =
  | { ok: true; pem: string; origin: string; warning?: ConfigDiagnostic }
  | { ok: false; diagnostic: ConfigDiagnostic };

const KEY_LABELS = new Set(['PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY', 'ENCRYPTED PRIVATE KEY']);

const KIND_WORDS: Record<MaterialKind, string> = {
  certificate: 'a certificate (-----BEGIN CERTIFICATE-----)',
  'private-key': 'a private key (-----BEGIN PRIVATE KEY----- or RSA/EC/ENCRYPTED PRIVATE KEY)',
  'ca-bundle': 'one or more CA certificates (-----BEGIN CERTIFICATE-----)',
  crl: 'a certificate revocation list (-----BEGIN X509 CRL-----)',
};

function accepts(kind: MaterialKind, label: string): boolean {
  switch (kind) {
    case 'certificate':
    case 'ca-bundle':
      return label === 'CERTIFICATE' || label === 'TRUSTED CERTIFICATE';
    case 'private-key':
      return KEY_LABELS.has(label);
    case 'crl':
      return label === 'X509 CRL';
  }
}

/** Where a ref's text came from, for messages and logs: the file path, or `<inline pem at KEY>`. */
export function materialOrigin(ref: MaterialRef): string {
  return ref.form === 'file' && ref.path ? ref.path : `<inline ${ref.form} at ${ref.at.path}>`;
}

/**
 * Checks that `text` holds PEM of `ref.kind` and returns only the blocks of that kind, in order,
 * so a combined file (key and certificate together) works for both keys that name it.
 */
export function checkMaterialText(ref: MaterialRef, text: string): MaterialResolution {
  const origin = materialOrigin(ref);
  const what = KIND_WORDS[ref.kind];
  if (text.trim().length === 0) {
    const code = ref.form === 'file' ? MaterialCode.empty : MaterialCode.notPem;
    return fail(ref, code, `${origin} is empty; expected ${what}`, emptyHint(ref));
  }
  const blocks = splitPemBlocks(text);
  if (countPemBegins(text) > blocks.length) {
    return fail(
      ref,
      MaterialCode.truncated,
      `${origin} has a PEM block without its END line; expected ${what}`,
      'the file looks truncated or still being written; write it to a temporary name and rename it into place',
    );
  }
  if (blocks.length === 0) {
    return fail(
      ref,
      MaterialCode.notPem,
      `${origin} holds no PEM data; expected ${what}`,
      ref.form === 'base64'
        ? 'the base64 value must decode to PEM text (base64 of the whole PEM file, BEGIN and END lines included)'
        : `if it is DER (binary), convert it: openssl ${derCommand(ref.kind)} -inform der -in FILE -out FILE.pem`,
    );
  }
  const wanted = blocks.filter((b) => accepts(ref.kind, b.label));
  if (wanted.length === 0) {
    const found = [...new Set(blocks.map((b) => b.label))].join(', ');
    return fail(
      ref,
      MaterialCode.wrongKind,
      `${origin} holds ${found} but ${ref.at.path} expects ${what}`,
      wrongKindHint(
        ref.kind,
        blocks.map((b) => b.label),
      ),
    );
  }
  if (ref.kind === 'private-key' && wanted.length > 1) {
    return fail(
      ref,
      MaterialCode.multipleKeys,
      `${origin} holds ${wanted.length} private keys; ${ref.at.path} needs exactly one`,
      'keep one key per file, the one that matches the certificate',
    );
  }
  return { ok: true, pem: wanted.map((b) => b.pem).join(''), origin };
}

/** Reads (for `file`) and checks a material reference. Never throws. */
export async function resolveMaterial(
  ref: MaterialRef,
  read: FileReader = readRegularFile,
): Promise<MaterialResolution> {
  if (ref.form !== 'file') {
    return checkMaterialText(ref, ref.pem ?? '');
  }
  const path = ref.path ?? '';
  let text: string;
  let mode: number;
  try {
    const file = await read(path);
    if (file.bytes.length > MATERIAL_MAX_BYTES) {
      throw new NotAFileError(
        'GH_TOO_LARGE',
        `is ${file.bytes.length} bytes, more than certificate material can be (${MATERIAL_MAX_BYTES})`,
      );
    }
    text = file.bytes.toString('utf8');
    mode = file.mode;
  } catch (error) {
    const failure = readFailure(error);
    const message = `cannot read ${path} (${ref.at.path}): ${failure.why}`;
    const code = failure.kind === 'missing' ? MaterialCode.missing : MaterialCode.unreadable;
    return fail(ref, code, message, READ_FAILURE_HINTS[failure.kind](path));
  }
  const checked = checkMaterialText(ref, text);
  if (!checked.ok || ref.kind !== 'private-key') return checked;
  const warning = keyFileModeWarning(ref, path, mode);
  return warning === null ? checked : { ...checked, warning };
}

/** Group- or world-writable, or world-readable: the bits OpenSSH complains about for a private key. */
const UNPROTECTED_KEY_BITS = 0o022 | 0o004;

/**
 * Pure: a warning when a private key file's mode lets others read or replace it, as OpenSSH's
 * "UNPROTECTED PRIVATE KEY FILE" does (a warning, not an error: the key still works, and a key
 * readable by a group the gateway runs in is a deliberate setup).
 */
export function keyFileModeWarning(ref: MaterialRef, path: string, mode: number): ConfigDiagnostic | null {
  const bits = mode & 0o777;
  if ((bits & UNPROTECTED_KEY_BITS) === 0) return null;
  const octal = bits.toString(8).padStart(4, '0');
  const what: string[] = [];
  if (bits & 0o020) what.push('group-writable');
  if (bits & 0o002) what.push('world-writable');
  if (bits & 0o004) what.push('world-readable');
  return diagnostic(
    'warning',
    ref.at,
    MaterialCode.keyFileMode,
    `private key ${path} has mode ${octal} (${what.join(', ')}); anyone with that access can read or replace it`,
    `chmod ${(bits & 0o740).toString(8).padStart(4, '0')} ${path} (0600, or 0640 with the gateway's group)`,
  );
}

/** Certificate material is a few KiB; anything past this is not what the config meant. */
export const MATERIAL_MAX_BYTES = 1024 * 1024;

/** What to do about a material file that cannot be read, by why. */
const READ_FAILURE_HINTS: Record<ReadFailure['kind'], (path: string) => string | null> = {
  missing: () => 'check the path; a relative path is resolved against the config file’s directory',
  denied: (path) => `give the gateway's user read access, e.g. chgrp gatehouse ${path} && chmod g+r ${path}`,
  notAFile: () => 'name the PEM file itself',
  other: () => null,
};

function fail(
  ref: MaterialRef,
  code: (typeof MaterialCode)[keyof typeof MaterialCode],
  message: string,
  hint: string | null,
): MaterialResolution {
  return { ok: false, diagnostic: diagnostic('error', ref.at, code, message, hint) };
}

function emptyHint(ref: MaterialRef): string {
  return ref.form === 'file'
    ? 'the file may still be being written; the next change event will retry'
    : 'give the PEM text, or a path to the file';
}

function derCommand(kind: MaterialKind): string {
  switch (kind) {
    case 'private-key':
      return 'pkey';
    case 'crl':
      return 'crl';
    default:
      return 'x509';
  }
}

function wrongKindHint(kind: MaterialKind, labels: string[]): string {
  const hasKey = labels.some((l) => KEY_LABELS.has(l));
  const hasCert = labels.includes('CERTIFICATE');
  if ((kind === 'certificate' || kind === 'ca-bundle') && hasKey) return 'this looks like the key: swap cert and key?';
  if (kind === 'private-key' && hasCert) return 'this looks like the certificate: swap cert and key?';
  if (labels.includes('CERTIFICATE REQUEST')) return 'this is a signing request (CSR), not a certificate';
  if (kind === 'crl' && hasCert) return 'this is a certificate; give the CA’s CRL (openssl ca -gencrl) instead';
  return `give ${KIND_WORDS[kind]}`;
}
