// A traffic listener's open client connections and HTTP/2 sessions, kept for drain and gh:stats.
// The server, and every connection and session it accepts, carries its Listener as a typed
// property, so the shared handlers below find it with one property read instead of a closure per
// server or connection.
import type http from 'node:http';
import type { ServerHttp2Session } from 'node:http2';
import type { Socket } from 'node:net';
import type { Server as TlsServer } from 'node:tls';
import type { ListenAddress } from '@gatehouse/config';

export type ListenerName = 'web' | 'webSecure';

export interface Listener {
  name: ListenerName;
  address: ListenAddress;
  server: http.Server | TlsServer;
  /** Open client connections, for drain and gh:stats. */
  sockets: Set<Socket>;
  /** Open HTTP/2 sessions (HTTPS listener), closed gracefully on drain. */
  sessions: Set<ServerHttp2Session>;
  gauge: { inc(): void; dec(): void };
}

declare module 'net' {
  interface Server {
    /** The traffic listener this server is (not set on pass-through or admin servers). */
    gatehouseListener?: Listener | undefined;
  }
  interface Socket {
    /** The traffic listener that accepted this client connection, until it closes. */
    gatehouseListener?: Listener | undefined;
  }
}
declare module 'http2' {
  interface Http2Session {
    /** The HTTPS listener whose connection this h2 session runs on. */
    gatehouseListener?: Listener | undefined;
  }
}

/** From now on `server`'s connections and h2 sessions are kept in `listener`, and counted in its gauge. */
export function trackConnections(server: http.Server | TlsServer, listener: Listener): void {
  server.gatehouseListener = listener;
  server.on('connection', onConnection);
  server.on('session', onSession);
}

function onConnection(this: http.Server | TlsServer, socket: Socket): void {
  const listener = this.gatehouseListener;
  if (listener === undefined) return;
  listener.sockets.add(socket);
  listener.gauge.inc();
  socket.gatehouseListener = listener;
  socket.once('close', onSocketClose);
}

function onSession(this: http.Server | TlsServer, session: ServerHttp2Session): void {
  const listener = this.gatehouseListener;
  if (listener === undefined) return;
  listener.sessions.add(session);
  session.gatehouseListener = listener;
  session.once('close', onSessionClose);
}

function onSessionClose(this: ServerHttp2Session): void {
  this.gatehouseListener?.sessions.delete(this);
}

function onSocketClose(this: Socket): void {
  const listener = this.gatehouseListener;
  if (listener === undefined) return;
  listener.sockets.delete(this);
  listener.gauge.dec();
}
