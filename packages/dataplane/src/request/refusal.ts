// The one writer of the gateway's own answers: every refusal (routing, guard, client auth,
// middleware, body limit) and every upstream failure goes through refuse(), on a response object or,
// for a WebSocket upgrade, on the raw socket. It records the status and code for the access line.
// redirect() is the same for the one non-error answer the gateway gives itself.
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { ErrorKind } from '../errors.ts';
import { type ErrorReplacement, shapeHeaderObject } from '../middleware/response-phase.ts';
import {
  type ErrorExtras,
  type ErrorTarget,
  errorBody,
  errorHead,
  rawErrorResponse,
  reasonPhrase,
  sendError,
  wantsText,
} from './error-response.ts';
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
  if (state.responseShapers !== null || state.errorReplacer !== null || kind.status === 204) {
    answerShaped(state, res, kind, x);
    return null;
  }
  sendError(res, kind, state.routeName, state.requestId, state.req.headers.accept, state.http2, x);
  return null;
}

/**
 * The gateway's own answer on a route whose middlewares shape responses: the error body (or the
 * errorInterceptor's replacement), then the response-header steps, as for a backend's answer. A
 * 204 (a CORS preflight) has no body.
 */
function answerShaped(state: RequestState, res: ErrorTarget, kind: ErrorKind, extras: ErrorExtras | null): void {
  if (res.headersSent) {
    if (!res.writableEnded) res.destroy();
    return;
  }
  const replacement =
    kind.status >= 400 && state.errorReplacer !== null ? state.errorReplacer.replacement(kind.status, 0, false) : null;
  if (replacement !== null) {
    writeReplacement(state, res, kind.status, replacement, kind, extras);
    return;
  }
  let body = '';
  let headers: OutgoingHttpHeaders;
  if (kind.status === 204) {
    headers = { ...(extras?.headers ?? {}) } as OutgoingHttpHeaders;
    headers['x-request-id'] = state.requestId;
  } else {
    const text = wantsText(state.req.headers.accept);
    body = errorBody(kind, state.routeName, state.requestId, text);
    headers = errorHead(body, text, state.requestId, extras, state.http2);
  }
  shapeHeaderObject(state, kind.status, headers as Record<string, unknown>);
  res.writeHead(kind.status, headers as Record<string, string | number>);
  res.end(body);
}

/** An error answer whose body an errorInterceptor replaces (the backend's, or the gateway's own). */
export function writeReplacement(
  state: RequestState,
  res: ErrorTarget,
  status: number,
  replacement: ErrorReplacement,
  kind: ErrorKind | null = null,
  extras: ErrorExtras | null = null,
): void {
  let body = replacement.body;
  let contentType = replacement.contentType;
  if (body === null) {
    const text = wantsText(state.req.headers.accept);
    const own = kind ?? { status, code: 'GH_UPSTREAM_STATUS', message: reasonPhrase(status), metricLabel: null };
    body = errorBody(own, state.routeName, state.requestId, text);
    contentType = text ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8';
  }
  const headers: Record<string, unknown> = {
    ...(extras?.headers ?? {}),
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    'x-request-id': state.requestId,
  };
  if (extras?.retryAfterSeconds !== undefined) headers['retry-after'] = extras.retryAfterSeconds;
  shapeHeaderObject(state, status, headers);
  res.writeHead(status, headers as Record<string, string | number>);
  res.end(body);
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
