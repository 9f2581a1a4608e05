// The `rateLimit` step. One step per definition is shared by the routes that name it, and the
// buckets are per route and middleware, so the step keeps one RateLimiter per route (built at the
// route's first request in a generation). Refusals: 429 with Retry-After and the IETF RateLimit-*
// fields, 403 while banned, 503 when Redis is down and the rule says `deny`; each is counted in
// gatehouse_ratelimit_rejected_total{route, middleware}.
import type { RateLimitRule } from '@gatehouse/config';
import type { MiddlewareAnswer, MiddlewareRequest, MiddlewareStep, StepResult } from '../step.ts';
import { rateLimitKey } from './client-key.ts';
import type { LeaseTable } from './lease-table.ts';
import { countRateLimited } from './metrics.ts';
import { ALLOWED, type RateLimitDecision, RateLimiter, rateLimitHeaders } from './rate-limiter.ts';
import type { RedisRateLimitStore } from './redis-store.ts';

export interface RateLimitServices {
  readonly leases: LeaseTable;
  /** The Redis store of `gateway.redis`, or null. */
  readonly redis: RedisRateLimitStore | null;
}

function refusal(d: RateLimitDecision): MiddlewareAnswer {
  const headers = rateLimitHeaders(d);
  if (d.outcome === 'banned') {
    return {
      status: 403,
      code: 'GH_RATE_LIMIT_BANNED',
      message: 'too many requests: temporarily banned',
      metricLabel: null,
      reason: 'banned',
      headers: { 'retry-after': headers['retry-after'] as string },
    };
  }
  if (d.outcome === 'store-unavailable') {
    return {
      status: 503,
      code: 'GH_RATE_LIMIT_STORE',
      message: 'the rate-limit store is unavailable',
      metricLabel: null,
      reason: 'store_unavailable',
      headers: { 'retry-after': '1' },
    };
  }
  return {
    status: 429,
    code: 'GH_RATE_LIMITED',
    message: 'too many requests',
    metricLabel: null,
    reason: 'rate_limited',
    headers,
  };
}

export class RateLimitStep implements MiddlewareStep {
  readonly name: string;
  readonly type = 'rateLimit';
  private readonly rule: RateLimitRule;
  private readonly services: RateLimitServices;
  private readonly byRoute = new Map<string, RateLimiter>();

  constructor(name: string, rule: RateLimitRule, services: RateLimitServices) {
    this.name = name;
    this.rule = rule;
    this.services = services;
  }

  onRequest(r: MiddlewareRequest): StepResult | Promise<StepResult> {
    const route = r.routeName ?? '';
    let limiter = this.byRoute.get(route);
    if (limiter === undefined) {
      limiter = new RateLimiter(route, this.name, this.rule, this.services.leases, this.services.redis);
      this.byRoute.set(route, limiter);
    }
    const key = rateLimitKey(this.rule, r.req.headers, r);
    const decision = limiter.decide(key, Date.now());
    if (decision === ALLOWED) return null;
    if (typeof (decision as Promise<RateLimitDecision>).then === 'function') {
      return (decision as Promise<RateLimitDecision>).then((d) => this.settle(route, d));
    }
    return this.settle(route, decision as RateLimitDecision);
  }

  private settle(route: string, d: RateLimitDecision): StepResult {
    if (d.outcome === 'allow') return null;
    countRateLimited(route, this.name);
    return refusal(d);
  }
}
