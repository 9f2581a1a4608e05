// The request-shaping middleware types, by type name: how each one's step is made from its rule
// (compile.ts merges them with the authentication types). A type whose request work is one function
// of its compiled rule is a RuleStep: the rule is compiled once per definition and generation, and a
// request runs only that function. responseHeaders, errorInterceptor and rateLimit have steps of
// their own: they also act on the answer, or keep state. What the steps share with the worker (its
// leases of the per-instance rate-limit buckets, the Redis store, the version for templates) comes
// in MiddlewareServices.
import type { CorsRule, MiddlewareConfigOf, MiddlewareRules } from '@gatehouse/config';
import type { StepFactory } from '../compile.ts';
import type { LeaseTable } from '../rate-limit/lease-table.ts';
import { RateLimitStep } from '../rate-limit/rate-limit-step.ts';
import type { RedisRateLimitStore } from '../rate-limit/redis-store.ts';
import type { MiddlewareAnswer, MiddlewareRequest, MiddlewareStep, StepResult } from '../step.ts';
import { accessLogFields } from './access-log-fields.ts';
import { ErrorInterceptorStep } from './error-interceptor.ts';
import { applyRequestHeaders, type CompiledRequestHeaders, compileRequestHeaders } from './header-rules.ts';
import { type ResponseHeadersStep, responseHeadersStep } from './response-headers-step.ts';
import * as rewrites from './rewrites.ts';

export interface MiddlewareServices {
  readonly leases: LeaseTable;
  /** The store of `gateway.redis`, or null. */
  readonly redis: RedisRateLimitStore | null;
  readonly gatewayVersion: string;
}

type RuleRun<C> = (rule: C, r: MiddlewareRequest) => StepResult;

/** A step whose rule is compiled once and whose request work is one function of it. */
class RuleStep<C> implements MiddlewareStep {
  readonly name: string;
  readonly type: string;
  private readonly rule: C;
  private readonly run: RuleRun<C>;
  constructor(name: string, type: string, rule: C, run: RuleRun<C>) {
    this.name = name;
    this.type = type;
    this.rule = rule;
    this.run = run;
  }
  onRequest(r: MiddlewareRequest): StepResult {
    return this.run(this.rule, r);
  }
}

function ruleStep<T extends keyof MiddlewareRules, C>(
  type: T,
  compile: (rule: MiddlewareRules[T]) => C,
  run: RuleRun<C>,
): [string, StepFactory] {
  return [type, (c) => new RuleStep(c.name, type, compile((c as MiddlewareConfigOf<T>).rule), run)];
}

const asWritten = <R>(rule: R): R => rule;

export const shapingStepFactories: Array<[string, StepFactory]> = [
  ['rateLimit', (c, s) => new RateLimitStep(c.name, (c as MiddlewareConfigOf<'rateLimit'>).rule, s)],
  ruleStep('bodyLimit', (rule) => rule.limitBytes, limitBody),
  ruleStep('requestHeaders', compileRequestHeaders, setRequestHeaders),
  [
    'responseHeaders',
    (c, s) => responseHeadersStep(c.name, (c as MiddlewareConfigOf<'responseHeaders'>).rule, s.gatewayVersion),
  ],
  ruleStep(
    'redirect',
    (rule) => Object.freeze(redirectAnswer(rewrites.redirectTo(rule))),
    (redirect) => redirect,
  ),
  ruleStep('redirectScheme', asWritten, redirectScheme),
  ruleStep(
    'redirectRegex',
    (rule) => ({ regex: rewrites.compileRegexRule(rule), permanent: rule.permanent }),
    redirectRegex,
  ),
  ruleStep('rewriteRegex', rewrites.compileRegexRule, (rule, r) =>
    replaceTarget(r, rewrites.rewriteTarget(rule, r.target)),
  ),
  ruleStep('addPrefix', asWritten, (rule, r) => replaceTarget(r, rewrites.addPrefix(rule, r.target))),
  ruleStep('stripQuery', rewrites.compileStripQuery, stripQuery),
  ['errorInterceptor', (c) => new ErrorInterceptorStep(c.name, (c as MiddlewareConfigOf<'errorInterceptor'>).rule)],
  ruleStep('accessLog', asWritten, logFields),
];

/** The step of a deprecated `cors` block (route or gateway): responseHeaders with only `cors`. */
export function corsBlockStep(cors: CorsRule, services: MiddlewareServices): ResponseHeadersStep {
  return responseHeadersStep(
    'cors',
    { set: [], setCookies: [], cacheControl: null, cors, statuses: [] },
    services.gatewayVersion,
    'cors',
  );
}

function limitBody(limit: number, r: MiddlewareRequest): StepResult {
  // The smaller limit wins; the body is counted as it streams (request/body-limit.ts), 413 over it.
  if (r.bodyLimit === 0 || limit < r.bodyLimit) r.bodyLimit = limit;
  return null;
}

function setRequestHeaders(rule: CompiledRequestHeaders, r: MiddlewareRequest): StepResult {
  applyRequestHeaders(rule, r.req.headers);
  // Again once the gateway has set X-Forwarded-*: the operator's rule has the last word.
  r.reapplyRequestHeaders(rule);
  return null;
}

function redirectAnswer(to: rewrites.RedirectAnswer): MiddlewareAnswer {
  return {
    status: to.status,
    code: 'GH_REDIRECT',
    message: `moved to ${to.location}`,
    metricLabel: null,
    reason: 'redirect',
    headers: { location: to.location },
  };
}

function redirectScheme(rule: MiddlewareRules['redirectScheme'], r: MiddlewareRequest): StepResult {
  const to = rewrites.redirectScheme(rule, r.scheme(), rewrites.hostWithoutPort(r.host), r.target);
  return to === null ? null : redirectAnswer(to);
}

interface CompiledRedirectRegex {
  readonly regex: rewrites.CompiledRegexRule;
  readonly permanent: boolean;
}

function redirectRegex(rule: CompiledRedirectRegex, r: MiddlewareRequest): StepResult {
  const to = rewrites.redirectRegex(rule.regex, rule.permanent, r.target);
  return to === null ? null : redirectAnswer(to);
}

/** rewriteRegex and addPrefix: the new target (null: unchanged), or the refusal of one without a canonical form. */
function replaceTarget(r: MiddlewareRequest, next: ReturnType<typeof rewrites.rewriteTarget>): StepResult {
  if (next === null) return null;
  if (typeof next !== 'string') return { ...next, reason: 'rewrite_refused', headers: null };
  r.rewriteTarget(next);
  return null;
}

function stripQuery(rule: rewrites.CompiledStripQuery, r: MiddlewareRequest): StepResult {
  const next = rewrites.stripQuery(rule, r.method, r.target);
  if (next !== r.target) r.target = next;
  return null;
}

function logFields(rule: MiddlewareRules['accessLog'], r: MiddlewareRequest): StepResult {
  if (r.logFields === null) r.logFields = {};
  accessLogFields(rule, r.req.headers, r.target, r.logFields);
  return null;
}
