// Alternated A/B of CPU per request: several Gatehouse checkouts (and optionally the Node floor) run
// side by side against one origin, and short load bursts go to each in turn, round after round, so
// that every candidate is measured in the same minutes and a busy machine's noise falls on all of
// them alike. Per burst: the CPU of the loaded candidate's process tree / requests answered.
//   node bench/ab.ts --tree before=/path/to/old/checkout --tree after=. [--floor] [--floor-http-proxy-3]
//     [--rounds 6] [--burst 5s] [--connections 50] [--scenario http|https]
// Each tree runs its own packages/gatehouse/src/bin.ts with the bench's gateway config (access log,
// admin listener, health checks, 2 workers). Prints each burst and the medians. A gateway's log goes
// to a folder of its own, never beside its config: the primary watches the config's folder, and a
// log written there would keep its file watcher busy (as run.ts does, `logs/`).
import { type ChildProcess, spawn } from 'node:child_process';
import {
  closeSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { gatewayConfigYaml } from './lib/gateway-config.ts';
import { parseDuration } from './lib/flags.ts';
import { runLoad } from './lib/load.ts';
import { createBenchPki } from './lib/pki.ts';
import { cpuSecondsBetween, peakRssBytes, processTree, sampleCpu } from './lib/proc.ts';
import { children, freePort, logTail, repoRoot, startOrigin, stopProcess } from './lib/processes.ts';

interface Candidate {
  name: string;
  child: ChildProcess;
  url: string;
  cpuPerRequestUs: number[];
  rps: number[];
}

function parseArgs(argv: string[]) {
  const out = {
    trees: [] as [string, string][],
    floor: false,
    floorHttpProxy3: false,
    rounds: 6,
    burstMs: 5000,
    connections: 50,
    scenario: 'http',
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--floor') {
      out.floor = true;
      continue;
    }
    if (flag === '--floor-http-proxy-3') {
      out.floorHttpProxy3 = true;
      continue;
    }
    const value = argv[++i] ?? '';
    if (flag === '--tree') {
      const eq = value.indexOf('=');
      if (eq <= 0) throw new Error(`--tree NAME=PATH, got ${value}`);
      out.trees.push([value.slice(0, eq), resolve(value.slice(eq + 1))]);
    } else if (flag === '--rounds') out.rounds = Number(value);
    else if (flag === '--burst') out.burstMs = parseDuration(value);
    else if (flag === '--connections') out.connections = Number(value);
    else if (flag === '--scenario') out.scenario = value;
    else throw new Error(`unknown option ${flag}`);
  }
  if (out.scenario !== 'http' && out.scenario !== 'https') throw new Error('--scenario http or https');
  if (out.trees.length === 0) throw new Error('at least one --tree NAME=PATH');
  return out;
}

