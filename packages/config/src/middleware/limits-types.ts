import type { SourcePos } from '../types.ts';

// Normalised rules of the rate-limit and request/response shaping middlewares. Plain data: they
// travel to the workers inside the snapshot.
import type { MaterialRef } from '../types.ts';

export type RateLimitUnit = 'second' | 'minute' | 'hour';
export type RateLimitKeySource = 'ip' | 'header' | 'cookie';

export interface RateLimitRule {
  unit: RateLimitUnit;
  requestsPerUnit: number;
  burst: number;
  /** 0: no bans. */
  banAfter: number;
  banDurationMs: number;
  keySource: RateLimitKeySource;
  /** Header (lower-cased) or cookie name; null for `ip`. */
  keyName: string | null;
  /** What a request meets while Redis is unreachable: the per-instance limit, or a refusal. */
  onStoreError: 'local' | 'deny';
}

export interface BodyLimitRule {
  limitBytes: number;
}

export interface CookieSpec {
  name: string;
  value: string;
  path: string | null;
  domain: string | null;
  /** Seconds; null: a session cookie. Negative: delete. */
  maxAge: number | null;
  secure: boolean;
  httpOnly: boolean;
  sameSite: 'Strict' | 'Lax' | 'None' | null;
}

export interface CorsRule {
  /** Exact origins (`https://a.example`), `*`, or `*.example.com`; lower-cased. Empty: `*`. */
  origins: string[];
  /** Upper-cased; empty (a deprecated block without `allowMethods`): any, the preflight's is echoed. */
  allowMethods: string[];
  allowedHeaders: string[];
  exposeHeaders: string[];
  /** Seconds; null: not sent. */
  maxAge: number | null;
  allowCredentials: boolean;
  /** Extra response headers of the deprecated `cors.headers`, lower-cased names. */
  headers: Array<[string, string]>;
}

export interface RequestHeadersRule {
  /** Lower-cased names, applied first. */
  remove: string[];
  /** Lower-cased name → value; `""` deletes. */
  set: Array<[string, string]>;
}

export interface ResponseHeadersRule {
  /** Lower-cased name → value (templates `{route.name}`, `{route.path}`, `{gateway.version}`); `""` deletes. */
  set: Array<[string, string]>;
  setCookies: CookieSpec[];
  cacheControl: string | null;
  cors: CorsRule | null;
  /** Status ranges the headers apply to; empty: every response. */
  statuses: Array<[number, number]>;
}

export interface RedirectRule {
  url: string;
  permanent: boolean;
}

export interface RedirectSchemeRule {
  scheme: 'http' | 'https';
  /** null: the scheme's default port. */
  port: number | null;
  permanent: boolean;
}

export interface RegexRule {
  pattern: string;
  replacement: string;
}

export interface RedirectRegexRule extends RegexRule {
  permanent: boolean;
}

export interface AddPrefixRule {
  prefix: string;
}

export interface StripQueryRule {
  params: string[];
  /** Upper-cased; empty: every method. */
  methods: string[];
  pathPattern: string | null;
}

export interface InterceptedError {
  statusCode: number;
  /**
   * The replacement body; null: Gatehouse's own error body. For a `file` the primary reads the file
   * into `body` before the snapshot leaves it (the workers read no files).
   */
  body: string | null;
  /** Absolute path when the body comes from `file`. */
  file: string | null;
  /** Where the entry is written: a file that cannot be read is reported there. */
  at: SourcePos;
}

export interface ErrorInterceptorRule {
  contentType: string;
  errors: InterceptedError[];
  /** Backend error bodies larger than this pass through untouched. */
  maxBodyBytes: number;
}

export interface AccessLogRule {
  /** Lower-cased request header names. */
  headers: string[];
  query: string[];
  cookies: string[];
  /** Longest value logged, in characters. */
  maxValueLength: number;
}

/** `gateway.redis`: the store shared by instances for rate limits. */
export interface RedisConfig {
  host: string;
  port: number;
  password: string | null;
  db: number;
  timeoutMs: number;
  /** A rate-limit check waits at most this long (`timeout`). */
  checkTimeoutMs: number;
  /** Read and checked by pki in the primary; workers get the PEM in the snapshot (`redisTls`). */
  tls: { clientCa: MaterialRef | null; clientCert: MaterialRef | null; clientKey: MaterialRef | null } | null;
}
