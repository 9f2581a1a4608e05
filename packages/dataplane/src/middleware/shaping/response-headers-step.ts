// responseHeaders (and the deprecated route and gateway `cors` blocks): answers CORS preflights
// itself, and registers on the request so that the response phase edits every answer of the route,
// the backend's and the gateway's own.
import type { ResponseHeadersRule } from '@gatehouse/config';
import type { ResponseShaper, ShapedRequest } from '../response-phase.ts';
import {
  answer,
  type MiddlewareAnswer,
  type MiddlewareRequest,
  type MiddlewareStep,
  type StepResult,
} from '../step.ts';
import { type CompiledCors, compileCors, isPreflight, preflightHeaders } from './cors.ts';
import { applyResponseHeaders, type CompiledResponseHeaders, compileResponseHeaders } from './header-rules.ts';

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
    const requestMethod = headers['access-control-request-method'];
    if (this.cors !== null && isPreflight(r.method, origin, requestMethod)) {
      const allowed = preflightHeaders(
        this.cors,
        origin as string,
        requestMethod as string,
        headers['access-control-request-headers'],
      );
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