async function waitForLog(child: ChildProcess, file: string, marker: string, what: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited before it was ready:\n${logTail(file)}`);
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      // not written yet
    }
    if (text.includes(marker)) return;
    await sleep(100);
  }
  throw new Error(`${what} not ready within 120 s:\n${logTail(file)}`);
}

function spawnLogged(node: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, logFile: string): ChildProcess {
  const fd = openSync(logFile, 'w');
  const child = spawn(node, args, { cwd, stdio: ['ignore', fd, fd], env });
  closeSync(fd);
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-ab-'));
  const candidates: Candidate[] = [];
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      for (const child of children) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      process.exit(130);
    });
  }
  try {
    const pki = await createBenchPki(join(dir, 'pki'), 0);
    const origin = await startOrigin({ cert: pki.origin.certPath, key: pki.origin.keyPath, ca: pki.caPath });
    const scheme = options.scenario;
    for (const [name, tree] of options.trees) {
      const runDir = join(dir, name);
      mkdirSync(runDir);
      const [httpPort, httpsPort, adminPort] = [await freePort(), await freePort(), await freePort()];
      const config = join(runDir, 'gatehouse.yaml');
      writeFileSync(
        config,
        gatewayConfigYaml({
          httpPort,
          httpsPort,
          adminPort,
          certPath: pki.server.fullchainPath,
          keyPath: pki.server.keyPath,
          accessLog: true,
          endpoint: `http://127.0.0.1:${origin.ports.http}`,
          upstreamTls: null,
        }),
      );
      mkdirSync(join(runDir, 'logs'));
      const log = join(runDir, 'logs', 'gateway.log');
      const child = spawnLogged(
        join(tree, 'node_modules/node/bin/node'),
        [join(tree, 'packages/gatehouse/src/bin.ts'), 'run', '--config', config, '--workers', '2'],
        tree,
        { ...process.env, GATEHOUSE_LOG_FORMAT: 'json' },
        log,
      );
      await waitForLog(child, log, '"gateway ready"', name);
      const port = scheme === 'http' ? httpPort : httpsPort;
      candidates.push({ name, child, url: `${scheme}://127.0.0.1:${port}/`, cpuPerRequestUs: [], rps: [] });
    }
    const floors: [string, string][] = [];
    if (options.floor) floors.push(['node-floor', 'bench/node-floor.mjs']);
    if (options.floorHttpProxy3) floors.push(['http-proxy-3-floor', 'bench/http-proxy-3-floor.mjs']);
    for (const [name, script] of floors) {
      const port = await freePort();
      const floorPki = join(dir, `${name}-pki`);
      mkdirSync(floorPki);
      copyFileSync(pki.server.fullchainPath, join(floorPki, 'server.crt'));
      copyFileSync(pki.server.keyPath, join(floorPki, 'server.key'));
      const child = spawnLogged(
        process.execPath,
        [join(repoRoot, script)],
        repoRoot,
        {
          ...process.env,
          ANCHOR_PKI_DIR: floorPki,
          ANCHOR_BACKEND_HTTP: `127.0.0.1:${origin.ports.http}`,
          [scheme === 'http' ? 'CANDIDATE_HTTP_PORT' : 'CANDIDATE_HTTPS_PORT']: String(port),
        },
        join(dir, `${name}.log`),
      );
      await sleep(1500);
      candidates.push({ name, child, url: `${scheme}://127.0.0.1:${port}/`, cpuPerRequestUs: [], rps: [] });
    }
    const load = (url: string, durationMs: number) =>
      runLoad('wrk', {
        url,
        connections: options.connections,
        threads: 1,
        durationMs,
        warmupMs: 0,
        closeEachRequest: false,
        h2Streams: 1,
        logFile: '',
      });
    for (const c of candidates) await load(c.url, 2000);
    process.stdout.write(`round  ${candidates.map((c) => c.name.padStart(22)).join('')}   (CPU µs/req, req/s)\n`);
    for (let round = 0; round < options.rounds; round++) {
      // Rotate the order each round, so that no candidate always follows the same one.
      const order = candidates.map((_, i) => candidates[(i + round) % candidates.length] as Candidate);
      for (const c of order) {
        const pids = processTree(c.child.pid as number);
        const before = sampleCpu(pids);
        const result = await load(c.url, options.burstMs);
        const cpu = cpuSecondsBetween(before, sampleCpu(pids));
        if (result.errors > 0) process.stdout.write(`${c.name}: ${result.errors} errors in round ${round + 1}\n`);
        c.cpuPerRequestUs.push((cpu * 1e6) / result.requests);
        c.rps.push(result.rps);
      }
      const cells = candidates.map((c) =>
        `${(c.cpuPerRequestUs.at(-1) as number).toFixed(0)} µs ${(c.rps.at(-1) as number).toFixed(0).padStart(6)}/s`.padStart(
          22,
        ),
      );
      process.stdout.write(`${String(round + 1).padStart(5)}  ${cells.join('')}   load ${loadavg()[0]?.toFixed(1)}\n`);
    }
    const medians = candidates.map((c) =>
      `${median(c.cpuPerRequestUs).toFixed(0)} µs ${median(c.rps).toFixed(0).padStart(6)}/s`.padStart(22),
    );
    process.stdout.write(`median ${medians.join('')}\n`);
    const rss = candidates.map((c) => {
      const total = processTree(c.child.pid as number).reduce((s, pid) => s + peakRssBytes(pid), 0);
      return `${(total / 2 ** 20).toFixed(0)} MiB`.padStart(22);
    });
    process.stdout.write(`peakRSS${rss.join('')}\n`);
    await stopProcess(origin.child, 5000);
  } finally {
    await Promise.all(candidates.map((c) => stopProcess(c.child, 20_000)));
    for (const child of children) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
