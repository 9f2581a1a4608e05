export type * from './types.ts';
export type * from './middleware/limits-types.ts';
export type { PassThroughConfig, PassThroughForward, PassThroughProtocol } from './pass-through.ts';
export { parseListenAddress } from './address.ts';
export { isLoopbackAddress } from './admin.ts';
export { parseCidr } from './cidr.ts';
export { type EffectiveClientAuth, effectiveClientAuth, formatClientAuthModes } from './client-auth-modes.ts';
export { ConfigCode, DiagnosticList } from './diagnostics.ts';
export { formatDuration, parseDuration } from './duration.ts';
export { expandEnv } from './env.ts';
export { formatDiagnostic, formatSummary } from './format.ts';
export { jsonSchema } from './json-schema.ts';
export { markdownReference } from './reference.ts';
export { materialRef } from './material-ref.ts';
export { parseConfig } from './parse.ts';
export type { ExtraConfigFile } from './extra-files.ts';
export { type ConfigFileReader, type LoadedConfig, loadConfigFiles } from './load-files.ts';
export { parseSanPattern, type SanPattern, type SanType } from './san-pattern.ts';
export { configSpec, DEFAULT_CIPHERS, DEFAULT_ECDH_CURVE } from './schema.ts';
export { formatSize, parseSize } from './size.ts';
export {
  ClaimsExpressionError,
  claimValue,
  evaluateClaims,
  parseClaimsExpression,
} from './middleware/claims-expression.ts';
export type { ClaimsExpression } from './middleware/claims-expression.ts';
export { ASYMMETRIC_ALGORITHMS, checkSourceRange, HMAC_ALGORITHMS } from './middleware/auth-rules.ts';
export { parseMiddlewarePath, type PathPattern } from './middleware/paths.ts';
export { MiddlewareCode, middlewareTypes } from './middleware/registry.ts';
