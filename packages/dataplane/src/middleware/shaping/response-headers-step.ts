// responseHeaders (and the deprecated route and gateway `cors` blocks): answers CORS preflights
// itself, and registers on the request so that the response phase edits every answer of the route,
// the backend's and the gateway's own. The definition's CORS is compiled once; each route that
// names it gets its own step when its chain is built, with the templates filled for that route, so
// an answer only runs the compiled edit.
import type { ResponseHeadersRule } from '@gatehouse/config';
import type { ResponseShaper, ShapedRequest } from '../response-phase.ts';
import {
  answer,
  type MiddlewareAnswer,
  type MiddlewareRequest,
  type MiddlewareStep,
  type RouteFacts,
  type StepResult,
} from '../step.ts';
import { type CompiledCors, compileCors, isPreflight, preflightHeaders } from './cors.ts';
import { applyResponseHeaders, type CompiledResponseHeaders, compileResponseHeaders } from './header-rules.ts';

/** What the routes of one definition share. */
interface ResponseHeadersDefinition {
  readonly name: string;
  readonly type: string;
  readonly rule: ResponseHeadersRule;
  readonly gatewayVersion: string;
  readonly cors: CompiledCors | null;
  readonly originRefused: MiddlewareAnswer;
}

/** Templates of a step not (yet) bound to a route: what `{route.name}` meant outside any route. */
const NO_ROUTE: RouteFacts = { name: '', path: '' };

/** The step of a definition, as the factory makes it; `forRoute` binds it to each route. */
export function responseHeadersStep(
  name: string,
  rule: ResponseHeadersRule,
  gatewayVersion: string,
  type = 'responseHeaders',
): ResponseHeadersStep {
  const definition: ResponseHeadersDefinition = {
    name,
    type,
    rule,
    gatewayVersion,
    cors: rule.cors === null ? null : compileCors(rule.cors),
    originRefused: answer(403, 'GH_CORS_ORIGIN', 'this origin is not allowed', 'cors_origin'),
  };
  return new ResponseHeadersStep(definition, NO_ROUTE);
}

export class ResponseHeadersStep implements MiddlewareStep, ResponseShaper {
  readonly name: string;
  readonly type: string;
  private readonly definition: ResponseHeadersDefinition;
  private readonly headers: CompiledResponseHeaders;

  constructor(definition: ResponseHeadersDefinition, route: RouteFacts) {
    this.name = definition.name;
    this.type = definition.type;
    this.definition = definition;
    this.headers = compileResponseHeaders(
      definition.rule,
      { routeName: route.name, routePath: route.path, gatewayVersion: definition.gatewayVersion },
      definition.cors,
    );
  }

  forRoute(route: RouteFacts): ResponseHeadersStep {
    return new ResponseHeadersStep(this.definition, route);
  }

  onRequest(r: MiddlewareRequest): StepResult {
    const cors = this.definition.cors;
    const headers = r.req.headers;
    const origin = headers.origin;
    const requestMethod = headers['access-control-request-method'];
    if (cors !== null && isPreflight(r.method, origin, requestMethod)) {
      const allowed = preflightHeaders(
        cors,
        origin as string,
        requestMethod as string,
        headers['access-control-request-headers'],
      );
      if (allowed === null) return this.definition.originRefused;
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
    applyResponseHeaders(this.headers, status, r.req.headers.origin, head);
  }
}
