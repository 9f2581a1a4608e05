// The request path: guard → route → client auth → balancer → headers → http-proxy-3 → backend.
//
// One ProxyServer per worker, created once. Per request we pass the backend's precompiled options
// object; everything request-specific lives in one RequestState record hung on req/res under a
// symbol, and every listener (proxy events, res 'close', proxyReq 'timeout', socket 'connect') is a
// shared function that finds that record. No closure, regex or JSON is created per request here.
import type http from 'node:http';
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { TLSSocket } from 'node:tls';
import { createProxyServer } from 'http-proxy-3';
import { type AccessRecord, type Logger, writeAccessLine } from '../access-log.ts';
import { checkClientAuth } from '../tls/client-auth.ts';
import { applyClientIdentity, peerIdentity, tlsSocketOf } from '../tls/client-identity.ts';
import { type ErrorDescription, type ErrorExtras, sendError } from './error-response.ts';
import { classifyUpstreamError, ERROR_KINDS, type ErrorKind, UpstreamResponseTimeoutError } from '../errors.ts';
import type { CompiledBackend, CompiledRoute, Generation } from '../generation.ts';
import { stripH2ResponseHeaders } from '../edge/http2.ts';
import {
  clientResponseHeaders,
  requestIdFor,
  setForwardingHeaders,
  stripHopByHop,
  stripResponseHopByHop,
} from './headers.ts';
import type { PassiveMessage } from '../messages.ts';
import { countServed, methodIndex, metrics, type RouteMetrics } from '../metrics.ts';
import {
  bindUpstreamRequest,
  bodyLimitExceeded,
  limitRequestBody,
  originForm,
  rejectRequest,
} from '../edge/framing-guard.ts';
import { joinBasePath, METHOD_NOT_ALLOWED, NO_ROUTE, rewritePath } from './router.ts';
import { slashRedirectLocation } from './trailing-slash.ts';

type ClientRequestLike = http.ClientRequest;
type AnyRequest = IncomingMessage | Http2ServerRequest;
type AnyResponse = ServerResponse | Http2ServerResponse;

const kState = Symbol('gatehouse.request');
type Carrier = { [kState]?: RequestState };

/** Status logged and counted for a request whose client went away before the response ended (nginx's 499). */
export const CLIENT_CLOSED_STATUS = 499;

/** Everything one request carries through the proxy's events; one object per request, fixed shape. */
export class RequestState implements AccessRecord {
  readonly generation: Generation;
  readonly req: AnyRequest;
  readonly res: AnyResponse;
  readonly start: number;
  readonly http2: boolean;
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
  /** Path to forward, after rewrite, before the backend's base path. */
  upstreamPath = '';
  upstreamStart = 0;
  proxyReq: ClientRequestLike | null = null;
  reusedSocket = false;
  handshakeDone = false;
  responded = false;
  closed = false;
  /** Idempotent and without a body: may be sent again to another backend. */
  retryable = false;
  /** HTTP/1 request without a body: nothing to pipe upstream. */
  bodiless = false;
  /** HTTP/2: body bytes of the backend response relayed so far (-1: none relayed). */
  h2BodyBytes = -1;

  constructor(generation: Generation, req: AnyRequest, res: AnyResponse, start: number) {
    this.generation = generation;
    this.req = req;
    this.res = res;
    this.start = start;
    this.http2 = req.httpVersionMajor >= 2;
    this.method = req.method ?? '';
    this.path = req.url ?? '';
    const socket = this.http2 ? null : (req.socket as Socket);
    this.socket = socket;
    this.bytesAtStart = socket?.bytesWritten ?? 0;
  }
}

/** Batches passive health signals to the primary: failures, and the first success after a failure. */
export class PassiveReporter {
  private readonly send: (message: PassiveMessage) => void;
  private readonly failing = new Set<string>();
  private pending: PassiveMessage['events'] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly flushBound: () => void;
  readonly intervalMs: number;

  constructor(send: (message: PassiveMessage) => void, intervalMs = 250) {
    this.send = send;
    this.intervalMs = intervalMs;
    this.flushBound = () => this.flush();
  }

  failure(backend: CompiledBackend, reason: string): void {
    this.failing.add(backend.key);
    this.pending.push({ route: backend.route.name, endpoint: backend.endpoint, ok: false, reason });
    this.schedule();
  }

