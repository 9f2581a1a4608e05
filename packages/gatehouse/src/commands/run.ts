// `gatehouse run`: validate the config, start the primary and its workers, and run until drained.
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { formatDiagnostic } from '@gatehouse/config';
import {
  BindFailedError,
  createPrimaryLogger,
  installSignalHandlers,
  loadInitial,
  Primary,
  resolveLogFormat,
} from '@gatehouse/control';

export const summary = 'Run the gateway (primary and workers) in the foreground';

export const usage = `Usage: gatehouse run [--config FILE] [--workers N]

Runs the gateway in the foreground: one primary process that watches the configuration and
certificates, and N worker processes that serve traffic.

Options:
  -c, --config FILE   configuration file; default: $GATEHOUSE_CONFIG, then /etc/gatehouse/gatehouse.yaml
  -w, --workers N     worker processes; default: gateway.workers, else one per core

Environment:
  GATEHOUSE_CONFIG       configuration file when --config is not given
  GATEHOUSE_LOG_FORMAT   json | pretty; overrides gateway.log.format

Signals:
  SIGHUP    reload the configuration and certificates
  SIGUSR2   restart the workers one at a time
  SIGTERM, SIGINT   drain in-flight requests and exit 0
`;

export const DEFAULT_CONFIG_PATH = '/etc/gatehouse/gatehouse.yaml';

export interface RunArgs {
  config: string;
  workers: number | null;
}

/** Parses argv; throws a one-line message for the user on a bad flag. */
export function parseRunArgs(argv: string[], env: NodeJS.ProcessEnv): RunArgs {
  let config: string | null = null;
  let workers: number | null = null;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const [flag, inline] =
      arg.startsWith('--') && arg.includes('=')
        ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
        : [arg, null];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === '--config' || flag === '-c') config = value();
    else if (flag === '--workers' || flag === '-w') {
      const raw = value();
      const n = Number(raw);
      if (!Number.isInteger(n) || n < 1 || n > 1024)
        throw new Error(`--workers must be a whole number from 1 to 1024, got "${raw}"`);
      workers = n;
    } else throw new Error(`unknown option "${arg}"`);
  }
  return { config: resolve(config ?? env.GATEHOUSE_CONFIG ?? DEFAULT_CONFIG_PATH), workers };
}

/** The flag wins, then `gateway.workers` (0 = auto), then one per core. */
export function workerCount(flag: number | null, configured: number, cores: number): number {
  if (flag !== null) return flag;
  if (configured > 0) return configured;
  return Math.max(1, cores);
}

export async function main(argv: string[]): Promise<number> {
  let args: RunArgs;
  try {
    args = parseRunArgs(argv, process.env);
  } catch (error) {
    process.stderr.write(`gatehouse run: ${(error as Error).message}\n${usage}`);
    return 2;
  }

  const initial = await loadInitial(args.config, process.env);
  if (!initial.ok) {
    for (const d of [...initial.errors, ...initial.warnings]) process.stderr.write(`${formatDiagnostic(d)}\n`);
    process.stderr.write(`gatehouse run: ${initial.errors.length} error(s) in ${args.config}; nothing was started\n`);
    return 1;
  }
  const config = initial.candidate.snapshot.config;
  const format = resolveLogFormat(process.env.GATEHOUSE_LOG_FORMAT, config.gateway.log.format);
  const stream = format === 'pretty' ? await prettyStream() : null;
  const { logger, flush } = createPrimaryLogger({ level: config.gateway.log.level, stream });
  for (const w of initial.candidate.warnings) logger.warn({ warning: formatDiagnostic(w) }, 'config warning');

  const primary = new Primary({
    configFile: args.config,
    env: process.env,
    workers: workerCount(args.workers, config.gateway.workers, availableParallelism()),
    logger,
    initial: initial.candidate,
    tickets: initial.tickets,
    version: await version(),
  });

  // A stray rejection in the primary is a bug to log, not a reason to take every worker down with it.
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled rejection in the primary'));

  // Signals are taken from the start: a SIGTERM during start-up drains what has started.
  let startFailed = false;
  const uninstall = installSignalHandlers(
    {
      reload: () => void primary.reload('signal'),
      restart: () => void primary.restart().catch(() => {}),
      drain: (signal) => void primary.drain(signal),
    },
    logger,
  );
  try {
    await primary.start();
  } catch (error) {
    // Stopped by SIGTERM/SIGINT while starting: that is a drain, not a failure.
    if (primary.isDraining) return finish(await primary.stopped, uninstall, flush);
    startFailed = true;
    const message = error instanceof BindFailedError ? error.message : `start-up failed: ${(error as Error).message}`;
    logger.error({ err: error }, message);
    flush();
    process.stderr.write(`gatehouse run: ${message}\n`);
    await primary.abortStart();
  }
  return finish(startFailed ? 1 : await primary.stopped, uninstall, flush);
}

function finish(code: number, uninstall: () => void, flush: () => void): number {
  uninstall();
  flush();
  // Whatever else still holds the event loop (a probe pool, a stray socket) must not keep a stopped
  // gateway alive.
  setTimeout(() => process.exit(code), 1_000).unref();
  return code;
}

async function prettyStream(): Promise<NodeJS.WritableStream> {
  const { default: pretty } = await import('pino-pretty');
  return pretty({ colorize: process.stdout.isTTY === true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'hostname' });
}

async function version(): Promise<string> {
  try {
    const { readFile } = await import('node:fs/promises');
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}
