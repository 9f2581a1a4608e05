// The route's request-body limit, enforced while the body streams: a declared Content-Length over
// the limit is refused before anything is forwarded; otherwise bytes are counted as they pass, and
// going over stops feeding the backend, answers 413 (HTTP/1: with `Connection: close`) if nothing
// was sent yet, and destroys the upstream request. The listener is one shared function; the count
// lives in the RequestState.
import { parseContentLength } from '../edge/field-syntax.ts';
import { ERROR_KINDS, type ErrorKind } from '../errors.ts';
import { CLOSE, refuse } from './refusal.ts';
import type { ClientRequestMessage, RequestState } from './request-state.ts';

/** A request without a body: no Transfer-Encoding, no Content-Length or a zero one. */
export function hasNoBody(req: ClientRequestMessage): boolean {
  const h = req.headers;
  if (h['transfer-encoding'] !== undefined) return false;
  const length = h['content-length'];
  return length === undefined || length === '0';
}

/**
 * Starts enforcing `maxBytes` (0 = unlimited) on the request body. Returns the body-too-large kind
 * when the declared Content-Length is already over the limit (answer it and do not forward).
 */
export function limitRequestBody(state: RequestState, maxBytes: number): ErrorKind | null {
  // A request without a body (most of them) needs no byte counting.
  if (maxBytes <= 0 || (!state.http2 && hasNoBody(state.req))) return null;
  const declared = state.req.headers['content-length'];
  if (typeof declared === 'string' && parseContentLength(declared) > maxBytes) return ERROR_KINDS.bodyTooLarge;
  state.bodyMax = maxBytes;
  state.req.on('data', countBody);
  return null;
}

function countBody(this: ClientRequestMessage, chunk: Buffer): void {
  const state = this.requestState;
  if (state === undefined || state.bodyExceeded) return;
  state.bodySeen += chunk.length;
  if (state.bodySeen <= state.bodyMax) return;
  state.bodyExceeded = true;
  this.off('data', countBody);
  this.unpipe();
  this.pause();
  refuse(state, ERROR_KINDS.bodyTooLarge, CLOSE);
  // Not yet sent upstream: the proxy-request listener destroys it as soon as it exists.
  state.proxyReq?.destroy();
}
