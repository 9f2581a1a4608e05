// The traffic listeners: `web` (plain HTTP) and `webSecure` (HTTPS, h2 + http/1.1 when the http2
// module provides the server), both serving the same routes. Each worker binds its own socket with
// `reusePort` (Linux, Node >= 22.12) and `exclusive`, so the kernel spreads connections and the
// primary never relays one. Addresses come from the first generation only; the servers live for
// the worker's life and only their settings and TLS store change with a new generation.
import { answerHttpChallenge, interceptAlpnChallenges } from './acme-challenges.ts';
import http from 'node:http';
import net, { type Socket } from 'node:net';
import type { TLSSocket, Server as TlsServer } from 'node:tls';
import type { ListenAddress } from '@gatehouse/config';
import { ListenerBindError } from '../errors.ts';
import type { Forwarder } from '../request/forwarder.ts';
import type { Generation } from '../generation.ts';
import { applyEdgeLimits, connectionsCheckingInterval, createSecureServer, type RequestHandler } from './http2.ts';
import { metrics } from '../metrics.ts';
import { onClientError, responseInProgress } from './client-error.ts';
import { serverDefaultContext, sessionTickets } from '../tls/session-tickets.ts';
import { installSniStore } from '../tls/active-sni.ts';
import { rotateTicketKeys, settleTicketHook } from '../tls/ticket-hook.ts';
import { keepPresentedChains, registerContext, tagHandshake } from '../tls/connection-trust.ts';
import { type Listener, type ListenerName, trackConnections } from './open-connections.ts';

/** reusePort needs Linux (SO_REUSEPORT load balancing) and Node >= 22.12. */
export function reusePortSupported(): boolean {
  if (process.platform !== 'linux') return false;
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  return major > 22 || (major === 22 && minor >= 12);
}

function onSecureConnection(this: TlsServer, socket: TLSSocket): void {
  tagHandshake(socket);
  metrics.tlsHandshakes.inc({ listener: 'webSecure', result: 'ok' });
  if (socket.isSessionReused()) metrics.tlsResumed.inc();
}

/** Client-auth and protocol failures of the handshake, broken out by reason for the metric. */
export function handshakeFailureReason(code: string | undefined): string {
  switch (code) {
    case 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE':
      return 'client_cert_missing';
    case 'ERR_SSL_CERTIFICATE_VERIFY_FAILED':
      return 'client_cert_invalid';
    case 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED':
      return 'client_cert_expired';
    case 'ERR_SSL_UNSUPPORTED_PROTOCOL':
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
      return 'protocol';
    case 'ERR_SSL_NO_SHARED_CIPHER':
      return 'cipher';
    case 'ERR_SSL_HTTP_REQUEST':
      return 'plain_http';
    case 'ECONNRESET':
      return 'reset';
    case 'ERR_TLS_HANDSHAKE_TIMEOUT':
      return 'timeout';
    default:
      return 'error';
  }
}

function onTlsClientError(this: TlsServer, err: Error & { code?: string }, socket: TLSSocket): void {
  metrics.tlsHandshakes.inc({ listener: 'webSecure', result: handshakeFailureReason(err.code) });
  socket.destroy();
}

function onHttpClientError(this: http.Server, err: Error & { code?: string }, socket: Socket): void {
  onClientError(err, socket);
}

/** Parser limits and timeouts, per generation (Node reads them from the server for each connection). */
function applyLimits(server: http.Server | TlsServer, generation: Generation): void {
  const gateway = generation.config.gateway;
  applyEdgeLimits(server, { limits: gateway.limits, timeouts: gateway.timeouts });
}

function formatAddress(scheme: string, address: ListenAddress, port: number): string {
  const host = address.host === '' ? '0.0.0.0' : address.host.includes(':') ? `[${address.host}]` : address.host;
  return `${scheme}://${host}:${port}`;
}

export class Listeners {
  private readonly listeners: Listener[] = [];

