// The body of a backend response relayed to an HTTP/1 client (selfHandleResponse), in place of
// `proxyRes.pipe(res)`: a pipe adds seven listeners to the two streams and emits 'pipe', then takes
// them off again and emits 'unpipe', for every response, most of which are one chunk. Here the
// backend response carries one shared 'data' listener; the client response gets a shared 'drain'
// listener only once a write fills its buffer; the end comes through http-proxy-3's 'end' event
// (onProxyEnd), which is emitted after the last chunk. What a pipe does beyond that is not needed
// here: a client that goes away closes the response, and the request's close (completion.ts) and
// http-proxy-3 destroy the upstream request, which stops the body. A backend that breaks off
// mid-body ends nothing (neither did a pipe): the client response is destroyed
// (onUpstreamBodyError), or the client would wait for the rest for as long as it cares to.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ERROR_KINDS } from '../errors.ts';
import type { RequestState } from './request-state.ts';

/** Starts relaying `proxyRes`'s body to `res`, whose head is written. */
export function relayBody(state: RequestState, proxyRes: IncomingMessage): void {
  state.upstreamResponse = proxyRes;
  proxyRes.on('data', relayChunk);
  proxyRes.on('error', onUpstreamBodyError);
}

/**
 * The backend response broke off before its end (this = the backend response; node:http emits
 * 'error' only when someone listens). HTTP/1 and HTTP/2 alike: the client response is cut, so the
 * client sees a short body as broken, not as one still coming.
 */
export function onUpstreamBodyError(this: IncomingMessage): void {
  const state = this.requestState;
  if (state === undefined) return;
  if (state.upstreamResponse === this) state.upstreamResponse = null;
  const res = state.res;
  if (res === null || res.destroyed || res.writableFinished) return;
  state.errorCode = ERROR_KINDS.upstreamReset.code;
  res.destroy();
}

/** (this = the backend response) */
function relayChunk(this: IncomingMessage, chunk: Buffer): void {
  const state = this.requestState;
  if (state === undefined) return;
  const res = state.res as ServerResponse;
  // Gone or already answered otherwise: the upstream request is being destroyed.
  if (res.writableEnded || res.destroyed) return;
  if (res.write(chunk)) return;
  this.pause();
  if (!state.drainListener) {
    state.drainListener = true;
    res.on('drain', onClientDrain);
  }
}

/** (this = the client response) */
function onClientDrain(this: ServerResponse): void {
  this.requestState?.upstreamResponse?.resume();
}

/**
 * The backend response ended: its trailers, then the end of the client response. False when this
 * response is not one being relayed (replaced, refused, or answered while it came).
 */
export function endRelay(state: RequestState, proxyRes: IncomingMessage, res: ServerResponse): boolean {
  if (state.upstreamResponse !== proxyRes) return false;
  state.upstreamResponse = null;
  if (res.writableEnded || res.destroyed) return true;
  if (proxyRes.rawTrailers.length > 0) res.addTrailers(proxyRes.trailers);
  res.end();
  return true;
}
