// The request-shaping steps: bodyLimit, requestHeaders, responseHeaders (and the deprecated `cors`
// blocks), redirects and rewrites, errorInterceptor and accessLog. Everything a rule needs is built
// in the constructor (per definition and generation) or once per route (templates); a request only
// runs what its rule asks for.
import type {
  AccessLogRule,
  AddPrefixRule,
  BodyLimitRule,
  ErrorInterceptorRule,
  RedirectRegexRule,
  RedirectRule,
  RedirectSchemeRule,
  RegexRule,
  RequestHeadersRule,
  ResponseHeadersRule,
  StripQueryRule,
} from '@gatehouse/config';
import {
  answer,
  type MiddlewareAnswer,
  type MiddlewareRequest,
  type MiddlewareStep,
  type StepResult,
} from '../step.ts';
import type { ErrorReplacement, ErrorReplacer, ResponseShaper, ShapedRequest } from '../response-phase.ts';
import { accessLogFields } from './access-log-fields.ts';
import { type CompiledCors, compileCors, isPreflight, preflightHeaders } from './cors.ts';
import { type CompiledErrorInterceptor, compileErrorInterceptor, shouldIntercept } from './error-interceptor.ts';
import {
  applyRequestHeaders,
  applyResponseHeaders,
  type CompiledRequestHeaders,
  type CompiledResponseHeaders,
  compileRequestHeaders,
  compileResponseHeaders,
} from './header-rules.ts';
import {
  addPrefix,
  type CompiledRegexRule,
  type CompiledStripQuery,
  compileRegexRule,
  compileStripQuery,
  hostWithoutPort,
  redirectRegex,
  redirectScheme,
  redirectTo,
  rewriteTarget,
  stripQuery,
} from './rewrites.ts';

function redirectAnswer(status: number, location: string): MiddlewareAnswer {
  return {
    status,
    code: 'GH_REDIRECT',
    message: `moved to ${location}`,
    metricLabel: null,
    reason: 'redirect',
    headers: { location },
  };
}

export class BodyLimitStep implements MiddlewareStep {
  readonly name: string;
  readonly type = 'bodyLimit';
  private readonly limit: number;
  constructor(name: string, rule: BodyLimitRule) {
    this.name = name;
    this.limit = rule.limitBytes;
  }
  onRequest(r: MiddlewareRequest): StepResult {
    // The smaller limit wins; the body is counted as it streams (request/body-limit.ts), 413 over it.
    if (r.bodyLimit === 0 || this.limit < r.bodyLimit) r.bodyLimit = this.limit;
    return null;
  }
}

export class RequestHeadersStep implements MiddlewareStep {
  readonly name: string;
  readonly type = 'requestHeaders';
  private readonly rule: CompiledRequestHeaders;
  constructor(name: string, rule: RequestHeadersRule) {
    this.name = name;
    this.rule = compileRequestHeaders(rule);
  }
  onRequest(r: MiddlewareRequest): StepResult {
    applyRequestHeaders(this.rule, r.req.headers);
    // Again once the gateway has set X-Forwarded-*: the operator's rule has the last word.
    r.reapplyRequestHeaders(this.rule);
    return null;
  }
}

export class ResponseHeadersStep implements MiddlewareStep, ResponseShaper {
  readonly name: string;
  readonly type: string;
  private readonly rule: ResponseHeadersRule;
  private readonly gatewayVersion: string;
  private readonly cors: CompiledCors | null;
  private readonly byRoute = new Map<string, CompiledResponseHeaders>();
  private readonly originRefused: MiddlewareAnswer;

  constructor(name: string, rule: ResponseHeadersRule, gatewayVersion: string, type = 'responseHeaders') {
    this.name = name;
    this.type = type;
    this.rule = rule;
    this.gatewayVersion = gatewayVersion;
    this.cors = rule.cors === null ? null : compileCors(rule.cors);
    this.originRefused = answer(403, 'GH_CORS_ORIGIN', 'this origin is not allowed', 'cors_origin');
  }

  onRequest(r: MiddlewareRequest): StepResult {
    const headers = r.req.headers;
    const origin = headers.origin;
    if (this.cors !== null && isPreflight(r.method, origin, headers['access-control-request-method'])) {
      const allowed = preflightHeaders(this.cors, origin as string, headers['access-control-request-headers']);
      if (allowed === null) return this.originRefused;
      return {
        status: 204,
        code: 'GH_CORS_PREFLIGHT',
        message: '',
        metricLabel: null,
        reason: 'cors_preflight',
        headers: allowed,
      };
    }
    r.shapeResponseWith(this);
    return null;
  }

  shapeResponse(r: ShapedRequest, status: number, head: string[]): void {
    const route = r.routeName ?? '';
    let compiled = this.byRoute.get(route);
    if (compiled === undefined) {
      compiled = compileResponseHeaders(this.rule, {
        routeName: route,
        routePath: r.routePath,
        gatewayVersion: this.gatewayVersion,
      });
      this.byRoute.set(route, compiled);
    }
    applyResponseHeaders(compiled, status, r.req.headers.origin, head);
  }
}

