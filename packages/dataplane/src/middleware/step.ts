// The step interface of the middleware chain. Each middleware definition becomes one step per
// generation (compile.ts), shared by every route that names it; a route's chain pairs each step
// with that route's compiled `paths` (chain.ts) and per request calls `onRequest` in order. A step
// passes (null), answers (a MiddlewareAnswer: the chain stops and the gateway writes it), or
// returns a Promise of either for work that must not block the event loop (bcrypt, an auth
// service, a JWKS refresh).
import type { IncomingHttpHeaders } from 'node:http';
import type { ErrorKind } from '../errors.ts';
import type { ErrorReplacer, ResponseShaper } from './response-phase.ts';
import type { AccessLogFields } from './shaping/access-log-fields.ts';
import type { CompiledRequestHeaders } from './shaping/header-rules.ts';

/** What a step sees of a request: the request that will be forwarded, and a few derived facts. */
export interface MiddlewareRequest {
  /** The headers that will be forwarded: a step may add or remove some (after removing client copies). */
  readonly req: { readonly headers: IncomingHttpHeaders };
  readonly method: string;
  /** The canonical path, without the query: what `paths` is matched against. */
  readonly requestPath: string;
  /**
   * The origin-form target (path and query) that will be forwarded, before the route's rewrite. A
   * step may replace it (query parameters added by forwardAuth).
   */
  target: string;
  readonly requestId: string;
  /** The connection to the gateway is TLS. */
  readonly secure: boolean;
  /** The client address, as `gateway.proxy.trustedProxies` lets the gateway believe it. */
  clientAddress(): string;
  /** Set by an authenticating step: who the request is, for the access log. */
  authUser: string | null;
  /** Set by the chain when a step answers: that step's middleware name, for the access log. */
  deniedBy: string | null;
  /** The client went away (or the request was answered elsewhere): a late async result is dropped. */
  readonly closed: boolean;
  /** Headers to add to the client's response when the backend answers (Set-Cookie from forwardAuth). */
  addResponseHeader(name: string, value: string): void;
  /** The route's name (per-route state of a shared step: rate-limit buckets, templates). */
  readonly routeName: string | null;
  /** The route's path prefix. */
  readonly routePath: string;
  /** The canonical Host (or :authority), as the client sent it. */
  readonly host: string;
  /** The scheme the gateway saw, or X-Forwarded-Proto from a trusted proxy. */
  scheme(): 'http' | 'https';
  /** A middleware's request body limit in bytes (0: none); the smaller of it and the route's applies. */
  bodyLimit: number;
  /** Replaces the target with a canonical one; `paths` of later steps match the new path. */
  rewriteTarget(target: string): void;
  /** Applies these rules again after the gateway's own forwarding headers (X-Forwarded-*). */
  reapplyRequestHeaders(rule: CompiledRequestHeaders): void;
  /** Registers a step that edits every response of this request (backend's and the gateway's). */
  shapeResponseWith(shaper: ResponseShaper): void;
  /** Registers a step that replaces error bodies of this request's answers. */
  replaceErrorsWith(replacer: ErrorReplacer): void;
  /** Fields an accessLog middleware adds to the access line. */
  logFields: AccessLogFields | null;
}

/** A step's own answer to the client: a Gatehouse error body with this status and extra headers. */
export interface MiddlewareAnswer extends ErrorKind {
  /** Label of gatehouse_middleware_denied_total (`bad_credentials`, `expired`, ...). */
  readonly reason: string;
  /** Extra response headers (WWW-Authenticate, Location, Set-Cookie); null: none. */
  readonly headers: Readonly<Record<string, string | string[]>> | null;
}

export type StepResult = MiddlewareAnswer | null;

export interface MiddlewareStep {
  /** The middleware's `name` in the config (the access log and the metric name it). */
  readonly name: string;
  /** Its canonical type. */
  readonly type: string;
  /** Where it applies; null: the whole route. */
  onRequest(r: MiddlewareRequest): StepResult | Promise<StepResult>;
  /** Called when the generation that built it is retired: stop timers, close agents. */
  close?(): void;
  /**
   * The step as `route` runs it, for a step with work to do once per route (templates filled with
   * the route's name and path): called when the route's chain is built. Absent: the step itself.
   */
  forRoute?(route: RouteFacts): MiddlewareStep;
}

/** What a step may precompile for one route. */
export interface RouteFacts {
  readonly name: string;
  /** The route's path prefix, as configured. */
  readonly path: string;
}

/** A frozen answer, built once per step and reason (never per request). */
export function answer(
  status: number,
  code: string,
  message: string,
  reason: string,
  headers: Record<string, string | string[]> | null = null,
): MiddlewareAnswer {
  return Object.freeze({
    status,
    code,
    message,
    metricLabel: null,
    reason,
    headers: headers && Object.freeze(headers),
  });
}
