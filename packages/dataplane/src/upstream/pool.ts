// Keep-alive agents to the backends: one per upstream TLS identity (ca, cert, key, servername,
// verify), one shared for plain http. Generations reference the agents they use; an agent whose
// identity is unchanged simply gains the new generation's reference and keeps its warm sockets.
// An agent that no generation uses any more is drained: idle sockets go at once, busy ones finish
// their request and are then closed, and the agent is destroyed when none remains.
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { ResolvedUpstreamTls } from '../messages.ts';

/** Generous bounds: a proxy should queue only when a backend is really saturated. */
export const MAX_SOCKETS_PER_BACKEND = 1024;
export const MAX_FREE_SOCKETS_PER_BACKEND = 1024;
const DRAIN_POLL_MS = 500;

declare module 'net' {
  interface Socket {
    /** Pool bookkeeping (see IdleSweep): the socket's byte count when last looked at... */
    poolActivity?: number;
    /** ...and a time at or before its last activity (performance.now()). */
    poolIdleFrom?: number;
  }
}

interface RequestOptionsLike {
  host?: string | null;
  hostname?: string | null;
  port?: number | string | null;
  servername?: string;
  localAddress?: string;
  family?: number;
}

/**
 * https.Agent for one fixed TLS identity. Two things differ from Node's:
 * - SNI and the verified name default to the backend's hostname, never the Host header of the
 *   request (Node derives servername from Host, which would be the client's when it is forwarded);
 * - the pool key is host:port:servername, because ca/cert/key are fixed for this agent (Node's key
 *   concatenates the PEM texts on every request).
 */
/**
 * Keep-alive pooling shared by the http and https agents: LIFO keeps the warmest sockets busy. No
 * `timeout`: with one, Node re-arms every pooled socket's timer on every request (a once-listener
 * per request, a clear when the response ends, a new Timeout when the socket is freed); idle
 * sockets are closed by the pool's sweep instead (closeIdleSockets).
 */
function poolOptions(): http.AgentOptions {
  return {
    keepAlive: true,
    keepAliveMsecs: 1_000,
    scheduling: 'lifo',
    maxSockets: MAX_SOCKETS_PER_BACKEND,
    maxFreeSockets: MAX_FREE_SOCKETS_PER_BACKEND,
  };
}

/** Looks at the pooled sockets this many times per idle timeout: one closes after 3/4 to all of it idle. */
const IDLE_SWEEPS_PER_TIMEOUT = 8;

/**
 * Closes the free sockets of `agent` that have been idle for `idleMs` or a little less, never more
 * (a backend's keep-alive is only a little longer: a socket kept past it may be closed by the
 * backend just as a request is sent on it). A socket is idle when its byte count has not changed
 * since the last sweep; `poolIdleFrom` is the sweep before the one that saw it change, a time at
 * or before its last activity. Runs every idleMs / IDLE_SWEEPS_PER_TIMEOUT.
 */
export function closeIdleSockets(agent: http.Agent, idleMs: number, sweepMs: number, now: number): void {
  for (const key in agent.freeSockets) {
    const list = agent.freeSockets[key];
    if (list === undefined) continue;
    for (let i = list.length - 1; i >= 0; i--) {
      const socket = list[i] as import('node:net').Socket;
      const activity = socket.bytesRead + socket.bytesWritten;
      if (socket.poolActivity !== activity) {
        socket.poolActivity = activity;
        socket.poolIdleFrom = now - sweepMs;
      } else if (now - (socket.poolIdleFrom ?? now) >= idleMs - sweepMs) {
        socket.destroy();
      }
    }
  }
}

export class UpstreamTlsAgent extends https.Agent {
  private readonly servernames = new Map<string, string>();

  addRequest(req: http.ClientRequest, options: RequestOptionsLike): void {
    if (options.servername === undefined) {
      const host = options.hostname ?? options.host ?? '';
      let servername = this.servernames.get(host);
      if (servername === undefined) {
        // RFC 6066: an IP address is never sent as SNI; verification then checks the IP SANs.
        servername = isIP(host) === 0 ? host : '';
        this.servernames.set(host, servername);
      }
      options.servername = servername;
    }
    // addRequest is Node's long-standing (untyped) agent hook that every request goes through.
    (https.Agent.prototype as unknown as { addRequest: (r: unknown, o: unknown) => void }).addRequest.call(
      this,
      req,
      options,
    );
  }

  override getName(options: RequestOptionsLike = {}): string {
    return `${options.host ?? ''}:${options.port ?? ''}:${options.localAddress ?? ''}:${options.family ?? ''}:${options.servername ?? ''}`;
  }
}

interface PoolEntry {
  agent: http.Agent;
  generations: Set<number>;
  sweep: NodeJS.Timeout | null;
}