  success(backend: CompiledBackend): void {
    if (this.failing.size === 0 || !this.failing.delete(backend.key)) return;
    this.pending.push({ route: backend.route.name, endpoint: backend.endpoint, ok: true, reason: null });
    this.schedule();
  }

  private schedule(): void {
    if (this.timer !== null) return;
    this.timer = setTimeout(this.flushBound, this.intervalMs);
    this.timer.unref();
  }

  flush(): void {
    this.timer = null;
    if (this.pending.length === 0) return;
    const events = this.pending;
    this.pending = [];
    this.send({ type: 'gh:passive', events });
  }
}

/** One instance for every response timeout: its stack is never looked at, so it is built once. */
const UPSTREAM_TIMEOUT = new UpstreamResponseTimeoutError();

function isIdempotent(method: string): boolean {
  return method === 'GET' || method === 'HEAD' || method === 'OPTIONS' || method === 'PUT' || method === 'DELETE';
}

function hasNoBody(req: AnyRequest): boolean {
  const h = req.headers;
  if (h['transfer-encoding'] !== undefined) return false;
  const length = h['content-length'];
  return length === undefined || length === '0';
}

/** Shared 'close' listener of every response (this = the response). */
function onResponseClose(this: AnyResponse): void {
  const state = (this as unknown as Carrier)[kState];
  if (state === undefined) return;
  state.closed = true;
  theForwarder?.finish(state);
}

/** Shared 'data' listener of backend responses relayed to HTTP/2 clients (this = the backend response). */
function countH2BodyBytes(this: IncomingMessage, chunk: Buffer): void {
  const state = (this as unknown as Carrier)[kState];
  if (state !== undefined) state.h2BodyBytes += chunk.length;
}

/** Shared 'end' listener of self-handled backend responses: trailers go before the pipe ends `res`. */
function onUpstreamEnd(this: IncomingMessage): void {
  const state = (this as unknown as Carrier)[kState];
  if (state === undefined || this.rawTrailers.length === 0) return;
  const res = state.res as ServerResponse;
  if (!res.writableEnded) res.addTrailers(this.trailers);
}

function isSelfHandled(res: ServerResponse): boolean {
  const state = (res as unknown as Carrier)[kState];
  return state !== undefined && !state.http2;
}

/** Shared 'timeout' listener of every upstream request: response timeout (this = the ClientRequest). */
function onUpstreamTimeout(this: ClientRequestLike): void {
  this.destroy(UPSTREAM_TIMEOUT);
}

/** Shared 'connect' / 'secureConnect' listeners of new upstream sockets. */
function onUpstreamConnect(this: Socket): void {
  const state = (this as unknown as Carrier)[kState];
  (this as unknown as Carrier)[kState] = undefined;
  if (state !== undefined) state.upstreamConnectMs = performance.now() - state.upstreamStart;
}
function onUpstreamSecureConnect(this: Socket): void {
  const state = (this as unknown as Carrier)[kState];
  (this as unknown as Carrier)[kState] = undefined;
  if (state === undefined) return;
  state.handshakeDone = true;
  state.upstreamConnectMs = performance.now() - state.upstreamStart;
}

function noop(): void {}

/** The worker's one forwarder, for the shared listeners that only get the response or socket. */
let theForwarder: Forwarder | null = null;

/** Measurement switch (issue 9): forward with node:http instead of http-proxy-3. */
const FORWARD_WITH_NODE_HTTP = process.env.GATEHOUSE_FORWARDER === 'node-http';
/**
 * Measurement switch (issue 7): `GATEHOUSE_METRICS=off` skips the per-request metric updates, so
 * `bench/` can show what they cost. Errors, handshakes and connections are still counted.
 */
const REQUEST_METRICS = process.env.GATEHOUSE_METRICS !== 'off';
const H2_PSEUDO_HEADERS = [':method', ':path', ':scheme', ':authority'] as const;

