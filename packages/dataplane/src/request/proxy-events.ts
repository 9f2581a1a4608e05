// http-proxy-3's events for one forwarded request: the upstream request starts (timings, response
// deadline), the backend answers (passive health, the response head), the body ends (trailers), or
// the attempt fails (classify, count, retry or answer). Every handler is one shared function that
// finds the request by its `requestState`; nothing here allocates per request on success.
import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { stripH2ResponseHeaders } from '../edge/http2.ts';
import { ERROR_KINDS } from '../errors.ts';
import { metrics } from '../metrics.ts';
import { shouldRetry } from '../upstream/retry.ts';
import { classifyUpstreamError } from '../upstream/upstream-error.ts';
import { endRelay, onUpstreamBodyError, relayBody } from './body-relay.ts';
import { clientResponseHeaders, stripResponseHopByHop } from './headers.ts';
import { type ErrorReplacer, shapeHead, shapeHeaderObject } from '../middleware/response-phase.ts';
import { refuse, writeReplacement } from './refusal.ts';
import { type RequestState, UPSTREAM_TIMEOUT } from './request-state.ts';
import { ResponseDeadlines } from '../upstream/response-deadlines.ts';

export function onProxyReq(
  proxyReq: ClientRequest,
  req: IncomingMessage,
  _res: unknown,
  _options: unknown,
  socket: Socket | null,
): void {
  const state = req.requestState;
  if (state === undefined) return;
  state.proxyReq = proxyReq;
  state.reusedSocket = proxyReq.reusedSocket;
  // The body went over its limit before the upstream request existed.
  if (state.bodyExceeded) proxyReq.destroy();
  const sock = socket ?? proxyReq.socket;
  if (state.reusedSocket) {
    state.handshakeDone = true;
    state.upstreamConnectMs = 0;
  } else if (sock?.connecting) {
    // Only until connected: a pooled socket must not keep an old request alive.
    sock.requestState = state;
    if (state.backend?.tls) sock.once('secureConnect', onUpstreamSecureConnect);
    else sock.once('connect', onUpstreamConnect);
  }
  if (state.upgradeSocket !== null) return;
  const timeoutMs = state.generation.timeouts.upstreamResponseMs;
  if (timeoutMs <= 0) return;
  if (state.bodiless) state.forwarder.deadlines.start(state, timeoutMs);
  else {
    proxyReq.setTimeout(timeoutMs);
    proxyReq.on('timeout', onUpstreamTimeout);
  }
}

export function onProxyReqWs(proxyReq: ClientRequest, req: IncomingMessage): void {
  onProxyReq(proxyReq, req, null, null, null);
  const state = req.requestState;
  if (state === undefined) return;
  proxyReq.requestState = state;
  proxyReq.once('upgrade', onUpstreamUpgrade);
  proxyReq.once('response', onUpstreamRefusedUpgrade);
}

/** The backend switched protocols (this = the upstream request). */
function onUpstreamUpgrade(this: ClientRequest): void {
  const state = this.requestState;
  this.requestState = undefined;
  if (state === undefined) return;
  state.responded = true;
  state.status = 101;
}

/**
 * The backend answered the upgrade with an ordinary response (403, 426, a redirect): http-proxy-3
 * relays its status line and body to the client socket; the access line records that status.
 */
function onUpstreamRefusedUpgrade(this: ClientRequest, response: IncomingMessage): void {
  const state = this.requestState;
  this.requestState = undefined;
  if (state === undefined) return;
  state.responded = true;
  state.status = response.statusCode ?? 0;
}

/** (this = the upstream socket) */
function onUpstreamConnect(this: Socket): void {
  const state = this.requestState;
  this.requestState = undefined;
  if (state !== undefined) state.upstreamConnectMs = performance.now() - state.upstreamStart;
}
function onUpstreamSecureConnect(this: Socket): void {
  const state = this.requestState;
  this.requestState = undefined;
  if (state === undefined) return;
  state.handshakeDone = true;
  state.upstreamConnectMs = performance.now() - state.upstreamStart;
}

/** The response deadline (this = the upstream request). */
function onUpstreamTimeout(this: ClientRequest): void {
  this.destroy(UPSTREAM_TIMEOUT);
}

