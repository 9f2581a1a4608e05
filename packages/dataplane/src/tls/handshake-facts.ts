// What the access line says about a client's TLS connection, its protocol version and whether its
// handshake resumed a session: read from OpenSSL (two calls into the TLS handle, and a new string)
// for the first request of a connection and kept on its socket for the requests that follow on it,
// as the peer's identity is (client-identity.ts).
import type { TLSSocket } from 'node:tls';

export interface HandshakeFacts {
  /** 'TLSv1.3', 'TLSv1.2'; null if OpenSSL has none to tell. */
  readonly version: string | null;
  readonly resumed: boolean;
}

declare module 'tls' {
  interface TLSSocket {
    /** Read at the connection's first request (handshakeFacts). */
    handshakeFacts?: HandshakeFacts | undefined;
  }
}

export function handshakeFacts(socket: TLSSocket): HandshakeFacts {
  let facts = socket.handshakeFacts;
  if (facts === undefined) {
    facts = { version: socket.getProtocol(), resumed: socket.isSessionReused() };
    socket.handshakeFacts = facts;
  }
  return facts;
}