// Shared listeners of the node:http forwarding path (this = the upstream ClientRequest).
function onNodeHttpSocket(this: ClientRequestLike, socket: Socket): void {
  const state = (this as unknown as Carrier)[kState];
  if (state === undefined || theForwarder === null) return;
  theForwarder.upstreamSocket(this, state.req as IncomingMessage, socket);
  const timeout = state.generation.timeouts.upstreamConnectMs;
  if (socket.connecting && timeout > 0) {
    (socket as unknown as ConnectTimerCarrier)[kConnectTimer] = setTimeout(onConnectTimeout, timeout, socket);
    socket.once('connect', clearConnectTimer);
    socket.once('close', clearConnectTimer);
  }
}
function onNodeHttpResponse(this: ClientRequestLike, proxyRes: IncomingMessage): void {
  const state = (this as unknown as Carrier)[kState];
  if (state === undefined || theForwarder === null) return;
  theForwarder.upstreamResponse(proxyRes, state.req as IncomingMessage, state.res as ServerResponse);
  if (state.http2 && !state.closed && !state.res.headersSent) {
    (proxyRes as unknown as Carrier)[kState] = state;
    proxyRes.once('end', onUpstreamEnd);
    (state.res as Http2ServerResponse).writeHead(proxyRes.statusCode ?? 502, proxyRes.headers);
    proxyRes.pipe(state.res as Http2ServerResponse);
  }
}
function onNodeHttpError(this: ClientRequestLike, err: Error & { code?: string }): void {
  const state = (this as unknown as Carrier)[kState];
  if (state === undefined || theForwarder === null) return;
  theForwarder.upstreamError(err, state.req as IncomingMessage, state.res);
}
function onClientRequestError(this: IncomingMessage): void {
  const state = (this as unknown as Carrier)[kState];
  if (state === undefined) return;
  state.clientAborted = true;
  state.proxyReq?.destroy();
}

const kConnectTimer = Symbol('gatehouse.connectTimer');
type ConnectTimerCarrier = { [kConnectTimer]?: NodeJS.Timeout };
function onConnectTimeout(socket: Socket): void {
  (socket as unknown as ConnectTimerCarrier)[kConnectTimer] = undefined;
  const error = new Error('upstream connect timeout') as Error & { code?: string };
  error.code = 'GH_UPSTREAM_CONNECT_TIMEOUT';
  socket.destroy(error);
}
function clearConnectTimer(this: Socket): void {
  const carrier = this as unknown as ConnectTimerCarrier;
  const timer = carrier[kConnectTimer];
  if (timer !== undefined) {
    clearTimeout(timer);
    carrier[kConnectTimer] = undefined;
  }
}

export interface ForwarderOptions {
  sendPassive: (message: PassiveMessage) => void;
  logger: Logger;
}

export class Forwarder {
  /** Swapped by the worker on gh:commit: the one assignment that moves traffic to a new generation. */
  generation: Generation;
  logger: Logger;
  accessLog: boolean;
  draining = false;
  inflight = 0;
  readonly passive: PassiveReporter;
  readonly proxy: ReturnType<typeof createProxyServer>;
  readonly handleRequest: (req: AnyRequest, res: AnyResponse) => void;
  readonly handleUpgrade: (req: IncomingMessage, socket: Socket, head: Buffer) => void;

  constructor(generation: Generation, options: ForwarderOptions) {
    this.generation = generation;
    this.logger = options.logger;
    this.accessLog = generation.config.gateway.log.accessLog;
    this.passive = new PassiveReporter(options.sendPassive);
    this.proxy = createProxyServer({ xfwd: false, toProxy: true, prependPath: false, ws: true });
    this.proxy.on('proxyReq', (proxyReq, req, _res, _options, socket) => this.onProxyReq(proxyReq, req, socket));
    this.proxy.on('proxyReqWs', (proxyReq, req) => this.onProxyReq(proxyReq, req, null));
    this.proxy.on('proxyRes', (proxyRes, req, res) => this.onProxyRes(proxyRes, req, res));
    this.proxy.on('end', (req, res, proxyRes) => this.onProxyEnd(req, res, proxyRes));
    this.proxy.on('error', (err, req, res) => this.onProxyError(err as Error & { code?: string }, req, res));
    this.proxy.on('econnreset', (_err, req) => {
      const state = (req as unknown as Carrier)[kState];
      if (state !== undefined) state.clientAborted = true;
    });
    this.handleRequest = (req, res) => this.request(req, res);
    this.handleUpgrade = (req, socket, head) => this.upgrade(req, socket, head);
    theForwarder = this;
  }

  // ---- requests ----

