// `gatehouse status`: what the running gateway is doing, from its admin endpoint: workers, routes
// with their backends' health, and certificates with the days they have left.
import {
  ADMIN_TARGET_USAGE,
  adminJson,
  callAdmin,
  errorMessage,
  locateAdmin,
  parseAdminArgs,
  type StatusReport,
} from '@gatehouse/control';
// The status page's wording, so that the page and this command say durations the same way.
import { formatDuration } from '@gatehouse/control/status-page/format';

export { formatDuration };

export const summary = 'Show workers, routes and certificates of the running gateway';

export const usage = `Usage: gatehouse status [options]

Options:
${ADMIN_TARGET_USAGE} (default 10000)
      --json           print the raw /status document

Exit status: 0 shown, 1 unreachable, 2 usage error.
`;

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

function megabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MB`;
}

/** The human rendering of a StatusReport. `now` decides whether a passive ejection is still in force. */
export function formatStatus(report: StatusReport, now = Date.now()): string {
  const out: string[] = [];
  out.push(
    `gatehouse ${report.version}  pid ${report.pid}  up ${formatDuration(report.uptimeSeconds)}  generation ${report.generation}`,
  );
  out.push(`config ${report.configFile}`);
  if (report.lastReload) {
    const lr = report.lastReload;
    out.push(`last reload ${lr.at} ${lr.accepted ? 'accepted' : 'REJECTED'}${lr.message ? `: ${lr.message}` : ''}`);
  }

  out.push('', `WORKERS (${report.workers.length})`);
  out.push(
    table(
      ['ID', 'PID', 'GEN', 'UP', 'REQUESTS', 'CONNS', 'LAG', 'ELU', 'RSS', 'HEAP'],
      report.workers.map((w) => [
        String(w.id),
        String(w.pid),
        w.generation === report.generation ? String(w.generation) : `${w.generation}!`,
        formatDuration(w.uptimeSeconds),
        String(w.requests),
        String(w.activeConnections),
        `${w.eventLoopLagMs.toFixed(1)} ms`,
        `${(w.eventLoopUtilization * 100).toFixed(0)}%`,
        megabytes(w.rssBytes),
        megabytes(w.heapUsedBytes),
      ]),
    ),
  );

  out.push('', `ROUTES (${report.routes.length})`);
  const routeRows: string[][] = [];
  for (const route of report.routes) {
    const hosts = route.hosts.length > 0 ? route.hosts.join(',') : '*';
    if (route.backends.length === 0) routeRows.push([route.name, route.path, hosts, '-', '-', '-', '-']);
    route.backends.forEach((b, i) => {
      const state = b.ejectedUntil > now ? 'EJECTED' : b.up ? 'up' : 'DOWN';
      const probe = b.lastProbe
        ? `${b.lastProbe.ok ? 'ok' : 'fail'} ${b.lastProbe.status ?? b.lastProbe.error ?? ''}${
            b.lastProbe.latencyMs === null ? '' : ` ${b.lastProbe.latencyMs.toFixed(0)} ms`
          }`.trim()
        : '-';
      routeRows.push(i === 0 ? [route.name, route.path, hosts] : ['', '', '']);
      routeRows[routeRows.length - 1]!.push(b.endpoint, String(b.weight), state, probe);
    });
  }
  out.push(table(['ROUTE', 'PATH', 'HOSTS', 'BACKEND', 'WEIGHT', 'STATE', 'LAST PROBE'], routeRows));

  out.push('', `CERTIFICATES (${report.certificates.length})`);
  out.push(
    table(
      ['ROLE', 'NAMES', 'SERIAL', 'NOT AFTER', 'DAYS LEFT', 'SHA-256'],
      report.certificates.map((c) => [
        c.role,
        c.names.length > 0 ? c.names.join(',') : c.subject,
        c.serial,
        c.notAfter,
        c.daysLeft < 0 ? 'EXPIRED' : String(Math.floor(c.daysLeft)),
        c.fingerprint256,
      ]),
    ),
  );
  return `${out.join('\n')}\n`;
}

export async function main(argv: string[]): Promise<number> {
  let args: ReturnType<typeof parseAdminArgs>;
  try {
    args = parseAdminArgs(argv, { timeoutMs: 10_000, json: false });
  } catch (error) {
    process.stderr.write(`gatehouse status: ${errorMessage(error)}\n\n${usage}`);
    return 2;
  }
  try {
    const location = await locateAdmin(args);
    const response = await callAdmin(location, 'GET', '/status', args.timeoutMs);
    if (response.status !== 200) {
      const body = adminJson<{ error?: string }>(response);
      throw new Error(`the gateway answered HTTP ${response.status}: ${body.error ?? response.text}`);
    }
    if (args.json) {
      process.stdout.write(response.text.endsWith('\n') ? response.text : `${response.text}\n`);
      return 0;
    }
    process.stdout.write(formatStatus(adminJson<StatusReport>(response)));
    return 0;
  } catch (error) {
    process.stderr.write(`gatehouse status: ${errorMessage(error)}\n`);
    return 1;
  }
}
