// Normalised rules of the request-shaping middlewares (rate limits, body limits, headers, CORS,
// redirects, error interception, access log); their shapes are in limits-types.ts.
import type {
  AccessLogRule,
  AddPrefixRule,
  BodyLimitRule,
  ErrorInterceptorRule,
  RateLimitRule,
  RedirectRegexRule,
  RedirectRule,
  RedirectSchemeRule,
  RegexRule,
  RequestHeadersRule,
  ResponseHeadersRule,
  StripQueryRule,
} from './limits-types.ts';
import type { MiddlewareBase } from './types.ts';

export type RateLimitMiddlewareConfig = MiddlewareBase<'rateLimit', RateLimitRule>;
export type BodyLimitMiddlewareConfig = MiddlewareBase<'bodyLimit', BodyLimitRule>;
export type RequestHeadersMiddlewareConfig = MiddlewareBase<'requestHeaders', RequestHeadersRule>;
export type ResponseHeadersMiddlewareConfig = MiddlewareBase<'responseHeaders', ResponseHeadersRule>;
export type RedirectMiddlewareConfig = MiddlewareBase<'redirect', RedirectRule>;
export type RedirectSchemeMiddlewareConfig = MiddlewareBase<'redirectScheme', RedirectSchemeRule>;
export type RedirectRegexMiddlewareConfig = MiddlewareBase<'redirectRegex', RedirectRegexRule>;
export type RewriteRegexMiddlewareConfig = MiddlewareBase<'rewriteRegex', RegexRule>;
export type AddPrefixMiddlewareConfig = MiddlewareBase<'addPrefix', AddPrefixRule>;
export type StripQueryMiddlewareConfig = MiddlewareBase<'stripQuery', StripQueryRule>;
export type ErrorInterceptorMiddlewareConfig = MiddlewareBase<'errorInterceptor', ErrorInterceptorRule>;
export type AccessLogMiddlewareConfig = MiddlewareBase<'accessLog', AccessLogRule>;

export type ShapingMiddlewareConfig =
  | RateLimitMiddlewareConfig
  | BodyLimitMiddlewareConfig
  | RequestHeadersMiddlewareConfig
  | ResponseHeadersMiddlewareConfig
  | RedirectMiddlewareConfig
  | RedirectSchemeMiddlewareConfig
  | RedirectRegexMiddlewareConfig
  | RewriteRegexMiddlewareConfig
  | AddPrefixMiddlewareConfig
  | StripQueryMiddlewareConfig
  | ErrorInterceptorMiddlewareConfig
  | AccessLogMiddlewareConfig;