export function onProxyRes(proxyRes: IncomingMessage, req: IncomingMessage, res: ServerResponse): void {
  const state = req.requestState;
  if (state === undefined) return;
  state.responded = true;
  state.upstreamResponseMs = performance.now() - state.upstreamStart;
  // From here the body streams at the backend's pace with no deadline; once the socket is free again
  // the pool's idle sweep covers it.
  if (state.deadlineList !== null) ResponseDeadlines.stop(state);
  else state.proxyReq?.setTimeout(0);
  const backend = state.backend;
  if (backend !== null) {
    backend.upstreamDuration.observe(state.upstreamResponseMs / 1000);
    const status = proxyRes.statusCode ?? 0;
    if (status >= 500 && backend.route.passive5xx) state.forwarder.passive.failure(backend, 'http_5xx');
    else state.forwarder.passive.success(backend);
  }
  proxyRes.requestState = state;
  // Before either head is written: a replaced answer ends `res`, and http-proxy-3 then leaves it.
  if (state.errorReplacer !== null && !state.closed && !res.headersSent && replaceBackendError(state, proxyRes, res)) {
    return;
  }
  if (state.http2) {
    // http-proxy-3 writes this one through the compat API, from the header object.
    stripResponseHopByHop(proxyRes.headers);
    stripH2ResponseHeaders(proxyRes.headers);
    if (state.responseHeaders !== null) addResponseFields(proxyRes.headers, state.responseHeaders);
    if (state.responseShapers !== null) shapeHeaderObject(state, proxyRes.statusCode ?? 502, proxyRes.headers);
    // node:http2 keeps no byte count per stream, and a streamed body has no Content-Length: count
    // the body as it passes (nginx's $body_bytes_sent).
    state.h2BodyBytes = 0;
    proxyRes.on('data', countH2BodyBytes);
    proxyRes.on('error', onUpstreamBodyError);
    return;
  }
  // HTTP/1 (selfHandleResponse): the head goes out from the raw list in one writeHead, then the
  // body is relayed (body-relay.ts); the header object of the backend response is never even built.
  if (state.closed || res.headersSent) {
    proxyRes.resume();
    return;
  }
  try {
    // A flat [name, value, ...] list: what writeHead takes fastest.
    const head = clientResponseHeaders(proxyRes.rawHeaders, state.forwarder.draining);
    if (state.responseHeaders !== null) head.push(...state.responseHeaders);
    if (state.responseShapers !== null) shapeHead(state, proxyRes.statusCode ?? 502, head);
    res.writeHead(proxyRes.statusCode ?? 502, proxyRes.statusMessage, head);
  } catch (error) {
    state.forwarder.logger.warn({ err: error, reqId: state.requestId }, 'backend response head refused');
    proxyRes.destroy();
    res.destroy();
    return;
  }
  relayBody(state, proxyRes);
}

/**
 * errorInterceptor on a backend answer: a listed status with a small, known-length body is answered
 * with the replacement; the backend's body is read and dropped, never buffered. True when replaced.
 */
function replaceBackendError(state: RequestState, proxyRes: IncomingMessage, res: ServerResponse): boolean {
  const status = proxyRes.statusCode ?? 502;
  const length = proxyRes.headers['content-length'];
  const chunked = proxyRes.headers['transfer-encoding'] !== undefined;
  const replacement = (state.errorReplacer as ErrorReplacer).replacement(
    status,
    length === undefined ? null : Number(length),
    chunked,
  );
  if (replacement === null) return false;
  proxyRes.resume();
  writeReplacement(state, res, status, replacement);
  return true;
}

/** A middleware's response fields (Set-Cookie from forwardAuth) added to a header object. */
function addResponseFields(headers: IncomingMessage['headers'], fields: readonly string[]): void {
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i] as string;
    const value = fields[i + 1] as string;
    const existing = headers[name];
    if (existing === undefined) headers[name] = name === 'set-cookie' ? [value] : value;
    else if (Array.isArray(existing)) existing.push(value);
    else headers[name] = `${existing}, ${value}`;
  }
}

/** (this = a backend response relayed to an HTTP/2 client) */
function countH2BodyBytes(this: IncomingMessage, chunk: Buffer): void {
  const state = this.requestState;
  if (state !== undefined) state.h2BodyBytes += chunk.length;
}

/**
 * The backend response ended. HTTP/1: the relay ends the client response, after the trailers.
 * HTTP/2 (http-proxy-3 pipes, and ends after this event): trailers are not part of the body, copy them.
 */
export function onProxyEnd(req: IncomingMessage, res: ServerResponse, proxyRes: IncomingMessage): void {
  const state = req.requestState;
  if (state === undefined) return;
  if (!state.http2) {
    endRelay(state, proxyRes, res);
    return;
  }
  if (res.headersSent && proxyRes.rawTrailers.length > 0 && !res.writableEnded) res.addTrailers(proxyRes.trailers);
}

export function onProxyReset(_err: Error, req: IncomingMessage): void {
  const state = req.requestState;
  if (state !== undefined) state.clientAborted = true;
}

export function onProxyError(err: unknown, req: IncomingMessage, res: ServerResponse | Socket): void {
  const state = req.requestState;
  if (state === undefined) {
    res.destroy();
    return;
  }
  ResponseDeadlines.stop(state);
  try {
    if (state.closed || state.clientAborted || state.bodyExceeded) return;
    const backend = state.backend;
    if (backend === null) {
      refuse(state, ERROR_KINDS.internal, null);
      return;
    }
    const kind = classifyUpstreamError(
      err as NodeJS.ErrnoException,
      backend.clientCert,
      state.handshakeDone || state.reusedSocket,
    );
    const label = kind.metricLabel ?? 'reset';
    metrics.upstreamErrors.inc({ route: backend.route.name, backend: backend.endpoint, reason: label });
    state.forwarder.passive.failure(backend, label);
    state.errorCode = kind.code;
    if (shouldRetry(state, kind, state.res?.headersSent ?? true)) {
      const next = (state.pool ?? backend.route.balancer).pick(Date.now(), backend);
      if (next !== null) {
        state.retries++;
        state.forwarder.dispatch(state, next);
        return;
      }
    }
    refuse(state, kind, null);
  } catch (error) {
    state.forwarder.logger.error({ err: error }, 'upstream error handling failed');
    res.destroy();
  }
}
