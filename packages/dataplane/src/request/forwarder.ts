// The request path of one worker: admit → prepare → dispatch to http-proxy-3 → the backend.
//
// One ProxyServer per worker, created once. Per request we pass the backend's precompiled options
// object; everything request-specific lives in the request's RequestState, and every listener
// (proxy events, res 'close', socket 'connect') is a shared function that finds it there.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { createProxyServer, type ProxyServer } from 'http-proxy-3';
// The web passes themselves: ProxyServer.web() would copy the options object, attach a closure and
// build a debug-log object for every request before calling them.
import { deleteLength, stream } from 'http-proxy-3/dist/lib/http-proxy/passes/web-incoming.js';
import type { Logger } from '../access-log.ts';
import { ERROR_KINDS } from '../errors.ts';
import type { Generation } from '../generation.ts';
import type { CompiledBackend } from '../upstream/compiled-backend.ts';
import type { PassiveMessage } from '../messages.ts';
import { PassiveReporter } from '../upstream/passive-reporter.ts';
import { ResponseDeadlines } from '../upstream/response-deadlines.ts';
import { isIdempotent } from '../upstream/retry.ts';
import { admit, admitAfterChain, IN_CHAIN, pickBackend } from './admission.ts';
import { hasNoBody } from './body-limit.ts';
import { onResponseClose, onUpgradeSocketClose } from './completion.ts';
import { prepareForward } from './prepare-forward.ts';
import { onProxyEnd, onProxyError, onProxyReq, onProxyReqWs, onProxyRes, onProxyReset } from './proxy-events.ts';
import { refuse } from './refusal.ts';
import { type ClientRequestMessage, type ClientResponse, RequestState } from './request-state.ts';
import type { MonitoringResponder } from './monitoring-responder.ts';
import { joinBasePath } from './router.ts';

export interface ForwarderOptions {
  sendPassive: (message: PassiveMessage) => void;
  logger: Logger;
  /** Answers /healthz, /readyz, /healthz/routes and the metrics path; null: none on this worker. */
  monitoring?: MonitoringResponder | null;
}

function noop(): void {}

export class Forwarder {
  /** Swapped by the worker on gh:commit: the one assignment that moves traffic to a new generation. */
  generation: Generation;
  logger: Logger;
  accessLog: boolean;
  draining = false;
  inflight = 0;
  readonly passive: PassiveReporter;
  /** Upstream response deadlines of bodiless requests (upstream/response-deadlines.ts). */
  readonly deadlines = new ResponseDeadlines();
  readonly monitoring: MonitoringResponder | null;
  readonly proxy: ProxyServer;
  readonly handleRequest: (req: ClientRequestMessage, res: ClientResponse) => void;
  readonly handleUpgrade: (req: IncomingMessage, socket: Socket, head: Buffer) => void;

  constructor(generation: Generation, options: ForwarderOptions) {
    this.generation = generation;
    this.logger = options.logger;
    this.accessLog = generation.config.gateway.log.accessLog;
    this.passive = new PassiveReporter(options.sendPassive);
    this.monitoring = options.monitoring ?? null;
    this.proxy = createProxyServer<typeof IncomingMessage, typeof ServerResponse, Error>({
      xfwd: false,
      toProxy: true,
      prependPath: false,
      ws: true,
    });
    this.proxy.on('proxyReq', onProxyReq);
    this.proxy.on('proxyReqWs', onProxyReqWs);
    this.proxy.on('proxyRes', onProxyRes);
    this.proxy.on('end', onProxyEnd);
    this.proxy.on('error', onProxyError);
    this.proxy.on('econnreset', onProxyReset);
    this.handleRequest = (req, res) => this.request(req, res);
    this.handleUpgrade = (req, socket, head) => this.upgrade(req, socket, head);
  }

