// One RequestState per request, owned by the request: the client request and response (or the
// upgraded socket) carry it as a typed `requestState` property, declared below on Node's own types,
// so every shared listener (proxy events, 'close', 'data', socket 'connect') finds it with one
// property read, without a closure per request and without casts. The fields are all declared in the
// constructor's order, so every state has the same shape.
import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { Socket } from 'node:net';
import type { AccessRecord } from '../access-log.ts';
import type { CompiledRoute, Generation } from '../generation.ts';
import type { CompiledBackend } from '../upstream/compiled-backend.ts';
import type { TLSSocket } from 'node:tls';
import type { MiddlewareRequest } from '../middleware/step.ts';
import type { Forwarder } from './forwarder.ts';
import { clientAddress, forwardedProto } from './trusted-proxies.ts';
import type { Balancer } from '../upstream/balancer.ts';
import type { ErrorReplacer, ResponseShaper } from '../middleware/response-phase.ts';
import type { AccessLogFields } from '../middleware/shaping/access-log-fields.ts';
import type { CompiledRequestHeaders } from '../middleware/shaping/header-rules.ts';
import { UpstreamResponseTimeoutError } from '../errors.ts';
import type { DeadlineEntry, DeadlineList } from '../upstream/response-deadlines.ts';

declare module 'http' {
  interface IncomingMessage {
    /** Set on a client request and, while it is relayed, on the backend's response. */
    requestState?: RequestState | undefined;
  }
  interface ServerResponse {
    requestState?: RequestState | undefined;
  }
  interface ClientRequest {
    /** An upgrade's upstream request, until the backend answers it. */
    requestState?: RequestState | undefined;
  }
}
declare module 'http2' {
  interface Http2ServerRequest {
    requestState?: RequestState | undefined;
  }
  interface Http2ServerResponse {
    requestState?: RequestState | undefined;
  }
}
declare module 'net' {
  interface Socket {
    /** An upgraded client socket for its lifetime; an upstream socket only until it connects. */
    requestState?: RequestState | undefined;
  }
}

export type ClientRequestMessage = IncomingMessage | Http2ServerRequest;
export type ClientResponse = ServerResponse | Http2ServerResponse;

/** Status logged and counted for a request whose client went away before the response ended (nginx's 499). */
export const CLIENT_CLOSED_STATUS = 499;

/** One instance for every response timeout: its stack is never looked at, so it is built once. */
export const UPSTREAM_TIMEOUT = new UpstreamResponseTimeoutError();

/** Everything one request carries through the proxy's events; one object per request, fixed shape. */
export class RequestState implements AccessRecord, MiddlewareRequest, DeadlineEntry {
  readonly forwarder: Forwarder;
  readonly generation: Generation;
  readonly req: ClientRequestMessage;
  /** null for a WebSocket upgrade, which has `upgradeSocket` instead. */
  readonly res: ClientResponse | null;
  readonly upgradeSocket: Socket | null;
  /** The bytes read past an upgrade request's head. */
  upgradeHead: Buffer | null = null;
  /** The canary pool the backend came from, so that a retry stays in it; null: the route's balancer. */
  pool: Balancer<CompiledBackend> | null = null;
  readonly start: number;
  readonly http2: boolean;
  /** The HTTP/1 client connection, for the bytes written (null on HTTP/2). */
  readonly socket: Socket | null;
  readonly bytesAtStart: number;
  requestId = '';
  routeName: string | null = null;
  backendEndpoint: string | null = null;
  method: string;
  path: string;
  status = 0;
  bytes = 0;
  durationMs = 0;
  tlsVersion: string | null = null;
  tlsResumed: boolean | null = null;
  clientSubject: string | null = null;
  upstreamConnectMs = -1;
  upstreamResponseMs = -1;
  retries = 0;
  errorCode: string | null = null;
  clientAborted = false;
  route: CompiledRoute | null = null;
  backend: CompiledBackend | null = null;
  /** The canonical target in origin-form: what is routed, checked and forwarded. */
  target = '';
  /** The client's header names and values in bytes, for the header-room check. */
  clientFieldBytes = 0;
  /** Path to forward, after rewrite, before the backend's base path. */
  upstreamPath = '';
  upstreamStart = 0;
  proxyReq: ClientRequest | null = null;
  reusedSocket = false;
  handshakeDone = false;
  responded = false;
  closed = false;
  /** Idempotent and without a body: may be sent again to another backend. */
  retryable = false;
  /** HTTP/1 request without a body: nothing to pipe upstream. */
  bodiless = false;
  /** HTTP/1: the backend response whose body is being relayed to the client (body-relay.ts). */
  upstreamResponse: IncomingMessage | null = null;
  /** The relay listens for the client response's 'drain' (from the first write that filled it). */
  drainListener = false;
  /** HTTP/2: body bytes of the backend response relayed so far (-1: none relayed). */
  h2BodyBytes = -1;
  /** Request body limit being enforced while it streams (0: none). */
  bodyMax = 0;
  bodySeen = 0;
  bodyExceeded = false;
  /** An XML body being read for exploit protection's check; then forwarded from `bufferedBody`. */
  bodyChunks: Buffer[] | null = null;
  bufferedBody: Buffer | null = null;
  /** The target's path without the query: what middleware `paths` are matched against. */
  requestPath = '';
  /** Who a middleware authenticated the request as (user, token subject), for the access log. */
  authUser: string | null = null;
  /** The middleware that answered the request instead of the backend, for the access log. */
  deniedBy: string | null = null;
  /** Fields a middleware adds to the client's response, as a flat [name, value, ...] list. */
  responseHeaders: string[] | null = null;
  /** A middleware's body limit (bodyLimit), 0: none. */
  bodyLimit = 0;
  /** Steps that edit the response head (responseHeaders, CORS), in chain order. */
  responseShapers: ResponseShaper[] | null = null;
  /** A step that replaces error bodies (errorInterceptor). */
  errorReplacer: ErrorReplacer | null = null;
  /** Fields an accessLog middleware adds to the access line. */
  logFields: AccessLogFields | null = null;
  /** requestHeaders rules applied again after the forwarding headers. */
  lateRequestHeaders: CompiledRequestHeaders[] | null = null;
  /** The upstream response deadline of a bodiless request, while it waits (upstream/response-deadlines.ts). */
  deadlineAt = 0;
  deadlinePrev: DeadlineEntry | null = null;
  deadlineNext: DeadlineEntry | null = null;
  deadlineList: DeadlineList | null = null;

