// One UDP pass-through listener. Each client address gets a session: its own upstream socket,
// connected to the target, so replies are told apart by the socket they arrive on and relayed to
// that client. Sessions end when idle (SessionTable). With `reusePort` every worker binds the port
// and Linux picks the socket by a hash of the 4-tuple, so one client's datagrams stay on one
// worker and its session is found there.
import dgram, { type RemoteInfo, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import type { PassThroughForward } from '@gatehouse/config';
import { ListenerBindError } from '../errors.ts';
import { reusePortSupported } from '../edge/listeners.ts';
import { type ForwardSeries, forwardSeries } from './metrics.ts';
import { type IdleTracked, SessionTable } from './session-table.ts';

/** Datagrams a new session holds while its upstream socket connects (resolves the target name). */
const MAX_PENDING = 32;

// The listening socket and each session's upstream socket carry their forward (and session), so
// the shared handlers below need no closure per session.
declare module 'dgram' {
  interface Socket {
    /** The pass-through forward this listening or upstream socket belongs to. */
    udpForward?: UdpForward | undefined;
    /** The client session an upstream socket relays for. */
    udpSession?: UdpSession | undefined;
  }
}

interface UdpSession extends IdleTracked {
  key: string;
  clientAddress: string;
  clientPort: number;
  upstream: Socket;
  /** Until the upstream socket is connected; then null. */
  pending: Buffer[] | null;
  closed: boolean;
}

function onClientDatagram(this: Socket, message: Buffer, remote: RemoteInfo): void {
  this.udpForward?.fromClient(message, remote);
}

function onUpstreamDatagram(this: Socket, message: Buffer): void {
  const session = this.udpSession;
  if (session === undefined || session.closed) return;
  this.udpForward?.toClient(session, message);
}

function onUpstreamConnect(this: Socket): void {
  const session = this.udpSession;
  if (session === undefined || session.closed || session.pending === null) return;
  const pending = session.pending;
  session.pending = null;
  this.udpForward?.series.opened.inc();
  for (const message of pending) this.send(message);
}

/** Unresolvable target, refused port (ICMP), closed socket: the session ends; the client may retry. */
function onUpstreamError(this: Socket): void {
  const session = this.udpSession;
  if (session === undefined) return;
  const forward = this.udpForward;
  if (session.pending !== null) forward?.series.dialFailed.inc();
  forward?.end(session);
}

function ignore(): void {}

export class UdpForward {
  readonly key: string;
  readonly series: ForwardSeries;
  private socket: Socket | null = null;
  private readonly sessions: SessionTable<UdpSession>;
  private targetHost: string;
  private targetPort: number;
  private sweepTimer: NodeJS.Timeout | null = null;

  constructor(key: string, forward: PassThroughForward, idleMs: number, maxSessions: number) {
    this.key = key;
    this.series = forwardSeries(key);
    this.targetHost = forward.targetHost;
    this.targetPort = forward.targetPort;
    this.sessions = new SessionTable(maxSessions, idleMs);
  }

  get connections(): number {
    return this.sessions.size;
  }

  async listen(host: string, port: number): Promise<number> {
    const family = isIP(host) === 6 ? 'udp6' : 'udp4';
    const socket = dgram.createSocket({ type: family, ...(reusePortSupported() ? { reusePort: true } : {}) });
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error & { code?: string }) => {
        socket.close();
        reject(
          new ListenerBindError(`udp ${host}:${port}`, `${error.code ?? 'error'}: ${error.message}`, { cause: error }),
        );
      };
      socket.once('error', onError);
      socket.bind({ address: host === '' ? undefined : host, port, exclusive: true }, () => {
        socket.off('error', onError);
        resolve();
      });
    });
    socket.udpForward = this;
    socket.on('message', onClientDatagram);
    // A send to a client that is gone reports here; the session expires on its own.
    socket.on('error', ignore);
    this.socket = socket;
    this.scheduleSweep();
    return socket.address().port;
  }

  private scheduleSweep(): void {
    if (this.sweepTimer !== null) clearInterval(this.sweepTimer);
    const every = Math.max(50, Math.min(5_000, Math.floor(this.sessions.idleMs / 2)));
    this.sweepTimer = setInterval(() => this.sweep(Date.now()), every);
    this.sweepTimer.unref();
  }

  sweep(now: number): void {
    for (const session of this.sessions.expire(now)) this.closeSession(session);
  }

  /** The next generation's target (new sessions only) and session limits. */
  retarget(forward: PassThroughForward, idleMs: number, maxSessions: number): void {
    this.targetHost = forward.targetHost;
    this.targetPort = forward.targetPort;
    this.sessions.maxSessions = maxSessions;
    if (this.sessions.idleMs !== idleMs) {
      this.sessions.idleMs = idleMs;
      this.scheduleSweep();
    }
  }

  fromClient(message: Buffer, remote: RemoteInfo): void {
    const key = `${remote.address}|${remote.port}`;
    let session = this.sessions.get(key);
    if (session === undefined) {
      session = this.openSession(key, remote);
      if (session === undefined) return;
    }
    session.lastSeen = Date.now();
    this.series.bytesIn.inc(message.length);
    if (session.pending === null) session.upstream.send(message);
    else if (session.pending.length < MAX_PENDING) session.pending.push(message);
    else this.series.queueFull.inc();
  }

  private openSession(key: string, remote: RemoteInfo): UdpSession | undefined {
    if (this.sessions.size >= this.sessions.maxSessions) {
      this.series.sessionsFull.inc();
      return undefined;
    }
    const upstream = dgram.createSocket(isIP(this.targetHost) === 6 ? 'udp6' : 'udp4');
    const session: UdpSession = {
      key,
      clientAddress: remote.address,
      clientPort: remote.port,
      upstream,
      pending: [],
      closed: false,
      lastSeen: Date.now(),
    };
    this.sessions.add(key, session);
    this.series.active.inc();
    upstream.udpForward = this;
    upstream.udpSession = session;
    upstream.on('message', onUpstreamDatagram);
    upstream.on('error', onUpstreamError);
    upstream.once('connect', onUpstreamConnect);
    upstream.connect(this.targetPort, this.targetHost);
    return session;
  }

  toClient(session: UdpSession, message: Buffer): void {
    session.lastSeen = Date.now();
    this.series.bytesOut.inc(message.length);
    this.socket?.send(message, session.clientPort, session.clientAddress);
  }

  end(session: UdpSession): void {
    if (this.sessions.get(session.key) === session) this.sessions.delete(session.key);
    this.closeSession(session);
  }

  private closeSession(session: UdpSession): void {
    if (session.closed) return;
    session.closed = true;
    this.series.active.dec();
    try {
      session.upstream.close();
    } catch {
      // Already closed by an error.
    }
  }

  /** UDP has nothing to drain: the socket and every session close now. */
  close(): void {
    if (this.sweepTimer !== null) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
    this.socket?.close();
    this.socket = null;
    this.destroyAll();
  }

  destroyAll(): void {
    for (const session of this.sessions.clear()) this.closeSession(session);
  }
}
