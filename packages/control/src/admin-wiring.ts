// The primary's admin surfaces: the admin listener (TCP and/or Unix socket) with its token, and the
// pid file. Both exist before "gateway ready", so whoever waits for that line can use them.
import { unlink, writeFile } from 'node:fs/promises';
import { type GatewayConfig, isLoopbackAddress } from '@gatehouse/config';
import type { Logger } from 'pino';
import { type AdminServer, startAdminServer } from './admin-server.ts';
import type { GatewayApi } from './gateway-api.ts';
import type { PrimaryMetrics } from './metrics.ts';
import type { StatusFeed } from './status-feed.ts';

type AdminSection = GatewayConfig['gateway']['admin'];

export class AdminWiring {
  private readonly logger: Logger;
  /** The admin section the process started with: its listener stays bound until a restart. */
  private readonly bound: AdminSection;
  private token: string | null;
  private server: AdminServer | null = null;
  private pidFile: string | null = null;

  constructor(logger: Logger, bound: AdminSection) {
    this.logger = logger;
    this.bound = bound;
    this.token = bound.token;
  }

  /** Writes the pid file and starts the admin listener; a listener that cannot start is logged, not fatal. */
  async start(options: { api: GatewayApi; feed: StatusFeed; metrics: PrimaryMetrics; logger: Logger }): Promise<void> {
    const { address, socket, pidFile } = this.bound;
    if (pidFile) {
      await writeFile(pidFile, `${process.pid}\n`);
      this.pidFile = pidFile;
    }
    if (!address && !socket) return;
    try {
      this.server = await startAdminServer({ address, socket, token: this.token, ...options });
    } catch (error) {
      this.logger.error({ err: error }, 'admin endpoint could not start');
    }
  }

  /**
   * A reload can change the token but not the admin address, which stays bound until the process
   * restarts. A bound address that other machines can reach therefore keeps its token even when the
   * new file drops it (the file was validated against its own, new address).
   */
  setToken(token: string | null): void {
    const bound = this.bound.address;
    if (token === null && bound !== null && !isLoopbackAddress(bound) && this.token !== null) {
      this.logger.warn(
        { address: bound.raw },
        'gateway.admin.token kept: the admin listener is still bound to an address other machines can reach; restart the gateway to apply',
      );
      return;
    }
    this.token = token;
    this.server?.setToken(token);
  }

  /** Closes the listener and removes the pid file; failures are logged, never thrown. */
  async close(): Promise<void> {
    await this.server?.close().catch((error: unknown) => this.logger.warn({ err: error }, 'admin close failed'));
    this.server = null;
    if (!this.pidFile) return;
    await unlink(this.pidFile).catch(() => {});
    this.pidFile = null;
  }
}