  constructor(
    forwarder: Forwarder,
    generation: Generation,
    req: ClientRequestMessage,
    res: ClientResponse | null,
    upgradeSocket: Socket | null,
    start: number,
  ) {
    this.forwarder = forwarder;
    this.generation = generation;
    this.req = req;
    this.res = res;
    this.upgradeSocket = upgradeSocket;
    this.start = start;
    this.http2 = req.httpVersionMajor >= 2;
    this.method = req.method ?? '';
    this.path = req.url ?? '';
    const socket = this.http2 ? null : (req as IncomingMessage).socket;
    this.socket = socket;
    this.bytesAtStart = socket?.bytesWritten ?? 0;
  }

  /** The connection to the gateway is TLS. */
  get secure(): boolean {
    return (this.req.socket as TLSSocket | null)?.encrypted === true;
  }

  /** The client address as gateway.proxy.trustedProxies lets the gateway believe it. */
  clientAddress(): string {
    return clientAddress(this.generation.trusted, this.req.socket?.remoteAddress, this.req.headers['x-forwarded-for']);
  }

  get routePath(): string {
    return this.route?.prefix ?? '';
  }

  get host(): string {
    const headers = this.req.headers;
    return headers.host ?? (headers[':authority'] as string | undefined) ?? '';
  }

  scheme(): 'http' | 'https' {
    return forwardedProto(
      this.generation.trusted,
      this.req.socket?.remoteAddress,
      this.req.headers['x-forwarded-proto'],
      this.secure,
    );
  }

  /** The upstream response deadline passed: the attempt fails as a 504 (or is retried). */
  expire(): void {
    this.proxyReq?.destroy(UPSTREAM_TIMEOUT);
  }

  rewriteTarget(target: string): void {
    this.target = target;
    const q = target.indexOf('?');
    this.requestPath = q === -1 ? target : target.slice(0, q);
  }

  reapplyRequestHeaders(rule: CompiledRequestHeaders): void {
    if (this.lateRequestHeaders === null) this.lateRequestHeaders = [rule];
    else this.lateRequestHeaders.push(rule);
  }

  shapeResponseWith(shaper: ResponseShaper): void {
    if (this.responseShapers === null) this.responseShapers = [shaper];
    else this.responseShapers.push(shaper);
  }

  replaceErrorsWith(replacer: ErrorReplacer): void {
    this.errorReplacer = replacer;
  }

  addResponseHeader(name: string, value: string): void {
    if (this.responseHeaders === null) this.responseHeaders = [name, value];
    else this.responseHeaders.push(name, value);
  }
}
