// `gatehouse restart`: a rolling restart of the workers (new code or a new Node), one at a time,
// through the admin endpoint; falls back to SIGUSR2 through the pid file.
import {
  ADMIN_TARGET_USAGE,
  adminJson,
  errorMessage,
  locateAdmin,
  parseAdminArgs,
  postAdminOrSignal,
} from '@gatehouse/control';

export const summary = 'Replace the workers of the running gateway one at a time';

export const usage = `Usage: gatehouse restart [options]

Replaces every worker, one at a time: each new worker gets the current generation and binds its
listeners before the old one drains. Waits until the last worker is replaced.

Options:
${ADMIN_TARGET_USAGE} (default 300000)

Exit status: 0 done, 1 failed or unreachable, 2 usage error.
`;

export async function main(argv: string[]): Promise<number> {
  let args: ReturnType<typeof parseAdminArgs>;
  try {
    args = parseAdminArgs(argv, { timeoutMs: 300_000 });
  } catch (error) {
    process.stderr.write(`gatehouse restart: ${errorMessage(error)}\n\n${usage}`);
    return 2;
  }
  try {
    const location = await locateAdmin(args);
    const { response, signalled } = await postAdminOrSignal(location, '/restart', args.timeoutMs, 'SIGUSR2');
    if (signalled) {
      process.stderr.write(`gatehouse restart: ${signalled.reason}\n`);
      process.stdout.write(
        `sent SIGUSR2 to pid ${signalled.pid} (${signalled.pidFile}); progress is in the gateway's log\n`,
      );
      return 0;
    }
    const body = adminJson<{ restarted?: boolean; durationMs?: number; error?: string }>(response);
    if (response.status !== 200 || body.restarted !== true) {
      throw new Error(`rolling restart failed (HTTP ${response.status}): ${body.error ?? response.text}`);
    }
    process.stdout.write(`rolling restart done in ${((body.durationMs ?? 0) / 1000).toFixed(1)} s\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`gatehouse restart: ${errorMessage(error)}\n`);
    return 1;
  }
}
