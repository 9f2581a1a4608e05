// Config errors are values: every problem found in one pass is collected here and reported at once.
import type { ConfigDiagnostic, Severity, SourcePos } from './types.ts';

/** Stable codes: tests, logs and editors key on these, never on the message text. */
export const ConfigCode = {
  yaml: 'GH_CONFIG_YAML',
  empty: 'GH_CONFIG_EMPTY',
  unknownKey: 'GH_CONFIG_UNKNOWN_KEY',
  unsupportedKey: 'GH_CONFIG_UNSUPPORTED_KEY',
  deprecatedKey: 'GH_CONFIG_DEPRECATED_KEY',
  type: 'GH_CONFIG_TYPE',
  required: 'GH_CONFIG_REQUIRED',
  enum: 'GH_CONFIG_ENUM',
  range: 'GH_CONFIG_RANGE',
  version: 'GH_CONFIG_VERSION',
  env: 'GH_CONFIG_ENV',
  duration: 'GH_CONFIG_DURATION',
  size: 'GH_CONFIG_SIZE',
  address: 'GH_CONFIG_ADDRESS',
  cidr: 'GH_CONFIG_CIDR',
  endpoint: 'GH_CONFIG_ENDPOINT',
  path: 'GH_CONFIG_PATH',
  host: 'GH_CONFIG_HOST',
  method: 'GH_CONFIG_METHOD',
  status: 'GH_CONFIG_STATUS',
  weight: 'GH_CONFIG_WEIGHT',
  duplicateRoute: 'GH_CONFIG_DUPLICATE_ROUTE',
  duplicateKey: 'GH_CONFIG_DUPLICATE_KEY',
  duplicateBackend: 'GH_CONFIG_DUPLICATE_BACKEND',
  duplicateForward: 'GH_CONFIG_DUPLICATE_FORWARD',
  noBackend: 'GH_CONFIG_NO_BACKEND',
  targetAndBackends: 'GH_CONFIG_TARGET_AND_BACKENDS',
  clientCertMissing: 'GH_CONFIG_CLIENT_CERT_MISSING',
  clientKeyMissing: 'GH_CONFIG_CLIENT_KEY_MISSING',
  noCertificate: 'GH_CONFIG_NO_CERTIFICATE',
  healthTimeout: 'GH_CONFIG_HEALTH_TIMEOUT',
  clientAuth: 'GH_CONFIG_CLIENT_AUTH',
  extraConfig: 'GH_CONFIG_EXTRA_CONFIG',
  admin: 'GH_CONFIG_ADMIN',
  emptyMaterial: 'GH_CONFIG_EMPTY_MATERIAL',
  corsReplaced: 'GH_CONFIG_CORS_REPLACED',
} as const;
export type ConfigCodeValue = (typeof ConfigCode)[keyof typeof ConfigCode];

/** A position with no line: used for defaults, which come from no line of the file. */
export function nowhere(file: string, path: string): SourcePos {
  return { file, line: 0, col: 0, path };
}

export class DiagnosticList {
  readonly errors: ConfigDiagnostic[] = [];
  readonly warnings: ConfigDiagnostic[] = [];

  /** `message` may start with `PATH: ` for readability at the call site; it is stored without it. */
  add(severity: Severity, code: string, at: SourcePos, message: string, hint: string | null = null): void {
    const prefix = `${at.path}: `;
    const bare = message.startsWith(prefix) ? message.slice(prefix.length) : message;
    const diagnostic: ConfigDiagnostic = {
      severity,
      file: at.file,
      line: at.line,
      col: at.col,
      path: at.path,
      message: bare,
      hint,
      code,
    };
    (severity === 'error' ? this.errors : this.warnings).push(diagnostic);
  }

  error(code: string, at: SourcePos, message: string, hint: string | null = null): void {
    this.add('error', code, at, message, hint);
  }

  warning(code: string, at: SourcePos, message: string, hint: string | null = null): void {
    this.add('warning', code, at, message, hint);
  }

  /** In file order, so that a reader fixes them top to bottom. */
  sorted(): { errors: ConfigDiagnostic[]; warnings: ConfigDiagnostic[] } {
    const byPosition = (a: ConfigDiagnostic, b: ConfigDiagnostic) => a.line - b.line || a.col - b.col;
    return { errors: [...this.errors].sort(byPosition), warnings: [...this.warnings].sort(byPosition) };
  }
}
