// The ACME challenges this worker answers, as the primary last sent them (gh:acme-challenges).
// HTTP-01: `GET /.well-known/acme-challenge/<token>` on the plain listener, before any route.
// TLS-ALPN-01: a connection to the HTTPS listener that offers ALPN `acme-tls/1` for a name with a
// pending challenge gets that name's self-signed challenge certificate, from a TLS socket of its own.
// With nothing pending, both cost one size check (per request on the plain listener, per
// connection on the HTTPS one); the ClientHello is read only while a TLS-ALPN-01 challenge waits.
import type http from 'node:http';
import type { Socket } from 'node:net';
import tls, { type Server as TlsServer } from 'node:tls';
import { parseClientHello } from '../tls/client-hello.ts';
import type { AcmeChallengesMessage } from '../messages.ts';

export const HTTP_CHALLENGE_PREFIX = '/.well-known/acme-challenge/';
export const ACME_TLS_ALPN = 'acme-tls/1';
/** A ClientHello fits in one record: 16 KiB plus its header. */
const MAX_HELLO_BYTES = 16_384 + 5;
const HELLO_TIMEOUT_MS = 10_000;

const httpTokens = new Map<string, string>();
const alpnContexts = new Map<string, tls.SecureContext>();

/** Replaces the pending challenges with the primary's set. Throws when a certificate is unusable. */
export function applyChallenges(message: Pick<AcmeChallengesMessage, 'http' | 'alpn'>): void {
  const contexts = new Map<string, tls.SecureContext>();
  for (const entry of message.alpn) {
    contexts.set(
      entry.name.toLowerCase(),
      tls.createSecureContext({ cert: entry.certPem, key: entry.keyPem, minVersion: 'TLSv1.2' }),
    );
  }
  httpTokens.clear();
  for (const [token, keyAuthorization] of message.http) httpTokens.set(token, keyAuthorization);
  alpnContexts.clear();
  for (const [name, context] of contexts) alpnContexts.set(name, context);
}

/** Answers an HTTP-01 validation and returns true; false leaves the request to the routes. */
export function answerHttpChallenge(req: http.IncomingMessage, res: http.ServerResponse): boolean {
  if (httpTokens.size === 0) return false;
  const url = req.url;
  if (url === undefined || !url.startsWith(HTTP_CHALLENGE_PREFIX)) return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const keyAuthorization = httpTokens.get(url.slice(HTTP_CHALLENGE_PREFIX.length));
  if (keyAuthorization === undefined) return false;
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(keyAuthorization) });
  res.end(req.method === 'HEAD' ? undefined : keyAuthorization);
  return true;
}

/**
 * Puts a look at the ClientHello in front of `server`'s own TLS handling, active only while a
 * TLS-ALPN-01 challenge is pending. Call once, right after the server is created.
 */
export function interceptAlpnChallenges(server: TlsServer): void {
  // tls.Server registers its TLS wrapper as the first `connection` listener.
  const [tlsConnection] = server.listeners('connection') as Array<(this: TlsServer, socket: Socket) => void>;
  if (tlsConnection === undefined) return;
  server.removeListener('connection', tlsConnection);
  server.prependListener('connection', function onConnection(this: TlsServer, socket: Socket) {
    if (alpnContexts.size === 0) {
      tlsConnection.call(this, socket);
      return;
    }
    readHello(socket, (buffered, challenge) => {
      socket.unshift(buffered);
      if (challenge === null) tlsConnection.call(this, socket);
      else answerAlpnChallenge(socket, challenge);
    });
  });
}

function readHello(socket: Socket, done: (buffered: Buffer, challenge: tls.SecureContext | null) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  const onTimeout = () => socket.destroy();
  const finish = (challenge: tls.SecureContext | null) => {
    socket.off('data', onData);
    socket.pause();
    // Leave no timer or listener behind: the TLS server sets its own deadlines.
    socket.setTimeout(0);
    socket.off('timeout', onTimeout);
    done(Buffer.concat(chunks, size), challenge);
  };
  const onData = (chunk: Buffer) => {
    chunks.push(chunk);
    size += chunk.length;
    const hello = parseClientHello(Buffer.concat(chunks, size));
    if (hello === 'incomplete' && size < MAX_HELLO_BYTES) return;
    if (hello === null || hello === 'incomplete' || !hello.alpn.includes(ACME_TLS_ALPN)) return finish(null);
    const context = hello.serverName === null ? undefined : alpnContexts.get(hello.serverName);
    if (context === undefined) {
      // acme-tls/1 for a name without a pending challenge: nothing to offer (RFC 8737 section 3).
      socket.destroy();
      return;
    }
    finish(context);
  };
  socket.on('data', onData);
  socket.setTimeout(HELLO_TIMEOUT_MS, onTimeout);
}

function answerAlpnChallenge(socket: Socket, secureContext: tls.SecureContext): void {
  const secure = new tls.TLSSocket(socket, { isServer: true, secureContext, ALPNProtocols: [ACME_TLS_ALPN] });
  secure.setTimeout(HELLO_TIMEOUT_MS, () => secure.destroy());
  secure.on('error', () => secure.destroy());
  // The validator only looks at the certificate; it closes the connection itself.
  secure.on('secure', () => secure.end());
}