  private request(req: AnyRequest, res: AnyResponse): void {
    const generation = this.generation;
    const state = new RequestState(generation, req, res, performance.now());
    (req as unknown as Carrier)[kState] = state;
    (res as unknown as Carrier)[kState] = state;
    this.inflight++;
    res.on('close', onResponseClose);
    try {
      this.route(state, generation, req, res);
    } catch (error) {
      this.logger.error({ err: error, reqId: state.requestId }, 'request handling failed');
      this.respond(state, ERROR_KINDS.internal, null);
    }
  }

  private route(state: RequestState, generation: Generation, req: AnyRequest, res: AnyResponse): void {
    const headers = req.headers;
    state.requestId = requestIdFor(headers['x-request-id']);
    const rejection = rejectRequest(req as IncomingMessage, generation.limits);
    if (rejection !== null) {
      this.respond(state, rejection, CLOSE);
      return;
    }
    const url = originForm(req.url ?? '/');
    const host = headers.host ?? (headers[':authority'] as string | undefined);
    const index = generation.router.lookup(host, state.method, url);
    if (index < 0) {
      if (index === NO_ROUTE) this.respond(state, ERROR_KINDS.noRoute, null);
      else if (index === METHOD_NOT_ALLOWED) {
        this.respond(state, ERROR_KINDS.methodNotAllowed, { allow: generation.router.allowed(host, url) });
      }
      return;
    }
    const route = generation.routes[index] as CompiledRoute;
    state.route = route;
    state.routeName = route.name;
    if (route.slashRedirect) {
      const location = slashRedirectLocation(url, route.prefix);
      if (location !== null) {
        (res as ServerResponse).writeHead(301, { location, 'content-length': '0' });
        res.end();
        return;
      }
    }
    if (generation.clientAuthActive) {
      const denial = checkClientAuth(generation.clientAuth, route.name, req as IncomingMessage);
      if (denial !== null) {
        this.respond(state, denial, null);
        return;
      }
    }
    // A request without a body (most of them) needs no byte counting.
    if (route.maxBodyBytes > 0 && (state.http2 || !hasNoBody(req))) {
      const tooLarge = limitRequestBody(req as IncomingMessage, res as ServerResponse, route.maxBodyBytes);
      if (tooLarge !== null) {
        this.respond(state, tooLarge, CLOSE);
        return;
      }
    }
    const backend = route.balancer.pick(Date.now(), null);
    if (backend === null) {
      this.respond(state, ERROR_KINDS.noHealthyBackend, { retryAfterSeconds: route.retryAfterSeconds });
      return;
    }
    stripHopByHop(headers);
    const socket = req.socket as Socket | TLSSocket;
    setForwardingHeaders(
      headers,
      generation.trusted,
      socket.remoteAddress,
      (socket as TLSSocket).encrypted === true,
      state.requestId,
      route.forwardHost ? null : backend.hostHeader,
    );
    applyClientIdentity(route.identity, req as IncomingMessage, headers);
    state.upstreamPath = route.rewrite === null ? url : rewritePath(url, route.prefix, route.rewrite);
    state.bodiless = !state.http2 && hasNoBody(req);
    state.retryable = route.retryAttempts > 0 && isIdempotent(state.method) && hasNoBody(req);
    this.dispatch(state, backend);
  }

  private dispatch(state: RequestState, backend: CompiledBackend): void {
    state.backend = backend;
    state.backendEndpoint = backend.endpoint;
    state.upstreamStart = performance.now();
    state.proxyReq = null;
    state.reusedSocket = false;
    state.handshakeDone = false;
    state.upstreamConnectMs = -1;
    const req = state.req as IncomingMessage;
    req.url = joinBasePath(backend.basePath, state.upstreamPath);
    if (!backend.route.forwardHost) req.headers.host = backend.hostHeader;
    if (FORWARD_WITH_NODE_HTTP) this.forwardWithNodeHttp(state, backend, req);
    else {
      const options = state.http2
        ? backend.proxyOptionsH2
        : state.bodiless
          ? backend.proxyOptionsNoBody
          : backend.proxyOptions;
      this.proxy.web(req, state.res as ServerResponse, options);
    }
  }

