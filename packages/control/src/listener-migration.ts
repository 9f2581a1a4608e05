// Rolling restarts with reusePort listeners: when the old worker closes its listening socket, the
// connections the kernel had already queued on it (handshake done, not yet accepted) are reset,
// unless `net.ipv4.tcp_migrate_req` is 1 (Linux ≥ 5.14), which moves them to another socket of the
// same reuseport group. Measured on Linux 6.18, Node 24, loopback:
// - two bare reusePort listeners, 8 loops of fresh connections, 10 closes: 12 resets with 0 (58 when
//   the closing process was busy for 50 ms), 0 with 1;
// - the whole gateway in its own network namespace, 2 workers, 5 rolling restarts under 4 keep-alive
//   and 4 fresh-connection loops (~5,000 requests): 4-5 fresh-connection resets with 0, none with 1.
// A proxy that rewrites kernel settings behind the operator's back is not what an nginx or HAProxy
// operator expects, so by default the primary only reads it and says, once, what to set. The
// opt-in `GATEHOUSE_TCP_MIGRATE_REQ=set` (used by the test suite, which owns its machine) turns it
// on when the process may (root or CAP_NET_ADMIN in its network namespace).
import { readFileSync, writeFileSync } from 'node:fs';
import type { Logger } from 'pino';

export const TCP_MIGRATE_REQ = '/proc/sys/net/ipv4/tcp_migrate_req';

export type MigrationState = 'on' | 'enabled-now' | 'off' | 'unsupported';

/** Reads the sysctl; with `GATEHOUSE_TCP_MIGRATE_REQ=set` it also turns it on when it is 0. */
export function ensureListenerMigration(
  logger: Logger,
  env: NodeJS.ProcessEnv,
  path = TCP_MIGRATE_REQ,
): MigrationState {
  let value: string;
  try {
    value = readFileSync(path, 'utf8').trim();
  } catch {
    logger.warn(
      'net.ipv4.tcp_migrate_req is not available (Linux < 5.14?): a rolling restart may reset queued connections',
    );
    return 'unsupported';
  }
  if (value !== '0') return 'on';
  if (env.GATEHOUSE_TCP_MIGRATE_REQ === 'set') {
    try {
      writeFileSync(path, '1\n');
      logger.info('net.ipv4.tcp_migrate_req set to 1 so that rolling restarts lose no queued connection');
      return 'enabled-now';
    } catch {
      // Not privileged: fall through to the advice.
    }
  }
  logger.warn(
    'net.ipv4.tcp_migrate_req is 0: a rolling restart can reset connections queued on a closing listener; set it to 1 (sysctl -w net.ipv4.tcp_migrate_req=1)',
  );
  return 'off';
}

/** `net.ipv4.tcp_migrate_req` (Linux ≥ 5.14) lets the kernel move queued connections off a closing listener. */
export function readTcpMigrateReq(): string | null {
  try {
    return readFileSync(TCP_MIGRATE_REQ, 'utf8').trim();
  } catch {
    return null;
  }
}
