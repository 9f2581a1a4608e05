// Starting and stopping the bench's own processes: the origin and `gatehouse run`. The gateway logs
// to a file, not a pipe, so that reading its access log never costs the runner CPU during a measure.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { buildDist } from '../../scripts/build-dist.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = join(here, '..', '..');
/** The CLI from its .ts sources: what the tests run, so that they need no build. */
export const cliPath = join(repoRoot, 'packages', 'gatehouse', 'src', 'bin.ts');
/** The CLI as installed: Node with these arguments runs the compiled dist/ (see ensureBuilt). */
export const builtCli: readonly string[] = [
  '--conditions=gatehouse-built',
  join(repoRoot, 'packages', 'gatehouse', 'launcher', 'gatehouse.js'),
];

let built = false;

/** Builds dist/ once per process (turbo: a cached build is quick), before the first built gateway. */
export function ensureBuilt(): void {
  if (built) return;
  buildDist(repoRoot, process.execPath);
  built = true;
}

/** Every child this runner started and has not yet seen exit, for cleanup on Ctrl-C or a crash. */
export const children = new Set<ChildProcess>();

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  server.close();
  await once(server, 'close');
  return port;
}

export interface OriginPorts {
  http: number;
  https: number;
  mtls: number;
  h2: number;
}

export interface Origin {
  child: ChildProcess;
  pid: number;
  ports: OriginPorts;
}

export async function startOrigin(options: { cert: string; key: string; ca: string }): Promise<Origin> {
  const child = track(
    spawn(process.execPath, [join(here, 'origin.ts'), JSON.stringify(options)], { stdio: ['pipe', 'pipe', 'inherit'] }),
  );
  let buffered = '';
  child.stdout?.setEncoding('utf8');
  const ready = await new Promise<{ pid: number; ports: OriginPorts }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('origin did not start within 10 s')), 10_000);
    child.once('exit', (code) => reject(new Error(`origin exited (${code}) before it was ready`)));
    child.stdout?.on('data', (chunk: string) => {
      buffered += chunk;
      const line = buffered.split('\n').find((l) => l.includes('"origin ready"'));
      if (line) {
        clearTimeout(timer);
        resolve(JSON.parse(line) as { pid: number; ports: OriginPorts });
      }
    });
  });
  return { child, pid: ready.pid, ports: ready.ports };
}

export interface GatewayProcess {
  child: ChildProcess;
  pid: number;
  logFile: string;
}

export function logTail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * `gatehouse run --config FILE --workers N` as installed (dist/, built first), logging to `logFile`;
 * resolves once it logs `gateway ready`.
 */
export async function startGateway(configPath: string, workers: number, logFile: string): Promise<GatewayProcess> {
  ensureBuilt();
  const fd = openSync(logFile, 'w');
  const child = track(
    spawn(process.execPath, [...builtCli, 'run', '--config', configPath, '--workers', String(workers)], {
      cwd: repoRoot,
      stdio: ['ignore', fd, fd],
      env: { ...process.env, GATEHOUSE_LOG_FORMAT: 'json' },
    }),
  );
  closeSync(fd);
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `gatehouse exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${logTail(logFile)}`,
      );
    }
    let text = '';
    try {
      text = readFileSync(logFile, 'utf8');
    } catch {
      // not yet written
    }
    if (text.includes('"gateway ready"')) return { child, pid: child.pid as number, logFile };
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new Error(`gatehouse was not ready within 120 s:\n${logTail(logFile)}`);
}

/** SIGTERM (the gateway drains), SIGKILL after `graceMs`. Resolves with the exit code or signal. */
export async function stopProcess(child: ChildProcess, graceMs = 45_000): Promise<number | string> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode ?? (child.signalCode as string);
  const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  const [code, signal] = await exited;
  clearTimeout(timer);
  return code ?? (signal as string);
}
