// The HTTPS listener's server: HTTP/2 and HTTP/1.1 on one port (ALPN), with the edge's limits.
//
// Inbound h2 reaches the request handler as Http2ServerRequest/Http2ServerResponse compat objects.
// http-proxy-3 forwards those to HTTP/1.1 backends: it drops the pseudo-headers and sets Host from
// :authority. What nghttp2 does not refuse and an HTTP/1.1 hop must not see is refused by
// rejectH2Request (edge/framing-guard.ts); response headers that are illegal in h2 are removed by
// stripH2ResponseHeaders before the compat response would throw on them.
//
// Rapid reset (CVE-2023-44487): nghttp2's own stream-reset rate limit is set from the limits, and
// on top of it every session counts streams the peer cancels within a window; over the limit the
// session gets GOAWAY(ENHANCE_YOUR_CALM) and is destroyed. Counting uses one shared listener per
// stream and a small record on the session: no closure per stream.
import { H2_DROPPED_RESPONSE } from '../request/hop-by-hop.ts';
import http2 from 'node:http2';
import type { Server as NetServer } from 'node:net';
import type { LimitsConfig, TimeoutsConfig } from '@gatehouse/config';
import { onClientError } from './client-error.ts';

export type RequestHandler = (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void;

export interface EdgeLimits {
  limits: LimitsConfig;
  timeouts: TimeoutsConfig;
}

const { NGHTTP2_NO_ERROR, NGHTTP2_CANCEL, NGHTTP2_ENHANCE_YOUR_CALM } = http2.constants;

interface ResetWindow {
  start: number;
  resets: number;
  max: number;
  windowMs: number;
}

// The edge's state rides on the server, session and stream objects themselves, so the shared
// listeners below read it with one property access and no closure per session or stream.
declare module 'net' {
  interface Server {
    /** The limits applyEdgeLimits last applied; each new h2 session takes them. */
    edgeLimits?: EdgeLimits | undefined;
  }
}
declare module 'http2' {
  interface Http2Session {
    /** The limits the session was opened under (a new generation's apply to new sessions). */
    edgeLimits?: EdgeLimits | undefined;
    /** The peer's stream resets in the current window; unset when the limit is off. */
    h2ResetWindow?: ResetWindow | undefined;
  }
  interface Http2Stream {
    /** The stream's session: Node clears `stream.session` before 'close', when it is still needed. */
    owningSession?: Http2Session | undefined;
    /** The stream's request deadline (timeouts.request), until it fires or the request body ends. */
    requestDeadline?: NodeJS.Timeout | undefined;
    /** Set when the request deadline ended the stream. */
    requestTimedOut?: boolean | undefined;
  }
}

/** Used until applyEdgeLimits gives the configured ones: the config's own defaults. */
const DEFAULT_LIMITS: LimitsConfig = Object.freeze({
  maxHeaderBytes: 16 * 1024,
  maxHeaderCount: 100,
  maxUrlLength: 8 * 1024,
  maxBodyBytes: 10 * 1024 * 1024,
  maxConnectionsPerWorker: 10_000,
  maxConcurrentStreams: 100,
  h2MaxResetsPerWindow: 200,
  h2ResetWindowMs: 10_000,
});

/** Sessions closed for resetting too many streams, for the worker's metric. */
export const h2Stats = { sessionsClosedForResets: 0, streamsTimedOut: 0 };

/** h2 settings and server options derived from the limits. */
export function h2Options(limits: LimitsConfig): Partial<http2.SecureServerOptions> {
  return {
    allowHTTP1: true,
    settings: {
      maxConcurrentStreams: limits.maxConcurrentStreams,
      maxHeaderListSize: limits.maxHeaderBytes,
      enablePush: false,
    },
    maxSessionRejectedStreams: 100,
    maxSessionInvalidFrames: 1000,
    // nghttp2's own token bucket for peer-reset streams is the backstop, set at twice the window
    // limit, so that the counted window below (with its metric and GOAWAY) acts first.
    streamResetBurst: limits.h2MaxResetsPerWindow * 2,
    streamResetRate: Math.max(1, Math.ceil((limits.h2MaxResetsPerWindow * 2000) / Math.max(1, limits.h2ResetWindowMs))),
    maxSendHeaderBlockLength: 64 * 1024,
    peerMaxConcurrentStreams: limits.maxConcurrentStreams,
  } as Partial<http2.SecureServerOptions>;
}

/**
 * Switches of the HTTP/1 side that Node's h2 server passes on to its HTTP/1 connections, though its
 * option type does not list them. optimizeEmptyRequests: a request without Content-Length or
 * Transfer-Encoding starts with its body stream ended (no stream events for a body that is not there).
 */
const HTTP1_SIDE = { optimizeEmptyRequests: true } as Partial<http2.SecureServerOptions>;

/**
 * An h2 + HTTP/1.1 TLS server with the edge's limits applied. `options` are the TLS options
 * (SniStore.serverOptions()) plus any HTTP/1 switches: Node 24 takes headersTimeout,
 * requestTimeout, connectionsCheckingInterval, maxHeaderSize and requireHostHeader from them for
 * the HTTP/1 side too (test/edge/http2.test.ts holds it to that). `edge`: the limits and timeouts (the
 * same may be re-applied per generation with applyEdgeLimits).
 */
export function createSecureServer(
  options: http2.SecureServerOptions,
  handler: RequestHandler,
  edge?: EdgeLimits,
): http2.Http2SecureServer {
  const server = http2.createSecureServer(
    { ...h2Options(edge ? edge.limits : DEFAULT_LIMITS), ...HTTP1_SIDE, ...options, allowHTTP1: true },
    handler,
  );
  server.on('session', onSession);
  server.on('sessionError', onSessionError);
  // HTTP/1.1 connections on this server are parsed by llhttp: its errors land here.
  server.on('clientError', onClientError);
  if (edge) applyEdgeLimits(server, edge);
  return server;
}

/** What Node's HTTP/1 side reads from the server object; the h2 server's type does not list them. */
interface Http1Switches {
  maxHeaderSize?: number;
  maxHeadersCount?: number | null;
  headersTimeout?: number;
  requestTimeout?: number;
  keepAliveTimeout?: number;
  requireHostHeader?: boolean;
  connectionsCheckingInterval?: number;
  maxRequestsPerSocket?: number | null;
  maxConnections?: number;
}

/**
 * The HTTP/1.1 parser limits and timeouts, for an http.Server or the HTTP/1 side of this h2 server
 * (Node reads them from the server object for each new connection), plus the h2 reset window.
 */
export function applyEdgeLimits(server: NetServer, edge: EdgeLimits): void {
  const s = server as Http1Switches;
  const { limits, timeouts } = edge;
  s.maxHeaderSize = limits.maxHeaderBytes;
  // One above the limit, so that rejectRequest sees the excess and answers 431 instead of Node
  // silently dropping fields past maxHeadersCount.
  s.maxHeadersCount = limits.maxHeaderCount > 0 ? limits.maxHeaderCount + 1 : null;
  s.headersTimeout = timeouts.requestHeaderMs;
  s.requestTimeout = Math.max(timeouts.requestMs, timeouts.requestHeaderMs);
  s.keepAliveTimeout = timeouts.keepAliveMs;
  // How often Node checks the two timeouts above. The h2 server's HTTP/1 side starts with 30 s and
  // reads this when it starts listening: without it a TLS client could trickle its headers for up
  // to 30 s whatever `requestHeader` says.
  s.connectionsCheckingInterval = connectionsCheckingInterval(timeouts);
  s.requireHostHeader = true;
  if (limits.maxConnectionsPerWorker > 0) s.maxConnections = limits.maxConnectionsPerWorker;
  server.edgeLimits = edge;
}

/** Often enough for the header and request deadlines to bite on time, at most once a second. */
export function connectionsCheckingInterval(timeouts: Pick<TimeoutsConfig, 'requestHeaderMs'>): number {
  return Math.min(1_000, Math.max(100, Math.floor(timeouts.requestHeaderMs / 2)));
}

function onSession(this: http2.Http2SecureServer, session: http2.ServerHttp2Session): void {
  const edge = this.edgeLimits;
  const limits = edge?.limits ?? DEFAULT_LIMITS;
  if (limits.h2MaxResetsPerWindow > 0) {
    session.h2ResetWindow = {
      start: Date.now(),
      resets: 0,
      max: limits.h2MaxResetsPerWindow,
      windowMs: limits.h2ResetWindowMs,
    };
  }
  session.on('stream', onStream);
  if (edge !== undefined) {
    session.edgeLimits = edge;
    // The configured stream limit, also when the limits arrived after the server was created.
    session.settings({ maxConcurrentStreams: edge.limits.maxConcurrentStreams });
    session.setTimeout(Math.max(edge.timeouts.keepAliveMs, edge.timeouts.requestMs), onSessionIdle);
  }
  session.on('error', ignoreSessionError);
}

function onSessionIdle(this: http2.ServerHttp2Session): void {
  this.close();
  setTimeout(destroySession, 1000, this).unref();
}

function destroySession(session: http2.Http2Session): void {
  if (!session.destroyed) session.destroy();
}

function onStream(this: http2.ServerHttp2Session, stream: http2.ServerHttp2Stream): void {
  stream.owningSession = this;
  stream.on('close', onStreamClose);
  // Each stream gets the whole-request deadline an HTTP/1.1 request has (timeouts.request): its
  // body must have arrived by then. Without it a body trickled a byte at a time holds the stream,
  // and the backend request behind it, for as long as the client likes; the session's idle timer
  // never fires while bytes keep coming.
  const requestMs = this.edgeLimits?.timeouts.requestMs ?? 0;
  if (requestMs > 0 && !stream.endAfterHeaders) {
    stream.requestDeadline = setTimeout(onStreamDeadline, requestMs, stream);
    stream.once('end', clearStreamDeadline);
  }
}

function clearStreamDeadline(this: http2.ServerHttp2Stream): void {
  const timer = this.requestDeadline;
  if (timer !== undefined) {
    clearTimeout(timer);
    this.requestDeadline = undefined;
  }
}

/** The request did not arrive in time: 408 if nothing was answered yet, else the stream is cancelled. */
function onStreamDeadline(stream: http2.ServerHttp2Stream): void {
  stream.requestDeadline = undefined;
  if (stream.destroyed || stream.closed) return;
  stream.requestTimedOut = true;
  h2Stats.streamsTimedOut++;
  if (!stream.headersSent) {
    stream.respond({ ':status': 408, 'content-length': '0' }, { endStream: true });
    // Tells the client to stop sending the rest of the body (RFC 9113 §8.1).
    stream.close(NGHTTP2_NO_ERROR);
  } else {
    stream.close(NGHTTP2_CANCEL);
  }
}

/** Whether a stream was ended by its request deadline (the access log then says 408). */
export function h2StreamTimedOut(stream: http2.ServerHttp2Stream | undefined): boolean {
  return stream !== undefined && stream.requestTimedOut === true;
}

function onStreamClose(this: http2.ServerHttp2Stream): void {
  if (this.requestDeadline !== undefined) {
    clearTimeout(this.requestDeadline);
    this.requestDeadline = undefined;
  }
  // A stream closed with an error code before we finished answering: the peer reset it (or an error
  // did). Normal completions close with NO_ERROR.
  if (this.rstCode === NGHTTP2_NO_ERROR || this.rstCode === undefined) return;
  const session = this.owningSession;
  if (session === undefined || session.destroyed) return;
  const window = session.h2ResetWindow;
  if (window === undefined) return;
  const now = Date.now();
  if (now - window.start > window.windowMs) {
    window.start = now;
    window.resets = 0;
  }
  window.resets++;
  if (window.resets > window.max) {
    h2Stats.sessionsClosedForResets++;
    session.goaway(NGHTTP2_ENHANCE_YOUR_CALM);
    // Destroyed on the next turn, once the GOAWAY has been written: destroyed at once, the socket
    // could go with the frame still queued, and the client never learns why.
    setImmediate(destroySession, session);
  }
}

function onSessionError(_err: Error, session?: http2.ServerHttp2Session): void {
  if (session !== undefined && !session.destroyed) session.destroy();
}

function ignoreSessionError(): void {
  // A session error is the peer's problem (protocol error, reset socket): the session is destroyed
  // by Node; this listener only keeps it from becoming an uncaught exception in the worker.
}

/** Removes what a backend's HTTP/1.1 response may carry that an h2 response cannot. */
export function stripH2ResponseHeaders(headers: Record<string, unknown>): void {
  for (let i = 0; i < H2_DROPPED_RESPONSE.length; i++) {
    const name = H2_DROPPED_RESPONSE[i] as string;
    if (headers[name] !== undefined) delete headers[name];
  }
}
