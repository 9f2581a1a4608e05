// The one writer of the gateway's own answers: every refusal (routing, guard, client auth,
// middleware, body limit) and every upstream failure goes through refuse(), on a response object or,
// for a WebSocket upgrade, on the raw socket. It records the status and code for the access line.
// redirect() is the same for the one non-error answer the gateway gives itself.
import type { ServerResponse } from 'node:http';
import type { ErrorKind } from '../errors.ts';
import { type ErrorExtras, rawErrorResponse, sendError } from './error-response.ts';
import { requestIdFor } from './headers.ts';
import type { RequestState } from './request-state.ts';

/** Marker: answer and ask an HTTP/1 client to close the connection (a framing error, a body cut short). */
export const CLOSE: ErrorExtras = Object.freeze({ close: true });

/** Answers `kind` for this request. Returns null, so that a step can `return refuse(...)`. */
export function refuse(state: RequestState, kind: ErrorKind, extras: ErrorExtras | null): null {
  if (state.requestId === '') state.requestId = requestIdFor(undefined);
  const socket = state.upgradeSocket;
  if (socket !== null) {
    state.status = kind.status;
    state.errorCode = kind.code;
    if (socket.destroyed) return null;
    if (socket.writable) {
      socket.end(rawErrorResponse(kind, state.routeName, state.requestId, state.req.headers.accept, extras));
    }
    socket.destroySoon();
    return null;
  }
  const res = state.res;
  if (state.closed || res === null) return null;
  state.errorCode = kind.code;
  let x = extras;
  if (state.forwarder.draining && x !== CLOSE) x = { ...(x ?? {}), close: true };
  sendError(res, kind, state.routeName, state.requestId, state.req.headers.accept, state.http2, x);
  return null;
}

/** A permanent redirect the gateway answers itself (strictSlash). Returns null like refuse(). */
export function redirect(state: RequestState, location: string): null {
  const socket = state.upgradeSocket;
  if (socket !== null) {
    state.status = 301;
    if (socket.writable) {
      socket.end(
        `HTTP/1.1 301 Moved Permanently\r\nLocation: ${location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
      );
    }
    socket.destroySoon();
    return null;
  }
  const res = state.res;
  if (state.closed || res === null || res.headersSent) return null;
  (res as ServerResponse).writeHead(301, { location, 'content-length': '0' });
  res.end();
  return null;
}