export interface PoolStats {
  agents: number;
  draining: number;
  busySockets: number;
  freeSockets: number;
}

function countSockets(map: NodeJS.ReadOnlyDict<unknown[]>): number {
  let n = 0;
  for (const key in map) n += map[key]?.length ?? 0;
  return n;
}

export class UpstreamPool {
  private readonly entries = new Map<string, PoolEntry>();
  private readonly draining = new Set<http.Agent>();
  private drainTimer: NodeJS.Timeout | null = null;

  /**
   * The agent for `tls` (null: plain http) with idle timeout `idleMs`, referenced by `generation`.
   * `https` without a resolved identity uses the system roots with full verification.
   */
  acquire(
    protocol: 'http:' | 'https:',
    tls: ResolvedUpstreamTls | null,
    idleMs: number,
    generation: number,
  ): http.Agent {
    const key = protocol === 'http:' ? `http ${idleMs}` : `https ${tls?.identity ?? 'system'} ${idleMs}`;
    let entry = this.entries.get(key);
    if (entry === undefined) {
      const agent = protocol === 'http:' ? this.httpAgent() : this.httpsAgent(tls);
      // An idle timeout of 0 keeps idle sockets open (as the agent's `timeout: 0` did): no sweep.
      let sweep: NodeJS.Timeout | null = null;
      if (idleMs > 0) {
        const sweepMs = Math.max(1, Math.floor(idleMs / IDLE_SWEEPS_PER_TIMEOUT));
        sweep = setInterval(() => closeIdleSockets(agent, idleMs, sweepMs, performance.now()), sweepMs);
        sweep.unref();
      }
      entry = { agent, generations: new Set(), sweep };
      this.entries.set(key, entry);
    }
    entry.generations.add(generation);
    return entry.agent;
  }

  private httpAgent(): http.Agent {
    const agent = new http.Agent(poolOptions());
    // Plain http has no SNI: an empty servername stops Node from deriving one from the Host
    // header for every request (normalizeServerName), which is pure waste here.
    // `options` is the agent's own copy of its options, which Node's types do not list.
    (agent as unknown as { options: { servername?: string } }).options.servername = '';
    return agent;
  }

  private httpsAgent(tls: ResolvedUpstreamTls | null): http.Agent {
    const options: https.AgentOptions = {
      ...poolOptions(),
      maxCachedSessions: 100,
      minVersion: 'TLSv1.2',
      rejectUnauthorized: tls?.rejectUnauthorized ?? true,
    };
    if (tls?.ca) options.ca = tls.ca;
    if (tls?.cert) options.cert = tls.cert;
    if (tls?.key) options.key = tls.key;
    if (tls?.servername) options.servername = tls.servername;
    return new UpstreamTlsAgent(options);
  }

  /** `generation` is gone (replaced or aborted): agents that nobody references any more are drained. */
  releaseGeneration(generation: number): void {
    for (const [key, entry] of this.entries) {
      if (!entry.generations.delete(generation) || entry.generations.size > 0) continue;
      this.entries.delete(key);
      if (entry.sweep !== null) clearInterval(entry.sweep);
      this.drain(entry.agent);
    }
  }

  /** No new socket goes back to the pool; idle ones close now, busy ones after their request. */
  private drain(agent: http.Agent): void {
    (agent as http.Agent & { keepAlive: boolean }).keepAlive = false;
    for (const list of Object.values(agent.freeSockets)) for (const socket of list ?? []) socket.destroy();
    this.draining.add(agent);
    if (this.drainTimer === null) {
      this.drainTimer = setInterval(() => this.reapDrained(), DRAIN_POLL_MS);
      this.drainTimer.unref();
    }
    this.reapDrained();
  }

  private reapDrained(): void {
    for (const agent of this.draining) {
      if (countSockets(agent.sockets) === 0) {
        agent.destroy();
        this.draining.delete(agent);
      }
    }
    if (this.draining.size === 0 && this.drainTimer !== null) {
      clearInterval(this.drainTimer);
      this.drainTimer = null;
    }
  }

  /** Closes every idle pooled socket (worker drain), leaving busy ones to finish. */
  closeIdle(): void {
    for (const entry of this.entries.values()) {
      for (const list of Object.values(entry.agent.freeSockets)) for (const socket of list ?? []) socket.destroy();
    }
  }

  stats(): PoolStats {
    let busy = 0;
    let free = 0;
    for (const entry of this.entries.values()) {
      busy += countSockets(entry.agent.sockets);
      free += countSockets(entry.agent.freeSockets);
    }
    for (const agent of this.draining) busy += countSockets(agent.sockets);
    return { agents: this.entries.size, draining: this.draining.size, busySockets: busy, freeSockets: free };
  }
}
