// The end of a request: when its response closes (finished or cut) or its upgraded socket closes,
// count it, take its status, bytes and duration, and write the access line.
import { constants as h2constants, type Http2ServerResponse } from 'node:http2';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { writeAccessLine } from '../access-log.ts';
import { h2StreamTimedOut } from '../edge/http2.ts';
import { countServed, methodIndex } from '../metrics.ts';
import { peerIdentity, tlsSocketOf } from '../tls/client-identity.ts';
import { handshakeFacts } from '../tls/handshake-facts.ts';
import { ResponseDeadlines } from '../upstream/response-deadlines.ts';
import { CLIENT_CLOSED_STATUS, type ClientResponse, type RequestState } from './request-state.ts';

const { NGHTTP2_NO_ERROR } = h2constants;
/** An h2 stream whose request did not arrive within `timeouts.request` (edge/http2.ts). */
const REQUEST_TIMEOUT_STATUS = 408;

/** Shared 'close' listener of every response (this = the response). */
export function onResponseClose(this: ClientResponse): void {
  const state = this.requestState;
  if (state === undefined) return;
  state.closed = true;
  finishRequest(state);
}

/** Shared 'close' listener of upgraded client sockets (this = the socket). */
export function onUpgradeSocketClose(this: Socket): void {
  const state = this.requestState;
  if (state === undefined) return;
  // An upgrade still in its middleware chain must not be forwarded once its client is gone.
  state.closed = true;
  if (state.status === 0) state.status = CLIENT_CLOSED_STATUS;
  state.durationMs = performance.now() - state.start;
  record(state);
}

/**
 * Did the response reach its end? An h2 compat response counts as finished once its stream closes,
 * whatever closed it; a stream the client reset, or that was refused mid-body, closes with an error
 * code instead of NO_ERROR.
 */
function responseFinished(state: RequestState, res: ClientResponse): boolean {
  if (!res.writableFinished) return false;
  if (!state.http2) return true;
  const rstCode = (res as Http2ServerResponse).stream?.rstCode;
  return rstCode === undefined || rstCode === NGHTTP2_NO_ERROR;
}

/** Runs once per request when its response closes. */
function finishRequest(state: RequestState): void {
  ResponseDeadlines.stop(state);
  const res = state.res as ClientResponse;
  const timedOut = state.http2 && h2StreamTimedOut((res as Http2ServerResponse).stream);
  const finished = !timedOut && responseFinished(state, res);
  if (!finished) {
    state.clientAborted = true;
    // Nobody will read the answer: free the backend connection now, not at upstreamResponse. Over
    // HTTP/1.1 http-proxy-3 does this on the client's 'aborted'; an h2 stream reset after its
    // request was complete raises none.
    const upstream = state.proxyReq;
    if (upstream !== null && !upstream.destroyed) upstream.destroy();
  }
  state.status = timedOut ? REQUEST_TIMEOUT_STATUS : finished ? res.statusCode : CLIENT_CLOSED_STATUS;
  state.durationMs = performance.now() - state.start;
  state.bytes =
    state.socket !== null
      ? state.socket.bytesWritten - state.bytesAtStart
      : state.h2BodyBytes >= 0
        ? state.h2BodyBytes
        : Number((res as Http2ServerResponse).getHeader('content-length') ?? 0);
  (state.route?.metrics ?? state.generation.noRouteMetrics).duration.observe(state.durationMs / 1000);
  if (state.forwarder.accessLog) {
    const tlsSocket = tlsSocketOf(state.req);
    if (tlsSocket !== null) {
      const facts = handshakeFacts(tlsSocket);
      state.tlsVersion = facts.version;
      state.tlsResumed = facts.resumed;
      state.clientSubject = peerIdentity(tlsSocket)?.subject ?? null;
    }
  }
  record(state);
}

function record(state: RequestState): void {
  const forwarder = state.forwarder;
  forwarder.inflight--;
  (state.route?.metrics ?? state.generation.noRouteMetrics).countRequest(methodIndex(state.method), state.status);
  countServed();
  if (forwarder.accessLog) writeAccessLine(forwarder.logger, state);
}
