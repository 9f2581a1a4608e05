// One TLS connection to a loopback listener, offering a saved session, for the session-resumption
// tests: whether the handshake resumed, the newest session to offer next time, and what the server
// sent before it closed the connection.
import { once } from 'node:events';
import type { Socket } from 'node:net';
import tls from 'node:tls';

export interface TlsVisit {
  reused: boolean;
  /** The newest ticket, else the negotiated session, else the one offered. */
  session: Buffer | undefined;
  answer: string;
}

export async function tlsVisit(options: {
  port: number;
  servername: string;
  ca: string;
  /** Both the lowest and the highest version offered. */
  version: tls.SecureVersion;
  session?: Buffer | undefined;
  alpn?: string[];
  /** Written once the handshake is done. */
  send?: string;
  /** A TCP connection already open to the listener (the handshake then starts on it). */
  over?: Socket | undefined;
}): Promise<TlsVisit> {
  const socket = tls.connect({
    ...(options.over ? { socket: options.over } : { port: options.port, host: '127.0.0.1' }),
    servername: options.servername,
    ca: options.ca,
    minVersion: options.version,
    maxVersion: options.version,
    ...(options.alpn ? { ALPNProtocols: options.alpn } : {}),
    ...(options.session ? { session: options.session } : {}),
  });
  let ticket: Buffer | undefined;
  socket.on('session', (data: Buffer) => {
    ticket = data;
  });
  await once(socket, 'secureConnect');
  const reused = socket.isSessionReused();
  // TLS 1.2 sends a renewed ticket inside the handshake and emits no 'session' for it.
  const negotiated = socket.getSession();
  if (options.send !== undefined) socket.write(options.send);
  let answer = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => {
    answer += chunk;
  });
  await once(socket, 'close');
  return { reused, session: ticket ?? negotiated ?? options.session, answer };
}