  private request(req: ClientRequestMessage, res: ClientResponse): void {
    const state = new RequestState(this, this.generation, req, res, null, performance.now());
    req.requestState = state;
    res.requestState = state;
    this.inflight++;
    res.on('close', onResponseClose);
    try {
      const backend = admit(state);
      if (backend === null || backend === IN_CHAIN) return;
      this.forward(state, backend);
    } catch (error) {
      this.logger.error({ err: error, reqId: state.requestId }, 'request handling failed');
      refuse(state, ERROR_KINDS.internal, null);
    }
  }

  /** Continues a request whose middleware chain passed (at once, or when an async step settled). */
  afterChain(state: RequestState): void {
    try {
      const backend = admitAfterChain(state);
      if (backend !== null) this.forward(state, backend);
    } catch (error) {
      this.logger.error({ err: error, reqId: state.requestId }, 'request handling failed');
      if (state.upgradeSocket !== null) state.upgradeSocket.destroy();
      else refuse(state, ERROR_KINDS.internal, null);
    }
  }

  /** Continues a request whose XML body was read and found well-formed (exploit protection). */
  afterBodyCheck(state: RequestState): void {
    try {
      const backend = pickBackend(state);
      if (backend !== null) this.forward(state, backend);
    } catch (error) {
      this.logger.error({ err: error, reqId: state.requestId }, 'request handling failed');
      refuse(state, ERROR_KINDS.internal, null);
    }
  }

  /** An admitted request to its backend: the forwarded form, then the dispatch. */
  private forward(state: RequestState, backend: CompiledBackend): void {
    const tooLarge = prepareForward(state, backend);
    if (tooLarge !== null) return void refuse(state, tooLarge, null);
    if (state.upgradeSocket !== null) {
      // The status is the backend's answer: 101 on 'upgrade', its refusal on 'response' (proxy-events.ts).
      this.dispatch(state, backend);
      return;
    }
    const noBody = hasNoBody(state.req);
    state.bodiless = !state.http2 && noBody;
    state.retryable = noBody && (state.route?.retryAttempts ?? 0) > 0 && isIdempotent(state.method);
    this.dispatch(state, backend);
  }

  private upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    socket.on('error', noop);
    const state = new RequestState(this, this.generation, req, null, socket, performance.now());
    req.requestState = state;
    socket.requestState = state;
    state.upgradeHead = head;
    this.inflight++;
    socket.once('close', onUpgradeSocketClose);
    try {
      const backend = admit(state);
      if (backend === null || backend === IN_CHAIN) return;
      this.forward(state, backend);
    } catch (error) {
      this.logger.error({ err: error }, 'upgrade handling failed');
      socket.destroy();
    }
  }

  /** Sends the request to `backend` (again, on a retry). */
  dispatch(state: RequestState, backend: CompiledBackend): void {
    state.backend = backend;
    state.backendEndpoint = backend.endpoint;
    state.upstreamStart = performance.now();
    ResponseDeadlines.stop(state);
    state.proxyReq = null;
    state.reusedSocket = false;
    state.handshakeDone = false;
    state.upstreamConnectMs = -1;
    const req = state.req as IncomingMessage;
    req.url = joinBasePath(backend.basePath, state.upstreamPath);
    if (!backend.route.forwardHost) {
      req.headers.host = backend.hostHeader;
      // http-proxy-3 makes the upstream Host from an HTTP/2 request's :authority.
      if (state.http2) req.headers[':authority'] = backend.hostHeader;
    }
    const res = state.res;
    if (res === null) {
      this.proxy.ws(req, state.upgradeSocket, state.upgradeHead, backend.proxyOptions);
      return;
    }
    let options = state.http2
      ? backend.proxyOptionsH2
      : state.bodiless
        ? backend.proxyOptionsNoBody
        : backend.proxyOptions;
    // A body read for a check (exploit protection's XML) is sent from memory: the stream is spent.
    if (state.bufferedBody !== null) options = { ...options, buffer: Readable.from([state.bufferedBody]) };
    // What proxy.web() runs for these options (xfwd off, no timeout option): the DELETE/OPTIONS
    // length fix, then the stream pass, with the backend's precompiled options as they are.
    deleteLength(req);
    stream(req, res as ServerResponse, options as Parameters<typeof stream>[2], undefined, this.proxy, undefined);
  }
}
