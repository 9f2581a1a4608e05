// The server's `clientError`: what llhttp refused, or a timeout, before a request object existed.
// A fixed answer with `Connection: close` (never a stack trace or the parser's message), then the
// socket closes.
import type { Duplex } from 'node:stream';
import { ERROR_KINDS } from '../errors.ts';
import { rawErrorResponse } from '../request/error-response.ts';

/**
 * The response in progress on an HTTP/1 server connection: Node's server keeps it on the socket as
 * `_httpMessage`, which no public type lists; null or undefined when the connection is idle.
 */
export function responseInProgress(socket: Duplex): { headersSent?: boolean } | null | undefined {
  return (socket as unknown as { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
}

/** Written whole and then the connection closes: no request exists yet, so no id and no route. */
const CLIENT_ERROR_RESPONSES = {
  400: Buffer.from(rawErrorResponse(ERROR_KINDS.malformed, null, null, undefined, null)),
  408: Buffer.from(rawErrorResponse(ERROR_KINDS.requestTimeout, null, null, undefined, null)),
  413: Buffer.from(rawErrorResponse(ERROR_KINDS.chunkExtensionsTooLarge, null, null, undefined, null)),
  414: Buffer.from(rawErrorResponse(ERROR_KINDS.targetTooLong, null, null, undefined, null)),
  431: Buffer.from(rawErrorResponse(ERROR_KINDS.headersTooLarge, null, null, undefined, null)),
} as const;

/** The status a parser or timeout error maps to; 0 means the peer is gone and nothing is written. */
export function clientErrorStatus(err: Error & { code?: string }): 0 | 400 | 408 | 413 | 414 | 431 {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return 431;
    case 'HPE_URI_TOO_LONG':
      return 414;
    case 'ERR_HTTP_REQUEST_TIMEOUT':
    case 'HPE_HEADERS_TIMEOUT':
      return 408;
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return 413;
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ECONNABORTED':
      return 0;
    default:
      return 400;
  }
}

const LINGER_MS = 2_000;

/**
 * Handler for the server's `clientError` event: a fixed response with `Connection: close`, never a
 * stack trace or the parser's message, then the socket is closed (destroyed after a short linger if
 * the client does not read). Returns the status written (0: none), for the caller's counters.
 */
export function onClientError(err: Error & { code?: string }, socket: Duplex): number {
  const status = clientErrorStatus(err);
  const responding = responseInProgress(socket)?.headersSent === true;
  if (status === 0 || !socket.writable || responding) {
    socket.destroy();
    return 0;
  }
  socket.end(CLIENT_ERROR_RESPONSES[status]);
  setTimeout(destroySocket, LINGER_MS, socket).unref();
  return status;
}

function destroySocket(socket: Duplex): void {
  if (!socket.destroyed) socket.destroy();
}
