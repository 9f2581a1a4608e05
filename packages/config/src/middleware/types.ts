// The normalised middleware definitions. A route names middlewares; the definitions live once at
// the top level (`middlewares[]`), each with a canonical `type` and a typed, validated `rule`.
// Everything here is plain data: it travels to the workers inside the snapshot.
import type { SourcePos } from '../types.ts';
import type * as Limits from './limits-types.ts';

interface MiddlewareBase<T extends string, R> {
  name: string;
  /** Canonical type (`basic` is `basicAuth`, `jwt` is `jwtAuth`). */
  type: T;
  /**
   * As written and validated: `/x` or `/x/*` (the path and everything below it), or an anchored
   * regular expression `^...`. Empty: the whole route.
   */
  paths: string[];
  rule: R;
  at: SourcePos;
}

export interface AccessRule {
  statusCode: number;
}

/** How a configured password is checked. */
export type PasswordScheme = 'bcrypt' | 'sha1' | 'apr1' | 'plain';
export interface BasicAuthUser {
  username: string;
  scheme: PasswordScheme;
  /** The hash as written (or the plaintext password for `plain`). */
  hash: string;
}
export interface BasicAuthRule {
  realm: string;
  forwardUsername: boolean;
  users: BasicAuthUser[];
}

/**
 * Key material given as text in the config: inline PEM / JSON, base64 of PEM, or a file path. The
 * primary reads `file` refs into `text` before the snapshot leaves it (the workers read no files).
 */
export interface KeyTextRef {
  form: 'inline' | 'base64' | 'file';
  /** Absolute path for `file`. */
  path: string | null;
  /** The PEM or JSON text; filled in by the primary for `file`. */
  text: string | null;
  at: SourcePos;
}

export type JwtKeySource =
  | { kind: 'secret'; secret: string }
  | { kind: 'publicKey'; key: KeyTextRef }
  | { kind: 'jwksUrl'; url: string }
  | { kind: 'jwksFile'; jwks: KeyTextRef };

export interface JwtAuthRule {
  source: JwtKeySource;
  /** Explicit list; null: the safe set for the key type (decided when the key is known). */
  algorithms: string[] | null;
  issuer: string | null;
  audience: string | null;
  /** Validated at load; the workers parse it again from this text. */
  claimsExpression: string | null;
  /** Request header name (lower-cased) → claim path (`user.role`). */
  forwardHeaders: Array<[string, string]>;
  forwardAuthorization: boolean;
  /** Clock leeway for `exp` and `nbf`, milliseconds. */
  clockToleranceMs: number;
  /** `jwksUrl`: background refresh period, and the least time between two fetches. */
  jwksRefreshMs: number;
  jwksMinRefreshMs: number;
}

export interface ForwardAuthRule {
  authUrl: string;
  authSignIn: string | null;
  /** Lower-cased request header names copied to the auth request. */
  authRequestHeaders: string[];
  /** [auth response header, request header], both lower-cased. */
  authResponseHeaders: Array<[string, string]>;
  /** [auth response header (lower-cased), query parameter]. */
  authResponseHeadersAsParams: Array<[string, string]>;
  /** Cookie names copied from the auth response to the client response; empty: all. */
  addAuthCookiesToResponse: string[];
  forwardHostHeaders: boolean;
  insecureSkipVerify: boolean;
  timeoutMs: number;
}

export interface AccessPolicyRule {
  action: 'ALLOW' | 'DENY';
  /** As written and validated: an address, a CIDR or `first-last`. */
  sourceRanges: string[];
}

export interface UserAgentBlockRule {
  /** Lower-cased substrings. */
  userAgents: string[];
}

/** Every type's rule, by canonical type name: the one list the definitions are made from. */
export interface MiddlewareRules {
  access: AccessRule;
  basicAuth: BasicAuthRule;
  jwtAuth: JwtAuthRule;
  forwardAuth: ForwardAuthRule;
  accessPolicy: AccessPolicyRule;
  userAgentBlock: UserAgentBlockRule;
  rateLimit: Limits.RateLimitRule;
  bodyLimit: Limits.BodyLimitRule;
  requestHeaders: Limits.RequestHeadersRule;
  responseHeaders: Limits.ResponseHeadersRule;
  redirect: Limits.RedirectRule;
  redirectScheme: Limits.RedirectSchemeRule;
  redirectRegex: Limits.RedirectRegexRule;
  rewriteRegex: Limits.RegexRule;
  addPrefix: Limits.AddPrefixRule;
  stripQuery: Limits.StripQueryRule;
  errorInterceptor: Limits.ErrorInterceptorRule;
  accessLog: Limits.AccessLogRule;
}

/** The definition of one type: `MiddlewareConfigOf<'jwtAuth'>`. */
export type MiddlewareConfigOf<T extends keyof MiddlewareRules> = MiddlewareBase<T, MiddlewareRules[T]>;

/** Any definition, told apart by `type`. */
export type MiddlewareConfig = { [T in keyof MiddlewareRules]: MiddlewareConfigOf<T> }[keyof MiddlewareRules];
export type { MiddlewareBase };

/** A route's `maintenance`: answer every request with this instead of running anything else. */
export interface MaintenanceConfig {
  statusCode: number;
  message: string;
}