export class RedirectStep implements MiddlewareStep {
  readonly name: string;
  readonly type = 'redirect';
  private readonly answer: MiddlewareAnswer;
  constructor(name: string, rule: RedirectRule) {
    this.name = name;
    const to = redirectTo(rule);
    this.answer = Object.freeze(redirectAnswer(to.status, to.location));
  }
  onRequest(): StepResult {
    return this.answer;
  }
}

export class RedirectSchemeStep implements MiddlewareStep {
  readonly name: string;
  readonly type = 'redirectScheme';
  private readonly rule: RedirectSchemeRule;
  constructor(name: string, rule: RedirectSchemeRule) {
    this.name = name;
    this.rule = rule;
  }
  onRequest(r: MiddlewareRequest): StepResult {
    const host = hostWithoutPort(r.host);
    const to = redirectScheme(this.rule, r.scheme(), host, r.target);
    return to === null ? null : redirectAnswer(to.status, to.location);
  }
}

export class RedirectRegexStep implements MiddlewareStep {
  readonly name: string;
  readonly type = 'redirectRegex';
  private readonly rule: CompiledRegexRule;
  private readonly permanent: boolean;
  constructor(name: string, rule: RedirectRegexRule) {
    this.name = name;
    this.rule = compileRegexRule(rule);
    this.permanent = rule.permanent;
  }
  onRequest(r: MiddlewareRequest): StepResult {
    const to = redirectRegex(this.rule, this.permanent, r.target);
    return to === null ? null : redirectAnswer(to.status, to.location);
  }
}

/** rewriteRegex, addPrefix and stripQuery: they replace the target the backend will get. */
export class RewriteRegexStep implements MiddlewareStep {
  readonly name: string;
  readonly type = 'rewriteRegex';
  private readonly rule: CompiledRegexRule;
  constructor(name: string, rule: RegexRule) {
    this.name = name;
    this.rule = compileRegexRule(rule);
  }
  onRequest(r: MiddlewareRequest): StepResult {
    const next = rewriteTarget(this.rule, r.target);
    if (next === null) return null;
    if (typeof next !== 'string') return { ...next, reason: 'rewrite_refused', headers: null };
    r.rewriteTarget(next);
    return null;
  }
}

export class AddPrefixStep implements MiddlewareStep {
  readonly name: string;
  readonly type = 'addPrefix';
  private readonly rule: AddPrefixRule;
  constructor(name: string, rule: AddPrefixRule) {
    this.name = name;
    this.rule = rule;
  }
  onRequest(r: MiddlewareRequest): StepResult {
    const next = addPrefix(this.rule, r.target);
    if (typeof next !== 'string') return { ...next, reason: 'rewrite_refused', headers: null };
    r.rewriteTarget(next);
    return null;
  }
}

export class StripQueryStep implements MiddlewareStep {
  readonly name: string;
  readonly type = 'stripQuery';
  private readonly rule: CompiledStripQuery;
  constructor(name: string, rule: StripQueryRule) {
    this.name = name;
    this.rule = compileStripQuery(rule);
  }
  onRequest(r: MiddlewareRequest): StepResult {
    const next = stripQuery(this.rule, r.method, r.target);
    if (next !== r.target) r.target = next;
    return null;
  }
}

export class ErrorInterceptorStep implements MiddlewareStep, ErrorReplacer {
  readonly name: string;
  readonly type = 'errorInterceptor';
  private readonly rule: CompiledErrorInterceptor;
  private readonly contentType: string;
  private readonly replacements = new Map<number, ErrorReplacement>();
  constructor(name: string, rule: ErrorInterceptorRule) {
    this.name = name;
    this.rule = compileErrorInterceptor(rule);
    this.contentType = rule.contentType;
    for (const [status, body] of this.rule.byStatus) {
      this.replacements.set(status, Object.freeze({ body, contentType: this.contentType || sniff(body) }));
    }
  }
  onRequest(r: MiddlewareRequest): StepResult {
    if (this.replacements.size > 0) r.replaceErrorsWith(this);
    return null;
  }
  replacement(status: number, contentLength: number | null, chunked: boolean): ErrorReplacement | null {
    if (!shouldIntercept(this.rule, status, contentLength, chunked)) return null;
    return this.replacements.get(status) ?? null;
  }
}

/** The Content-Type of a replacement body without a configured one. */
function sniff(body: string | null): string {
  const start = (body ?? '').trimStart();
  if (start.startsWith('{') || start.startsWith('[')) return 'application/json; charset=utf-8';
  if (start.startsWith('<')) return 'text/html; charset=utf-8';
  return 'text/plain; charset=utf-8';
}

export class AccessLogStep implements MiddlewareStep {
  readonly name: string;
  readonly type = 'accessLog';
  private readonly rule: AccessLogRule;
  constructor(name: string, rule: AccessLogRule) {
    this.name = name;
    this.rule = rule;
  }
  onRequest(r: MiddlewareRequest): StepResult {
    if (r.logFields === null) r.logFields = {};
    accessLogFields(this.rule, r.req.headers, r.target, r.logFields);
    return null;
  }
}
