// Runtime errors of the pki package. Material problems found while loading a config are *values*
// (ConfigDiagnostic), not throws; these classes are for programming-level failures and the dev PKI.

export class PkiError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PkiError';
    this.code = code;
  }
}

/** An `openssl` invocation of the dev PKI generator failed; `stderr` carries openssl's own words. */
export class DevPkiError extends PkiError {
  readonly stderr: string;
  constructor(message: string, stderr: string, options?: { cause?: unknown }) {
    super('GH_DEVPKI_OPENSSL', stderr ? `${message}: ${stderr.trim()}` : message, options);
    this.name = 'DevPkiError';
    this.stderr = stderr;
  }
}

/** A PEM text that `inspectCertificate` cannot parse as an X.509 certificate. */
export class CertificateParseError extends PkiError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('GH_CERT_PARSE', message, options);
    this.name = 'CertificateParseError';
  }
}

/** DER inside a CRL or certificate that the minimal reader in crl.ts cannot walk. */
export class CrlParseError extends PkiError {
  constructor(message: string) {
    super('GH_CRL_PARSE', message);
    this.name = 'CrlParseError';
  }
}

/** A path named for reading that is no file to read: a FIFO or device (would block), or far too large. */
export class NotAFileError extends PkiError {
  constructor(code: 'GH_NOT_REGULAR' | 'GH_TOO_LARGE', message: string) {
    super(code, message);
    this.name = 'NotAFileError';
  }
}
