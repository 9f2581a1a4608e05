// One TCP pass-through listener: every worker binds the port with `reusePort`, so the kernel spreads
// connections; each accepted connection dials the target and the bytes are piped both ways. A FIN
// from either side is passed on and the other direction keeps flowing (half-close); an error or a
// full close on one side ends the other. Bytes are read from the sockets' own counters at each
// scrape and when a connection closes, so the data path has no handler of ours.
import net, { type Server, type Socket } from 'node:net';
import type { PassThroughForward } from '@gatehouse/config';
import { ListenerBindError } from '../errors.ts';
import { reusePortSupported } from '../edge/listeners.ts';
import { type ForwardSeries, forwardSeries, onBytesScrape } from './metrics.ts';

// The forward's listener, and both sockets of each connection, carry what the shared handlers
// below need: one property read each, no closure per connection.
declare module 'net' {
  interface Server {
    /** The pass-through forward this server listens for. */
    tcpForward?: TcpForward | undefined;
  }
  interface Socket {
    /** The pass-through forward this client or upstream socket belongs to. */
    tcpForward?: TcpForward | undefined;
    /** The other socket of the pass-through connection (client ↔ upstream). */
    tcpPeer?: Socket | undefined;
    /** An upstream socket has connected (its dial timeout no longer applies). */
    tcpConnected?: boolean | undefined;
    /** A client socket's bytesRead already added to the forward's counter. */
    tcpCountedIn?: number | undefined;
    /** A client socket's bytesWritten already added to the forward's counter. */
    tcpCountedOut?: number | undefined;
  }
}

/** Forwards with a listener or connections open in this worker. */
const live = new Set<TcpForward>();
onBytesScrape(() => {
  for (const forward of live) forward.countBytes();
});

function onConnection(this: Server, client: Socket): void {
  this.tcpForward?.accept(client);
}

function onUpstreamConnect(this: Socket): void {
  this.tcpConnected = true;
  // The dial timeout is over; a quiet connection (an idle SSH session) is not cut for being quiet.
  this.setTimeout(0);
  this.tcpForward?.series.opened.inc();
}

function onUpstreamTimeout(this: Socket): void {
  if (this.tcpConnected) return;
  this.tcpForward?.series.dialTimeout.inc();
  this.destroy();
  this.tcpPeer?.destroy();
}

function onUpstreamError(this: Socket): void {
  if (!this.tcpConnected) this.tcpForward?.series.dialFailed.inc();
  this.tcpPeer?.destroy();
}

function onClientError(this: Socket): void {
  this.tcpPeer?.destroy();
}

/** Once one side is fully closed nothing more can reach it, so the other side goes too. */
function onUpstreamClose(this: Socket): void {
  this.tcpPeer?.destroy();
}

function onClientClose(this: Socket): void {
  this.tcpPeer?.destroy();
  this.tcpForward?.release(this);
}

export class TcpForward {
  readonly key: string;
  readonly series: ForwardSeries;
  private readonly server: Server;
  private readonly clients = new Set<Socket>();
  private targetHost: string;
  private targetPort: number;
  private dialTimeoutMs: number;
  private closeTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(key: string, forward: PassThroughForward) {
    this.key = key;
    this.series = forwardSeries(key);
    this.targetHost = forward.targetHost;
    this.targetPort = forward.targetPort;
    this.dialTimeoutMs = forward.dialTimeoutMs;
    this.server = net.createServer({ allowHalfOpen: true, noDelay: true });
    this.server.tcpForward = this;
    this.server.on('connection', onConnection);
    live.add(this);
  }

  get connections(): number {
    return this.clients.size;
  }

  /** Binds the port; throws ListenerBindError. Returns the bound port (the config's, or the kernel's for 0). */
  async listen(host: string, port: number): Promise<number> {
    const reusePort = reusePortSupported();
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error & { code?: string }) => {
        reject(
          new ListenerBindError(`tcp ${host}:${port}`, `${error.code ?? 'error'}: ${error.message}`, { cause: error }),
        );
      };
      this.server.once('error', onError);
      this.server.listen(
        { host: host === '' ? undefined : host, port, exclusive: true, ...(reusePort ? { reusePort: true } : {}) },
        () => {
          this.server.off('error', onError);
          resolve();
        },
      );
    });
    // Accept errors (EMFILE) are the server's; one failed accept must not end the worker.
    this.server.on('error', () => {});
    const bound = this.server.address();
    return typeof bound === 'object' && bound !== null ? bound.port : port;
  }

  /** The next generation's target and dial timeout, for connections accepted from now on. */
  retarget(forward: PassThroughForward): void {
    this.targetHost = forward.targetHost;
    this.targetPort = forward.targetPort;
    this.dialTimeoutMs = forward.dialTimeoutMs;
  }

  accept(client: Socket): void {
    this.clients.add(client);
    this.series.active.inc();
    const upstream = net.connect({
      host: this.targetHost,
      port: this.targetPort,
      allowHalfOpen: true,
      noDelay: true,
      timeout: this.dialTimeoutMs > 0 ? this.dialTimeoutMs : undefined,
    });
    client.tcpForward = this;
    client.tcpPeer = upstream;
    upstream.tcpForward = this;
    upstream.tcpPeer = client;
    upstream.once('connect', onUpstreamConnect);
    upstream.on('timeout', onUpstreamTimeout);
    upstream.on('error', onUpstreamError);
    upstream.once('close', onUpstreamClose);
    client.on('error', onClientError);
    client.once('close', onClientClose);
    // Bytes the client sends before the target answers wait in the upstream socket's write buffer;
    // pipe stops reading the client while that buffer is full.
    client.pipe(upstream);
    upstream.pipe(client);
  }

  release(client: Socket): void {
    if (!this.clients.has(client)) return;
    this.count(client);
    this.clients.delete(client);
    this.series.active.dec();
    if (this.closed && this.clients.size === 0) live.delete(this);
  }

  countBytes(): void {
    for (const client of this.clients) this.count(client);
  }

  private count(client: Socket): void {
    const read = client.bytesRead;
    const written = client.bytesWritten;
    this.series.bytesIn.inc(read - (client.tcpCountedIn ?? 0));
    this.series.bytesOut.inc(written - (client.tcpCountedOut ?? 0));
    client.tcpCountedIn = read;
    client.tcpCountedOut = written;
  }

  /** Stops accepting; open connections go on, and are cut after `graceMs` (never, for Infinity). */
  close(graceMs: number): void {
    this.server.close();
    this.closed = true;
    if (this.clients.size === 0) live.delete(this);
    if (this.clients.size === 0 || !Number.isFinite(graceMs)) return;
    this.closeTimer = setTimeout(() => this.destroyAll(), graceMs);
    this.closeTimer.unref();
  }

  destroyAll(): void {
    for (const client of this.clients) client.destroy();
  }
}
