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

const kFacts = Symbol('gatehouse.handshakeFacts');
type FactsCarrier = { [kFacts]?: HandshakeFacts };

export function handshakeFacts(socket: TLSSocket): HandshakeFacts {
  const carrier = socket as unknown as FactsCarrier;
  let facts = carrier[kFacts];
  if (facts === undefined) {
    facts = { version: socket.getProtocol(), resumed: socket.isSessionReused() };
    carrier[kFacts] = facts;
  }
  return facts;
}