  /**
   * The same forward with Node's http.request instead of http-proxy-3, for measuring what the
   * library costs (issue 9: GATEHOUSE_FORWARDER=node-http). Same agents, timeouts, headers, events.
   */
  private forwardWithNodeHttp(state: RequestState, backend: CompiledBackend, req: IncomingMessage): void {
    const headers = req.headers;
    // Read first: on an HTTP/2 compat request `url` is the `:path` pseudo-header removed below.
    const path = req.url;
    if (state.http2) {
      const authority = headers[':authority'];
      for (const name of H2_PSEUDO_HEADERS) delete headers[name];
      if (headers.host === undefined && typeof authority === 'string') headers.host = authority;
    }
    const target = backend.proxyOptions.target;
    const proxyReq = (backend.tls ? httpsRequest : httpRequest)({
      host: target.hostname,
      port: target.port,
      method: req.method,
      path,
      headers,
      agent: backend.proxyOptions.agent,
    });
    (proxyReq as unknown as Carrier)[kState] = state;
    proxyReq.on('socket', onNodeHttpSocket);
    proxyReq.on('response', onNodeHttpResponse);
    proxyReq.on('error', onNodeHttpError);
    req.on('error', onClientRequestError);
    req.pipe(proxyReq);
  }

  /** node:http path: the same handling as http-proxy-3's events. */
  upstreamSocket(proxyReq: ClientRequestLike, req: IncomingMessage, socket: Socket): void {
    this.onProxyReq(proxyReq, req, socket);
  }
  upstreamResponse(proxyRes: IncomingMessage, req: IncomingMessage, res: ServerResponse): void {
    this.onProxyRes(proxyRes, req, res);
  }
  upstreamError(err: Error & { code?: string }, req: IncomingMessage, res: unknown): void {
    this.onProxyError(err, req, res);
  }

  private onProxyReq(proxyReq: ClientRequestLike, req: IncomingMessage, socket: Socket | null): void {
    const state = (req as unknown as Carrier)[kState];
    if (state === undefined) return;
    state.proxyReq = proxyReq;
    state.reusedSocket = proxyReq.reusedSocket;
    bindUpstreamRequest(req, proxyReq);
    const sock = socket ?? proxyReq.socket;
    if (state.reusedSocket) {
      state.handshakeDone = true;
      state.upstreamConnectMs = 0;
    } else if (sock?.connecting) {
      // Only until connected: a pooled socket must not keep an old request alive.
      (sock as unknown as Carrier)[kState] = state;
      if (state.backend?.tls) sock.once('secureConnect', onUpstreamSecureConnect);
      else sock.once('connect', onUpstreamConnect);
    }
    if (!state.req.headers.upgrade) {
      proxyReq.setTimeout(state.generation.timeouts.upstreamResponseMs);
      proxyReq.on('timeout', onUpstreamTimeout);
    }
  }

  private onProxyRes(proxyRes: IncomingMessage, req: IncomingMessage, res: ServerResponse): void {
    const state = (req as unknown as Carrier)[kState];
    if (state === undefined) return;
    state.responded = true;
    const now = performance.now();
    state.upstreamResponseMs = now - state.upstreamStart;
    // From here the body streams at the backend's pace; the idle timeout of the pool applies again.
    state.proxyReq?.setTimeout(0);
    const backend = state.backend;
    if (backend !== null) {
      if (REQUEST_METRICS) backend.upstreamDuration.observe(state.upstreamResponseMs / 1000);
      const status = proxyRes.statusCode ?? 0;
      if (status >= 500 && backend.route.passive5xx) this.passive.failure(backend, 'http_5xx');
      else this.passive.success(backend);
    }
    if (state.http2) {
      // http-proxy-3 writes this one through the compat API, from the header object.
      stripResponseHopByHop(proxyRes.headers);
      stripH2ResponseHeaders(proxyRes.headers);
      // node:http2 keeps no byte count per stream, and a streamed body has no Content-Length: count
      // the body as it passes (nginx's $body_bytes_sent).
      (proxyRes as unknown as Carrier)[kState] = state;
      state.h2BodyBytes = 0;
      proxyRes.on('data', countH2BodyBytes);
      return;
    }
    // HTTP/1 (selfHandleResponse): the head goes out from the raw list in one writeHead, then the
    // body is piped; the header object of the backend response is never even built.
    if (state.closed || res.headersSent) {
      proxyRes.resume();
      return;
    }
    (proxyRes as unknown as Carrier)[kState] = state;
    proxyRes.once('end', onUpstreamEnd);
    try {
      res.writeHead(
        proxyRes.statusCode ?? 502,
        proxyRes.statusMessage,
        clientResponseHeaders(proxyRes.rawHeaders, this.draining) as unknown as http.OutgoingHttpHeaders,
      );
    } catch (error) {
      this.logger.warn({ err: error, reqId: state.requestId }, 'backend response head refused');
      proxyRes.destroy();
      res.destroy();
      return;
    }
    proxyRes.pipe(res);
  }

