// `gatehouse demo`: the newcomer's first run. A throwaway PKI, two backends (one plain, one that
// accepts only Gatehouse's client certificate), a readable config on disk, and the real gateway on
// it as a child process, so that Ctrl-C behaves exactly as it does in production (drain, exit 0).
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { dirname, join, relative, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { createDemoPki } from '@gatehouse/pki';
import { DemoPortInUseError, startDemoBackends } from '../demo/backends.ts';
import { demoAuth } from '../demo/auth.ts';
import { demoConfigYaml } from '../demo/config.ts';
import { tryLines } from '../demo/curl-lines.ts';
import { DEFAULT_PORT_BASE, demoFiles, demoMaterial, demoPorts, MAX_PORT_BASE } from '../demo/layout.ts';

export const summary = 'Run a local demo: throwaway PKI, two backends, the gateway with mTLS both ways';

export const usage = `Usage: gatehouse demo [--dir DIR] [--port-base N] [--workers N]

Creates (or reuses) a throwaway PKI under DIR, starts two demo backends, writes DIR/gatehouse.yaml
and runs the gateway on it in the foreground. Prints curl commands to try. Ctrl-C stops everything.

Options:
  --dir DIR         data directory (default: ./.gatehouse/demo)
  --port-base N     ports N (HTTP), N+363 (HTTPS), N+1100 (admin), N+1 and N+364 (backends);
                    default ${DEFAULT_PORT_BASE}, which gives 8080, 8443, 9180, 8081 and 8444
  --workers N       gateway worker processes (default 2)
`;

interface DemoArgs {
  dir: string;
  portBase: number;
  workers: number;
}

function parseDemoArgs(argv: string[], cwd: string): DemoArgs {
  const args: DemoArgs = { dir: resolve(cwd, '.gatehouse', 'demo'), portBase: DEFAULT_PORT_BASE, workers: 2 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const value = () => {
      const v = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (v === undefined || v === '') throw new Error(`${flag} needs a value`);
      return v;
    };
    const integer = (raw: string, min: number, max: number) => {
      const n = Number(raw);
      if (!Number.isInteger(n) || n < min || n > max)
        throw new Error(`${flag} must be a whole number from ${min} to ${max}, got "${raw}"`);
      return n;
    };
    if (flag === '--dir') args.dir = resolve(cwd, value());
    else if (flag === '--port-base') args.portBase = integer(value(), 1024, MAX_PORT_BASE);
    else if (flag === '--workers') args.workers = integer(value(), 1, 64);
    else throw new Error(`unknown option "${arg}"`);
  }
  return args;
}

// Beside the commands, with this module's extension: `.ts` from the sources, `.js` from dist/.
const binPath = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  `bin${import.meta.url.slice(import.meta.url.lastIndexOf('.'))}`,
);
const say = (text = '') => process.stdout.write(`${text}\n`);

