// Step factories of the request-shaping middleware types, by type name; compile.ts merges them
// with the authentication types. What they share with the worker (its leases of the per-instance
// rate-limit buckets, the Redis store, the version for templates) comes in MiddlewareServices.
import type { CorsRule, MiddlewareConfig } from '@gatehouse/config';
import type { StepFactory } from './compile.ts';
import type { LeaseTable } from './rate-limit/lease-table.ts';
import { RateLimitStep } from './rate-limit/rate-limit-step.ts';
import type { RedisRateLimitStore } from './rate-limit/redis-store.ts';
import {
  AccessLogStep,
  AddPrefixStep,
  BodyLimitStep,
  ErrorInterceptorStep,
  RedirectRegexStep,
  RedirectSchemeStep,
  RedirectStep,
  RequestHeadersStep,
  ResponseHeadersStep,
  RewriteRegexStep,
  StripQueryStep,
} from './shaping/shaping-steps.ts';

export interface MiddlewareServices {
  readonly leases: LeaseTable;
  /** The store of `gateway.redis`, or null. */
  readonly redis: RedisRateLimitStore | null;
  readonly gatewayVersion: string;
}

type Of<T extends MiddlewareConfig['type']> = Extract<MiddlewareConfig, { type: T }>;

export const shapingStepFactories: Array<[string, StepFactory]> = [
  ['rateLimit', (c, s) => new RateLimitStep(c.name, (c as Of<'rateLimit'>).rule, s)],
  ['bodyLimit', (c) => new BodyLimitStep(c.name, (c as Of<'bodyLimit'>).rule)],
  ['requestHeaders', (c) => new RequestHeadersStep(c.name, (c as Of<'requestHeaders'>).rule)],
  ['responseHeaders', (c, s) => new ResponseHeadersStep(c.name, (c as Of<'responseHeaders'>).rule, s.gatewayVersion)],
  ['redirect', (c) => new RedirectStep(c.name, (c as Of<'redirect'>).rule)],
  ['redirectScheme', (c) => new RedirectSchemeStep(c.name, (c as Of<'redirectScheme'>).rule)],
  ['redirectRegex', (c) => new RedirectRegexStep(c.name, (c as Of<'redirectRegex'>).rule)],
  ['rewriteRegex', (c) => new RewriteRegexStep(c.name, (c as Of<'rewriteRegex'>).rule)],
  ['addPrefix', (c) => new AddPrefixStep(c.name, (c as Of<'addPrefix'>).rule)],
  ['stripQuery', (c) => new StripQueryStep(c.name, (c as Of<'stripQuery'>).rule)],
  ['errorInterceptor', (c) => new ErrorInterceptorStep(c.name, (c as Of<'errorInterceptor'>).rule)],
  ['accessLog', (c) => new AccessLogStep(c.name, (c as Of<'accessLog'>).rule)],
];

/** The step of a deprecated `cors` block (route or gateway): responseHeaders with only `cors`. */
export function corsBlockStep(cors: CorsRule, services: MiddlewareServices): ResponseHeadersStep {
  return new ResponseHeadersStep(
    'cors',
    { set: [], setCookies: [], cacheControl: null, cors, statuses: [] },
    services.gatewayVersion,
    'cors',
  );
}
