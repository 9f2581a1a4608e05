// `gatehouse reload`: asks the running gateway to re-read its config and certificates, and prints
// whether the new generation was accepted or, with the diagnostics, why it was rejected. Falls back
// to SIGHUP through the pid file when no admin endpoint answers (then the outcome is in the log).
import { formatDiagnostic } from '@gatehouse/config';
import {
  ADMIN_TARGET_USAGE,
  adminJson,
  errorMessage,
  locateAdmin,
  parseAdminArgs,
  postAdminOrSignal,
  type ReloadOutcome,
} from '@gatehouse/control';

export const summary = 'Reload config and certificates of the running gateway';

export const usage = `Usage: gatehouse reload [options]

Re-reads the config file and every certificate, key, CA and CRL it names, validates all of it and
rolls it out to the workers. A rejected reload keeps the running generation.

Options:
${ADMIN_TARGET_USAGE} (default 60000)
      --json           print the outcome as JSON

Exit status: 0 accepted, 1 rejected or unreachable, 2 usage error.
`;

function printOutcome(outcome: ReloadOutcome): void {
  for (const warning of outcome.warnings) process.stdout.write(`${formatDiagnostic(warning)}\n`);
  if (outcome.accepted) {
    const what = outcome.unchanged ? 'nothing changed' : outcome.message;
    process.stdout.write(`reload accepted: generation ${outcome.generation}${what ? ` (${what})` : ''}\n`);
    return;
  }
  for (const error of outcome.errors) process.stderr.write(`${formatDiagnostic(error)}\n`);
  process.stderr.write(`reload rejected: ${outcome.message}\ngeneration ${outcome.generation} keeps serving\n`);
}

export async function main(argv: string[]): Promise<number> {
  let args: ReturnType<typeof parseAdminArgs>;
  try {
    args = parseAdminArgs(argv, { timeoutMs: 60_000, json: false });
  } catch (error) {
    process.stderr.write(`gatehouse reload: ${errorMessage(error)}\n\n${usage}`);
    return 2;
  }
  try {
    const location = await locateAdmin(args);
    const { response, signalled } = await postAdminOrSignal(location, '/reload', args.timeoutMs, 'SIGHUP');
    if (signalled) {
      process.stderr.write(`gatehouse reload: ${signalled.reason}\n`);
      process.stdout.write(
        `sent SIGHUP to pid ${signalled.pid} (${signalled.pidFile}); the outcome is in the gateway's log\n`,
      );
      return 0;
    }
    if (response.status !== 200 && response.status !== 422) {
      const body = adminJson<{ error?: string }>(response);
      throw new Error(`the gateway answered HTTP ${response.status}: ${body.error ?? response.text}`);
    }
    const outcome = adminJson<ReloadOutcome>(response);
    if (args.json) process.stdout.write(`${JSON.stringify(outcome, null, 2)}\n`);
    else printOutcome(outcome);
    return outcome.accepted ? 0 : 1;
  } catch (error) {
    process.stderr.write(`gatehouse reload: ${errorMessage(error)}\n`);
    return 1;
  }
}
