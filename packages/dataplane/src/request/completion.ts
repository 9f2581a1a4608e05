// The end of a request: when its response closes (finished or cut) or its upgraded socket closes,
// count it, take its status, bytes and duration, and write the access line.
import type { Http2ServerResponse } from 'node:http2';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { writeAccessLine } from '../access-log.ts';
import { countServed, methodIndex } from '../metrics.ts';
import { peerIdentity, tlsSocketOf } from '../tls/client-identity.ts';
import { CLIENT_CLOSED_STATUS, type ClientResponse, type RequestState } from './request-state.ts';

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
  if (state.status === 0) state.status = CLIENT_CLOSED_STATUS;
  state.durationMs = performance.now() - state.start;
  record(state);
}

/** Runs once per request when its response closes. */
function finishRequest(state: RequestState): void {
  const res = state.res as ClientResponse;
  const finished = res.writableFinished;
  if (!finished) state.clientAborted = true;
  state.status = finished ? res.statusCode : CLIENT_CLOSED_STATUS;
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
      state.tlsVersion = tlsSocket.getProtocol();
      state.tlsResumed = tlsSocket.isSessionReused();
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