  private onProxyEnd(_req: IncomingMessage, res: ServerResponse, proxyRes: IncomingMessage): void {
    // HTTP/2 path (http-proxy-3 pipes): trailers are not part of the body, copy them before the end.
    if (res.headersSent && proxyRes.rawTrailers.length > 0 && !res.writableEnded && !isSelfHandled(res)) {
      res.addTrailers(proxyRes.trailers);
    }
  }

  private onProxyError(err: Error & { code?: string }, req: IncomingMessage, res: unknown): void {
    try {
      const state = (req as unknown as Carrier)[kState];
      if (state === undefined) {
        destroyQuietly(res);
        return;
      }
      if (state.closed || state.clientAborted) return;
      if (bodyLimitExceeded(req)) return;
      const backend = state.backend;
      if (backend === null) {
        this.respond(state, ERROR_KINDS.internal, null);
        return;
      }
      const kind = classifyUpstreamError(err, backend.clientCert, state.handshakeDone || state.reusedSocket);
      metrics.upstreamErrors.inc({
        route: backend.route.name,
        backend: backend.endpoint,
        reason: kind.reason ?? 'reset',
      });
      this.passive.failure(backend, kind.reason ?? 'reset');
      state.errorCode = kind.code;
      if (this.shouldRetry(state, kind)) {
        const next = backend.route.balancer.pick(Date.now(), backend);
        if (next !== null) {
          state.retries++;
          this.dispatch(state, next);
          return;
        }
      }
      if (isUpgradeSocket(res)) {
        rawFailure(state, res as Socket, kind);
        return;
      }
      this.respond(state, kind, null);
    } catch (error) {
      this.logger.error({ err: error }, 'upstream error handling failed');
      destroyQuietly(res);
    }
  }

  private shouldRetry(state: RequestState, kind: ErrorKind): boolean {
    if (!state.retryable || state.responded || state.retries >= (state.route?.retryAttempts ?? 0)) return false;
    if (state.res.headersSent) return false;
    const route = state.route as CompiledRoute;
    if (kind === ERROR_KINDS.upstreamConnect || kind === ERROR_KINDS.upstreamConnectTimeout)
      return route.retryOnConnect;
    // Only idempotent requests without a body get here, so a reset before any response byte is safe to
    // retry whether the socket was fresh or reused (nginx's proxy_next_upstream error, Envoy's reset).
    if (kind === ERROR_KINDS.upstreamReset) return route.retryOnReset;
    return false;
  }

  private respond(state: RequestState, e: ErrorDescription, extras: ErrorExtras | null): void {
    if (state.closed) return;
    if (e.code !== undefined) state.errorCode = e.code;
    const close = this.draining || extras === CLOSE;
    let x = extras;
    if (close && x !== CLOSE) x = { ...(x ?? {}), close: true };
    sendError(
      state.res as unknown as Parameters<typeof sendError>[0],
      e,
      state.routeName,
      state.requestId || requestIdFor(undefined),
      state.req.headers.accept,
      state.http2,
      x,
    );
  }

  /** Runs once per request when its response closes (finished or aborted). */
  finish(state: RequestState): void {
    this.inflight--;
    const res = state.res;
    const finished = res.writableFinished;
    if (!finished) {
      state.clientAborted = true;
      if (FORWARD_WITH_NODE_HTTP) state.proxyReq?.destroy();
    }
    state.status = finished ? res.statusCode : CLIENT_CLOSED_STATUS;
    const end = performance.now();
    state.durationMs = end - state.start;
    state.bytes =
      state.socket !== null
        ? state.socket.bytesWritten - state.bytesAtStart
        : state.h2BodyBytes >= 0
          ? state.h2BodyBytes
          : Number((res as Http2ServerResponse).getHeader('content-length') ?? 0);
    if (REQUEST_METRICS) {
      const rm: RouteMetrics = state.route?.metrics ?? state.generation.noRouteMetrics;
      rm.countRequest(methodIndex(state.method), state.status);
      rm.duration.observe(state.durationMs / 1000);
    }
    countServed();
    if (this.accessLog) this.log(state);
  }