  /**
   * Creates and binds the listeners of `generation`. Throws ListenerBindError (address and reason)
   * when one cannot bind; the caller then reports gh:bind-failed and exits.
   */
  async bind(generation: Generation, forwarder: Forwarder): Promise<string[]> {
    const gateway = generation.config.gateway;
    const timeouts = gateway.timeouts;
    const serverOptions: http.ServerOptions = {
      maxHeaderSize: gateway.limits.maxHeaderBytes,
      headersTimeout: timeouts.requestHeaderMs,
      // Node refuses a headers timeout above the request timeout; the request timeout covers both.
      requestTimeout: timeouts.requestMs > 0 ? Math.max(timeouts.requestMs, timeouts.requestHeaderMs) : 0,
      keepAliveTimeout: timeouts.keepAliveMs,
      connectionsCheckingInterval: connectionsCheckingInterval(timeouts),
      insecureHTTPParser: false,
      requireHostHeader: true,
      noDelay: true,
      // A request without Content-Length or Transfer-Encoding starts with its body stream ended:
      // no stream events per request for the body that is not there.
      optimizeEmptyRequests: true,
    };
    const addresses: string[] = [];
    const web = gateway.entryPoints.web;
    if (web !== null) {
      // ACME HTTP-01 answers come before every route and middleware (acme-challenges.ts).
      const handleRequest = forwarder.handleRequest as http.RequestListener;
      const onWebRequest: http.RequestListener = (req, res) => {
        if (!answerHttpChallenge(req, res)) handleRequest(req, res);
      };
      const server = http.createServer(serverOptions, onWebRequest);
      server.on('clientError', onHttpClientError);
      // A client that sends its request and then half-closes (`printf 'GET / ...' | nc`, scripts that
      // shutdown(SHUT_WR)) still gets its answer, as from nginx: by default Node's server takes the
      // FIN for an abort. The connection is closed once the last response is written. (A field of
      // Node's http.Server that its types do not list.)
      (server as unknown as { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
      applyLimits(server, generation);
      addresses.push(await this.listen('web', web, server, forwarder, 'http'));
    }
    const secure = gateway.entryPoints.webSecure;
    if (secure !== null && generation.sni !== null) {
      // h2 and HTTP/1.1 on one port; createSecureServer installs its own clientError guard.
      const server = createSecureServer(
        generation.sni.serverOptions() as import('node:http2').SecureServerOptions,
        forwarder.handleRequest as RequestHandler,
        { limits: gateway.limits, timeouts },
      );
      installSniStore(server, generation.sni);
      keepPresentedChains(server, generation.sni.clientAuth.requestCert);
      const ownContext = serverDefaultContext(server);
      if (ownContext !== null) registerContext(ownContext, generation.sni.clientAuth);
      if (ownContext === null || !sessionTickets.available(ownContext)) {
        forwarder.logger.warn(
          'this Node has no session-ticket key hook: after each key rotation, tickets issued before it cost one full handshake',
        );
      }
      interceptAlpnChallenges(server);
      server.on('secureConnection', onSecureConnection);
      server.on('tlsClientError', onTlsClientError);
      addresses.push(await this.listen('webSecure', secure, server, forwarder, 'https'));
    }
    return addresses;
  }

  private async listen(
    name: ListenerName,
    address: ListenAddress,
    server: http.Server | TlsServer,
    forwarder: Forwarder,
    scheme: string,
  ): Promise<string> {
    const listener: Listener = {
      name,
      address,
      server,
      sockets: new Set(),
      sessions: new Set(),
      gauge: metrics.activeConnections.labels(name),
    };
    trackConnections(server, listener);
    server.on('upgrade', forwarder.handleUpgrade);
    const reusePort = reusePortSupported();
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error & { code?: string }) => {
        reject(new ListenerBindError(address.raw, `${error.code ?? 'error'}: ${error.message}`, { cause: error }));
      };
      server.once('error', onError);
      server.listen(
        {
          host: address.host === '' ? undefined : address.host,
          port: address.port,
          exclusive: true,
          ...(reusePort ? { reusePort: true } : {}),
        },
        () => {
          server.off('error', onError);
          resolve();
        },
      );
    });
    server.on('error', (error) => forwarder.logger.error({ err: error, listener: name }, 'listener error'));
    this.listeners.push(listener);
    const bound = server.address();
    const port = typeof bound === 'object' && bound !== null ? bound.port : address.port;
    return formatAddress(scheme, address, port);
  }

  /**
   * A new generation is current: new timeouts, and the HTTPS server takes its TLS store (with the
   * ticket-key hook settled: see ticket-hook.ts; the error when its contexts could not be rebuilt).
   */
  commit(generation: Generation): Error | null {
    let error: Error | null = null;
    for (const l of this.listeners) {
      applyLimits(l.server, generation);
      if (l.name === 'webSecure' && generation.sni !== null) {
        installSniStore(l.server as TlsServer, generation.sni);
        keepPresentedChains(l.server as TlsServer, generation.sni.clientAuth.requestCert);
        error = settleTicketHook(l.server as TlsServer, generation.sni);
      }
    }
    return error;
  }

  /** New session-ticket keys: the store's contexts and the server's own default context. */
  rotateTicketKeys(generation: Generation | null, keys: Buffer): Error | null {
    if (generation?.sni == null) return null;
    const secure = this.listeners.find((l) => l.name === 'webSecure');
    return rotateTicketKeys((secure?.server as TlsServer | undefined) ?? null, generation.sni, keys);
  }

  activeConnections(): number {
    let n = 0;
    for (const l of this.listeners) n += l.sockets.size;
    return n;
  }

  /**
   * Drain, step 1: stop accepting. Connections are not cut: every response from now on carries
   * `Connection: close` (HTTP/1) or follows a GOAWAY (h2), and a keep-alive connection that sits
   * idle is closed after `idleGraceMs`. Closing idle connections at once would race with a client
   * that is sending its next request on one right now: that request would fail.
   */
  stopAccepting(idleGraceMs: number): void {
    for (const l of this.listeners) {
      // net.Server's close, not http.Server's: since Node 19 the latter also closes every idle
      // keep-alive connection at once, which is exactly the race described above.
      net.Server.prototype.close.call(l.server);
      (l.server as http.Server).keepAliveTimeout = idleGraceMs;
      for (const socket of l.sockets) {
        // Idle keep-alive (no response in progress): Node's own keep-alive timer closes it.
        if (responseInProgress(socket) == null) socket.setTimeout(idleGraceMs);
      }
      // h2: GOAWAY, so clients open no new stream; streams in flight finish.
      for (const session of l.sessions) if (!session.closed) session.close();
    }
  }

  /** Drain deadline: whatever is still open is cut. */
  destroyAll(): void {
    for (const l of this.listeners) for (const socket of l.sockets) socket.destroy();
  }
}