/** 200 from the admin /readyz: every worker has the config and is serving. */
function adminReady(port: number): Promise<boolean> {
  return new Promise((done) => {
    const req = request({ host: '127.0.0.1', port, path: '/readyz', timeout: 1000, agent: false }, (res) => {
      res.resume();
      done(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => done(false));
    req.end();
  });
}

type Exit = [number | null, NodeJS.Signals | null];

async function waitReady(gateway: ChildProcess, exited: Promise<Exit>, adminPort: number): Promise<boolean> {
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const deadline = Date.now() + 60_000;
  while (!gone && Date.now() < deadline) {
    if (await adminReady(adminPort)) return true;
    await sleep(200);
  }
  if (!gone) gateway.kill('SIGTERM');
  return false;
}

export async function main(argv: string[]): Promise<number> {
  let args: DemoArgs;
  try {
    args = parseDemoArgs(argv, process.cwd());
  } catch (error) {
    process.stderr.write(`gatehouse demo: ${(error as Error).message}\n${usage}`);
    return 2;
  }
  const files = demoFiles(args.dir);
  const ports = demoPorts(args.portBase);
  // Suggest a base below Linux's ephemeral range (32768+), where outgoing connections cannot hold a port.
  const otherBase =
    args.portBase === DEFAULT_PORT_BASE || args.portBase + 2000 > 31_000 ? 20_000 : args.portBase + 2000;
  const portHint = `pick other ports with --port-base, e.g. \`gatehouse demo --port-base ${otherBase}\``;

  mkdirSync(files.dir, { recursive: true });
  const pki = await createDemoPki(files.pkiDir);
  const material = demoMaterial(pki);
  const shown = relative(process.cwd(), files.dir) || '.';
  say(
    `gatehouse demo: ${pki.reused ? 'reusing the' : 'created a'} throwaway PKI in ${shown.startsWith('..') ? files.dir : shown}/pki`,
  );

  let backends: Awaited<ReturnType<typeof startDemoBackends>>;
  try {
    backends = await startDemoBackends({
      host: '127.0.0.1',
      bluePort: ports.blue,
      greenPort: ports.green,
      greenCert: material.backendCert,
      greenKey: material.backendKey,
      greenClientCa: material.backendCa,
    });
  } catch (error) {
    if (error instanceof DemoPortInUseError) {
      process.stderr.write(`gatehouse demo: ${error.message}; ${portHint}\n`);
      return 1;
    }
    throw error;
  }

  const auth = demoAuth();
  writeFileSync(files.config, demoConfigYaml(files.dir, ports, material, auth));

  const gateway = spawn(
    process.execPath,
    // Node's flags, the gatehouse-built condition among them, so that the gateway runs what the demo runs.
    [
      ...process.execArgv.filter((arg) => !arg.startsWith('--inspect')),
      binPath,
      'run',
      '--config',
      files.config,
      '--workers',
      String(args.workers),
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  const exited = once(gateway, 'exit') as Promise<Exit>;

  // Ctrl-C in a terminal reaches the whole process group, the gateway included; a signal sent to this
  // process alone (kill, a test, npm's wrapper) is passed on. The gateway ignores a second one while
  // it drains, so both paths may happen at once.
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (!stopping) say(`\ngatehouse demo: ${signal}, stopping: the gateway drains, then the backends close`);
    stopping = true;
    if (gateway.exitCode === null && gateway.signalCode === null) gateway.kill(signal);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  const ready = await waitReady(gateway, exited, ports.admin);
  if (ready && !stopping) {
    const configShown = relative(process.cwd(), files.config);
    const lines = [
      '',
      'Gatehouse demo is running.',
      '',
      `  config    ${configShown.startsWith('..') ? files.config : configShown}   (edit it while it runs: the gateway reloads on save)`,
      `  gateway   http://localhost:${ports.web}   https://localhost:${ports.webSecure} (client certificate required on /secure)`,
      `  admin     http://127.0.0.1:${ports.admin}/status   /metrics`,
      `  status    http://127.0.0.1:${ports.admin}/   (the live status page, in a browser)`,
      `  backends  "blue" http://127.0.0.1:${ports.blue}   "green" https://127.0.0.1:${ports.green} (accepts only Gatehouse's client certificate)`,
      '',
      'Try these in another terminal:',
    ];
    tryLines(ports, material, process.cwd(), auth).forEach((line, i) => {
      lines.push('', `  # ${i + 1}. ${line.title}`, `  $ ${line.command}`);
    });
    lines.push('', 'Press Ctrl-C to stop.', '');
    say(lines.join('\n'));
  }

  const [code, signal] = await exited;
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  await backends.close();
  if (stopping) {
    say(`gatehouse demo: stopped (gateway exit ${code ?? signal})`);
  } else if (!ready) {
    process.stderr.write(
      `gatehouse demo: the gateway did not start (its message is above). If a port is taken, ${portHint}.\n`,
    );
  } else {
    process.stderr.write(`gatehouse demo: the gateway exited unexpectedly (${code ?? signal})\n`);
  }
  // The demo's own exit says whether the gateway stopped cleanly.
  const result = stopping && code === 0 ? 0 : (code ?? 1) || 1;
  setTimeout(() => process.exit(result), 1000).unref();
  return result;
}