  private log(state: RequestState): void {
    const tlsSocket = tlsSocketOf(state.req as IncomingMessage);
    if (tlsSocket !== null) {
      state.tlsVersion = tlsSocket.getProtocol();
      state.tlsResumed = tlsSocket.isSessionReused();
      state.clientSubject = peerIdentity(tlsSocket)?.subject ?? null;
    }
    writeAccessLine(this.logger, state);
  }

  // ---- WebSocket upgrades ----

  private upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    socket.on('error', noop);
    const generation = this.generation;
    const state = new RequestState(generation, req, null as unknown as AnyResponse, performance.now());
    (req as unknown as Carrier)[kState] = state;
    this.inflight++;
    (socket as unknown as Carrier)[kState] = state;
    socket.once('close', onUpgradeSocketClose);
    try {
      state.requestId = requestIdFor(req.headers['x-request-id']);
      const rejection = rejectRequest(req, generation.limits);
      if (rejection !== null) return void rawFailure(state, socket, rejection);
      const url = originForm(req.url ?? '/');
      const host = req.headers.host;
      const index = generation.router.lookup(host, state.method, url);
      if (index < 0) {
        return void rawFailure(state, socket, index === NO_ROUTE ? ERROR_KINDS.noRoute : ERROR_KINDS.methodNotAllowed);
      }
      const route = generation.routes[index] as CompiledRoute;
      state.route = route;
      state.routeName = route.name;
      if (generation.clientAuthActive) {
        const denial = checkClientAuth(generation.clientAuth, route.name, req);
        if (denial !== null) return void rawFailure(state, socket, denial);
      }
      const backend = route.balancer.pick(Date.now(), null);
      if (backend === null) return void rawFailure(state, socket, ERROR_KINDS.noHealthyBackend);
      // Connection/Upgrade are what the upgrade is made of: keep them, drop the other hop-by-hop fields.
      const { connection, upgrade } = req.headers;
      stripHopByHop(req.headers);
      req.headers.connection = connection;
      req.headers.upgrade = upgrade;
      setForwardingHeaders(
        req.headers,
        generation.trusted,
        socket.remoteAddress,
        (socket as TLSSocket).encrypted === true,
        state.requestId,
        route.forwardHost ? null : backend.hostHeader,
      );
      applyClientIdentity(route.identity, req, req.headers);
      state.upstreamPath = route.rewrite === null ? url : rewritePath(url, route.prefix, route.rewrite);
      state.backend = backend;
      state.backendEndpoint = backend.endpoint;
      state.upstreamStart = performance.now();
      req.url = joinBasePath(backend.basePath, state.upstreamPath);
      this.proxy.ws(req, socket, head, backend.proxyOptions);
      state.status = 101;
    } catch (error) {
      this.logger.error({ err: error }, 'upgrade handling failed');
      socket.destroy();
    }
  }

  /** Counts and logs an upgraded connection when its client socket closes. */
  closeUpgrade(state: RequestState): void {
    this.inflight--;
    state.durationMs = performance.now() - state.start;
    if (state.status === 0) state.status = CLIENT_CLOSED_STATUS;
    const rm: RouteMetrics = state.route?.metrics ?? state.generation.noRouteMetrics;
    rm.countRequest(methodIndex(state.method), state.status);
    countServed();
    if (this.accessLog) writeAccessLine(this.logger, state);
  }
}

function onUpgradeSocketClose(this: Socket): void {
  const state = (this as unknown as Carrier)[kState];
  if (state !== undefined) theForwarder?.closeUpgrade(state);
}

/** Marker: answer and ask an HTTP/1 client to close the connection. */
const CLOSE: ErrorExtras = Object.freeze({ close: true });

function isUpgradeSocket(res: unknown): boolean {
  return typeof (res as { writeHead?: unknown }).writeHead !== 'function';
}

/** An error on a socket that is not (yet) an HTTP response: a raw response line, then close. */
function rawFailure(state: RequestState, socket: Socket, e: ErrorDescription): void {
  state.status = e.status;
  state.errorCode = e.code;
  if (socket.destroyed) return;
  if (socket.writable) {
    socket.end(`HTTP/1.1 ${e.status} ${e.code}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  }
  socket.destroySoon?.();
}

function destroyQuietly(res: unknown): void {
  const d = res as { destroy?: () => void } | null;
  d?.destroy?.();
}
