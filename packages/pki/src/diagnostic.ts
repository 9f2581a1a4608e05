// Material problems are config diagnostics: values that point back at the key in the YAML that
// named the file, so `gatehouse validate` and a rejected reload print them like any config error.

import type { ConfigDiagnostic, Severity, SourcePos } from '@gatehouse/config';

/** Stable codes of every material diagnostic pki reports. */
export const MaterialCode = {
  missing: 'GH_MATERIAL_MISSING',
  unreadable: 'GH_MATERIAL_UNREADABLE',
  notPem: 'GH_MATERIAL_NOT_PEM',
  /** A file with nothing in it: usually one caught between truncate and write. */
  empty: 'GH_MATERIAL_EMPTY',
  truncated: 'GH_MATERIAL_TRUNCATED',
  wrongKind: 'GH_MATERIAL_WRONG_KIND',
  multipleKeys: 'GH_MATERIAL_MULTIPLE_KEYS',
  unparsable: 'GH_MATERIAL_UNPARSABLE',
  keyMismatch: 'GH_CERT_KEY_MISMATCH',
  keyPassphrase: 'GH_CERT_KEY_PASSPHRASE',
  expired: 'GH_CERT_EXPIRED',
  notYetValid: 'GH_CERT_NOT_YET_VALID',
  expiresSoon: 'GH_CERT_EXPIRES_SOON',
  chainIncomplete: 'GH_CERT_CHAIN_INCOMPLETE',
  chainOrder: 'GH_CERT_CHAIN_ORDER',
  notCA: 'GH_CERT_NOT_CA',
  sanMismatch: 'GH_CERT_SAN_MISMATCH',
  wrongPurpose: 'GH_CERT_WRONG_PURPOSE',
  defaultNameUnknown: 'GH_CERT_DEFAULT_NAME_UNKNOWN',
  insecureSkipVerify: 'GH_UPSTREAM_TLS_INSECURE',
  internal: 'GH_MATERIAL_INTERNAL',
  crlMissingForCA: 'GH_CRL_MISSING_FOR_CA',
  crlExpired: 'GH_CRL_EXPIRED',
  crlNotYetValid: 'GH_CRL_NOT_YET_VALID',
  keyFileMode: 'GH_KEY_FILE_MODE',
} as const;
export type MaterialCodeValue = (typeof MaterialCode)[keyof typeof MaterialCode];

export function diagnostic(
  severity: Severity,
  at: SourcePos,
  code: MaterialCodeValue,
  message: string,
  hint: string | null,
): ConfigDiagnostic {
  return { severity, file: at.file, line: at.line, col: at.col, path: at.path, message, hint, code };
}
