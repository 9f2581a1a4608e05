// The worker's pass-through listeners across generations. prepare binds only the listeners the new
// generation adds (a port that cannot be bound fails the prepare, and what it bound is closed
// again), so a failed or aborted generation leaves nothing behind; commit retargets the kept ones,
// closes the removed ones (their TCP connections go on until the drain timeout) and adopts the new.
import type { GatewayConfig, PassThroughForward } from '@gatehouse/config';
import type { Logger } from '../access-log.ts';
import { diffForwards, forwardKey } from './forward-set.ts';
import { passThroughMetrics } from './metrics.ts';
import { TcpForward } from './tcp-forward.ts';
import { UdpForward } from './udp-forward.ts';

type ForwardListener = TcpForward | UdpForward;

interface PreparedForwards {
  generation: number;
  config: GatewayConfig;
  opened: Map<string, ForwardListener>;
}

export class PassThrough {
  private readonly open = new Map<string, ForwardListener>();
  private prepared: PreparedForwards | null = null;

  /** Binds the forwards `config` adds; throws ListenerBindError after closing what it bound. */
  async prepare(generation: number, config: GatewayConfig, logger: Logger): Promise<void> {
    if (this.prepared !== null) this.abort(this.prepared.generation, logger);
    const passThrough = config.gateway.entryPoints.passThrough;
    const change = diffForwards(new Set(this.open.keys()), passThrough.forwards);
    const opened = new Map<string, ForwardListener>();
    try {
      for (const forward of change.open) {
        const key = forwardKey(forward);
        const listener =
          forward.protocol === 'tcp'
            ? new TcpForward(key, forward)
            : new UdpForward(key, forward, passThrough.udpSessionIdleMs, passThrough.udpMaxSessions);
        const port = await listener.listen(forward.host, forward.port);
        opened.set(key, listener);
        passThroughMetrics.listening.labels(key).set(1);
        logger.info({ forward: key, port, target: forward.target, generation }, 'pass-through listening');
      }
    } catch (error) {
      for (const [key, listener] of opened) this.closeListener(key, listener, 0, generation, logger);
      throw error;
    }
    this.prepared = { generation, config, opened };
  }

  commit(generation: number, logger: Logger): void {
    const prepared = this.prepared;
    if (prepared === null || prepared.generation !== generation) return;
    this.prepared = null;
    const { entryPoints, timeouts } = prepared.config.gateway;
    const passThrough = entryPoints.passThrough;
    const change = diffForwards(new Set(this.open.keys()), passThrough.forwards);
    for (const forward of change.keep) this.retarget(forward, prepared.config);
    for (const key of change.close) {
      const listener = this.open.get(key) as ForwardListener;
      this.open.delete(key);
      this.closeListener(key, listener, timeouts.drainMs, generation, logger);
    }
    for (const [key, listener] of prepared.opened) this.open.set(key, listener);
  }

  abort(generation: number, logger: Logger): void {
    const prepared = this.prepared;
    if (prepared === null || prepared.generation !== generation) return;
    this.prepared = null;
    for (const [key, listener] of prepared.opened) this.closeListener(key, listener, 0, generation, logger);
  }

  private retarget(forward: PassThroughForward, config: GatewayConfig): void {
    const listener = this.open.get(forwardKey(forward));
    if (listener instanceof TcpForward) listener.retarget(forward);
    else if (listener instanceof UdpForward) {
      const { udpSessionIdleMs, udpMaxSessions } = config.gateway.entryPoints.passThrough;
      listener.retarget(forward, udpSessionIdleMs, udpMaxSessions);
    }
  }

  private closeListener(
    key: string,
    listener: ForwardListener,
    graceMs: number,
    generation: number,
    logger: Logger,
  ): void {
    const open = listener.connections;
    if (listener instanceof TcpForward) listener.close(graceMs);
    else listener.close();
    passThroughMetrics.listening.remove(key);
    logger.info({ forward: key, open, generation }, 'pass-through closed');
  }

  /** Drain: no new connections or sessions; open TCP connections go on until destroyAll. */
  stopAccepting(): void {
    for (const listener of this.open.values()) {
      if (listener instanceof TcpForward) listener.close(Number.POSITIVE_INFINITY);
      else listener.close();
    }
  }

  /** Open TCP connections (UDP sessions end with their socket). */
  activeConnections(): number {
    let n = 0;
    for (const listener of this.open.values()) if (listener instanceof TcpForward) n += listener.connections;
    return n;
  }

  destroyAll(): void {
    for (const listener of this.open.values()) listener.destroyAll();
  }
}
