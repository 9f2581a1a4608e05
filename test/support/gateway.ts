// Starts the real `gatehouse` CLI as a child process for end-to-end tests and reads its JSON log
// lines. Nothing here imitates a Gatehouse component: the gateway under test is the real program.
// Every gateway still running when its test file ends is stopped then, whatever failed before.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { builtCli, cliPath, ensureBuilt, freePort, repoRoot } from '../../bench/lib/processes.ts';

// Where the repository and the CLI are (from its sources; built, after ensureBuilt), and a free
// loopback port: the bench starts the same processes and owns these.
export { builtCli, cliPath, ensureBuilt, freePort, repoRoot };

/** A fresh temporary directory for one test. */
export function tempDir(prefix = 'gatehouse-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `gatehouse ARGS` to completion (bounded by `timeoutMs`). */
export async function runCli(
  args: string[],
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string; cli?: readonly string[] } = {},
): Promise<CliResult> {
  const child = spawn(process.execPath, [...(options.cli ?? [cliPath]), ...args], {
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  return { code, signal, stdout, stderr };
}

export type LogLine = Record<string, unknown> & { msg?: string };

/** The gateways of this test file that have not exited. */
const running = new Set<GatewayProcess>();

// Registered when this module loads, so on the file's root: it runs after every test and suite hook,
// failed or not. A test that fails before its own stop, or a start that never became ready, would
// otherwise leave a gateway whose pipes keep `node --test` waiting for ever.
after(() => Promise.all([...running].map((gateway) => gateway.stop())));

/** A running `gatehouse run` (or any long-running CLI command) whose JSON log lines are collected. */
export class GatewayProcess {
  readonly child: ChildProcess;
  readonly lines: LogLine[] = [];
  stderr = '';
  private waiters: Array<{ test: (line: LogLine) => boolean; resolve: (line: LogLine) => void }> = [];
  private partial = '';
  readonly exited: Promise<[number | null, NodeJS.Signals | null]>;

  /** `cli`: Node's arguments before the command's, by default the CLI from its sources. */
  constructor(args: string[], env: NodeJS.ProcessEnv = {}, cli: readonly string[] = [cliPath]) {
    this.child = spawn(process.execPath, [...cli, ...args], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.exited = once(this.child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    running.add(this);
    const forget = () => running.delete(this);
    this.exited.then(forget, forget);
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => this.onData(chunk));
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
    });
  }

  private onData(chunk: string): void {
    this.partial += chunk;
    let newline = this.partial.indexOf('\n');
    while (newline !== -1) {
      const text = this.partial.slice(0, newline);
      this.partial = this.partial.slice(newline + 1);
      newline = this.partial.indexOf('\n');
      if (!text.startsWith('{')) continue;
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        continue;
      }
      this.lines.push(line);
      this.waiters = this.waiters.filter((w) => {
        if (!w.test(line)) return true;
        w.resolve(line);
        return false;
      });
    }
  }

  /** Resolves with the first log line (already seen or future) that passes `test`. */
  waitForLog(test: (line: LogLine) => boolean, timeoutMs = 20_000, what = 'log line'): Promise<LogLine> {
    const seen = this.lines.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${what}; stderr:\n${this.stderr}\nlast lines:\n${this.lines
              .slice(-15)
              .map((l) => JSON.stringify(l))
              .join('\n')}`,
          ),
        );
      }, timeoutMs);
      const onExit = () => reject(new Error(`gateway exited while waiting for ${what}; stderr:\n${this.stderr}`));
      this.child.once('exit', onExit);
      this.waiters.push({
        test,
        resolve: (line) => {
          clearTimeout(timer);
          this.child.off('exit', onExit);
          resolve(line);
        },
      });
    });
  }

  /** Like waitForLog, for the lines logged since `mark` (a `lines.length` taken before the change). */
  waitForLogAfter(mark: number, test: (line: LogLine) => boolean, timeoutMs = 20_000, what = 'log line') {
    return this.waitForLog((line) => this.lines.indexOf(line) >= mark && test(line), timeoutMs, what);
  }

  /** Waits for the primary's `gateway ready` line. */
  ready(timeoutMs = 30_000): Promise<LogLine> {
    return this.waitForLog((l) => l.msg === 'gateway ready', timeoutMs, '"gateway ready"');
  }

  /** Sends `signal` and waits for exit, escalating to SIGKILL after `timeoutMs`. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<[number | null, NodeJS.Signals | null]> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.exited;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const result = await this.exited;
    clearTimeout(timer);
    return result;
  }
}

/** Writes `text` to `dir/name` and returns the path. */
export function writeFile(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** Writes a config (its text, or its lines) as `dir/gatehouse.yaml` and returns the path. */
export function writeConfig(dir: string, config: string | string[]): string {
  return writeFile(dir, 'gatehouse.yaml', Array.isArray(config) ? `${config.join('\n')}\n` : config);
}

/** Starts `gatehouse run --config FILE` with `workers` workers and waits until it is ready. */
export async function startGateway(
  configPath: string,
  options: {
    workers?: number;
    env?: NodeJS.ProcessEnv;
    args?: string[];
    readyTimeoutMs?: number;
    /** Node's arguments before the command's (GatewayProcess). */
    cli?: readonly string[];
  } = {},
): Promise<GatewayProcess> {
  const gateway = new GatewayProcess(
    ['run', '--config', configPath, '--workers', String(options.workers ?? 2), ...(options.args ?? [])],
    // The suite owns its machine: let the gateway turn on tcp_migrate_req so rolling restarts lose nothing.
    { GATEHOUSE_LOG_FORMAT: 'json', GATEHOUSE_TCP_MIGRATE_REQ: 'set', ...options.env },
    options.cli,
  );
  try {
    await gateway.ready(options.readyTimeoutMs);
  } catch (error) {
    // The caller never gets this gateway to stop.
    await gateway.stop('SIGKILL');
    throw error;
  }
  return gateway;
}
