// `npm run bench -- [flags]`: load scenarios against Gatehouse, each also run straight against the
// origin so that Gatehouse reads as a ratio. See bench/README.md for how to read the output.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { cpus, release, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type BenchOptions, parseFlags, UsageError, usage } from './lib/flags.ts';
import { gatewayConfigYaml } from './lib/gateway-config.ts';
import { startRedis } from './lib/redis.ts';
import { killLoad, type LoadSpec, type LoadTool, onPath, pickHttp1Tool, runLoad, runningLoad } from './lib/load.ts';
import { createBenchPki, type BenchPki } from './lib/pki.ts';
import { cpuSecondsBetween, machineBusySeconds, peakRssBytes, processTree, sampleCpu } from './lib/proc.ts';
import { children, freePort, logTail, type Origin, startGateway, startOrigin, stopProcess } from './lib/processes.ts';
import {
  type CpuShares,
  columnsHeader,
  cpuRow,
  type MeasuredRun,
  type ProxyFigures,
  ratioRow,
  rotationRow,
  runRow,
  type ScenarioResult,
  scenarioHeader,
  summaryTable,
} from './lib/report.ts';
import { adminGeneration, CertificateRotator, type RotationStats, servedSerial } from './lib/rotation.ts';
import { SCENARIOS, type Scenario } from './lib/scenarios.ts';

const ROTATION_PAIRS = 3;
const out = (line = '') => process.stdout.write(`${line}\n`);

/** Answers 200 within `timeoutMs`, or throws: a scenario never measures a target that is not serving. */
async function waitServing(url: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const status = await new Promise<number | string>((done) => {
      const parsed = new URL(url);
      const request = parsed.protocol === 'https:' ? httpsRequest : httpRequest;
      const req = request(url, { rejectUnauthorized: false, timeout: 3000, agent: false }, (res) => {
        res.resume();
        res.on('end', () => done(res.statusCode ?? 0));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (error) => done(error.message));
      req.end();
    });
    if (status === 200) return;
    last = String(status);
    await sleep(200);
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms (last: ${last})`);
}

/** TCP connections the origin has accepted per port (the query's own connection included). */
function originConnections(httpPort: number): Promise<Record<string, number> | null> {
  return new Promise((done) => {
    const req = httpRequest(
      { host: '127.0.0.1', port: httpPort, path: '/__bench/connections', agent: false, timeout: 3000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => {
          body += d;
        });
        res.on('end', () => {
          try {
            done(JSON.parse(body) as Record<string, number>);
          } catch {
            done(null);
          }
        });
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => done(null));
    req.end();
  });
}

/** Prints where a measured run is, once on a pipe, in place on a terminal. */
function progress(label: string, durationMs: number, proxyPid: number | null): () => void {
  const started = Date.now();
  const seconds = Math.round(durationMs / 1000);
  if (!process.stdout.isTTY) {
    out(`  … ${label}: ${seconds} s of load`);
    return () => undefined;
  }
  let previous = proxyPid ? sampleCpu(processTree(proxyPid)) : null;
  let previousAt = started;
  const tick = setInterval(() => {
    const now = Date.now();
    let cpu = '';
    if (proxyPid && previous) {
      const sample = sampleCpu(processTree(proxyPid));
      cpu = `, gatehouse CPU ${((cpuSecondsBetween(previous, sample) / ((now - previousAt) / 1000)) * 100).toFixed(0)} %`;
      previous = sample;
      previousAt = now;
    }
    process.stdout.write(
      `\r  … ${label}: ${Math.min(seconds, Math.round((now - started) / 1000))}/${seconds} s${cpu}   `,
    );
  }, 1000);
  return () => {
    clearInterval(tick);
    process.stdout.write('\r\x1b[2K');
  };
}

interface MeasureInput {
  options: BenchOptions;
  tool: LoadTool;
  spec: LoadSpec;
  target: 'direct' | 'gatehouse';
  proxyPid: number | null;
  originPid: number;
  label: string;
  duringLoad?: { start(): void; stop(): void };
  /** Which origin port Gatehouse forwards to, for the pooling check. */
  upstreamPort?: 'http' | 'mtls';
  originHttpPort: number;
}

async function measure(input: MeasureInput): Promise<MeasuredRun> {
  const { options, tool, spec, proxyPid } = input;
  // Warm-up is a separate, unmeasured run for every tool, so that the CPU window below holds only
  // the requests it counts.
  if (options.warmupMs > 0) {
    await runLoad(tool, { ...spec, durationMs: Math.max(1000, options.warmupMs), warmupMs: 0 });
  }
  const connectionsBefore = input.upstreamPort ? await originConnections(input.originHttpPort) : null;
  const pidsBefore = proxyPid ? processTree(proxyPid) : [];
  const before = sampleCpu(pidsBefore);
  const originBefore = sampleCpu([input.originPid]);
  const busyBefore = machineBusySeconds();
  const runnerBefore = process.cpuUsage();
  const startedAt = Date.now();
  const stopProgress = progress(input.label, spec.durationMs, proxyPid);
  input.duringLoad?.start();
  let result: Awaited<ReturnType<typeof runLoad>>;
  try {
    result = await runLoad(tool, spec);
  } finally {
    input.duringLoad?.stop();
    stopProgress();
  }
  const windowS = (Date.now() - startedAt) / 1000;
  const busy = machineBusySeconds() - busyBefore;
  const originCpu = cpuSecondsBetween(originBefore, sampleCpu([input.originPid]));
  const runnerUsage = process.cpuUsage(runnerBefore);
  const runnerCpu = (runnerUsage.user + runnerUsage.system) / 1e6;
  let proxy: ProxyFigures | null = null;
  if (proxyPid) {
    const pidsAfter = processTree(proxyPid);
    const afterSample = sampleCpu(pidsAfter);
    const cpuSeconds = cpuSecondsBetween(before, afterSample);
    const primaryCpuSeconds = (afterSample.perPid.get(proxyPid) ?? 0) - (before.perPid.get(proxyPid) ?? 0);
    const workers = pidsAfter.filter((pid) => pid !== proxyPid);
    proxy = {
      cpuSeconds,
      primaryCpuSeconds,
      cpuPerRequestUs: result.requests > 0 ? (cpuSeconds / result.requests) * 1e6 : 0,
      peakRssBytes: pidsAfter.reduce((sum, pid) => sum + peakRssBytes(pid), 0),
      primaryPeakRssBytes: peakRssBytes(proxyPid),
      workerPeakRssBytes: workers.map(peakRssBytes),
      processesBefore: pidsBefore.length,
      processesAfter: pidsAfter.length,
    };
  }
  let upstreamConnections: number | null = null;
  if (input.upstreamPort && connectionsBefore) {
    const after = await originConnections(input.originHttpPort);
    const port = input.upstreamPort;
    // The `after` query is itself one new connection on the http port.
    if (after) upstreamConnections = (after[port] ?? 0) - (connectionsBefore[port] ?? 0) - (port === 'http' ? 1 : 0);
  }
  const proxyCpu = proxy?.cpuSeconds ?? 0;
  const loadgenCpu = result.loadgenCpuSeconds ?? 0;
  const share = (seconds: number) => (windowS > 0 ? (seconds / windowS) * 100 : 0);
  const cpuShares: CpuShares = {
    loadgen: result.loadgenCpuSeconds === null ? null : share(loadgenCpu),
    origin: share(originCpu),
    proxy: proxy ? share(proxyCpu) : null,
    other: share(Math.max(0, busy - proxyCpu - originCpu - loadgenCpu - runnerCpu)),
  };
  return { ...result, target: input.target, url: spec.url, proxy, cpuShares, upstreamConnections };
}

function loadSpec(options: BenchOptions, scenario: Scenario, url: string, logFile: string): LoadSpec {
  return {
    url,
    connections: options.connections,
    threads: options.threads,
    durationMs: options.durationMs,
    warmupMs: 0,
    closeEachRequest: scenario.closeEachRequest,
    h2Streams: options.h2Streams,
    logFile,
  };
}

interface Context {
  options: BenchOptions;
  dir: string;
  pki: BenchPki;
  origin: Origin;
  http1Tool: 'wrk' | 'autocannon';
}

function directUrl(ctx: Context, scenario: Scenario): string | null {
  const p = ctx.origin.ports;
  if (scenario.direct === 'http') return `http://127.0.0.1:${p.http}${scenario.path}`;
  if (scenario.direct === 'https') return `https://127.0.0.1:${p.https}${scenario.path}`;
  if (scenario.direct === 'h2') return `https://127.0.0.1:${p.h2}${scenario.path}`;
  return null;
}

async function runScenario(ctx: Context, scenario: Scenario): Promise<ScenarioResult> {
  const { options } = ctx;
  const result: ScenarioResult = {
    name: scenario.name,
    what: scenario.what,
    skipped: null,
    direct: null,
    gatehouse: null,
    ratio: null,
    rotation: null,
    notes: [],
  };
  const tool: LoadTool = scenario.h2 ? 'h2load' : ctx.http1Tool;
  if (scenario.h2 && !onPath('h2load')) {
    result.skipped = 'h2load is not installed (apt-get install nghttp2-client)';
    out(`\n── ${scenario.name}: skipped, ${result.skipped}`);
    return result;
  }
  out(scenarioHeader(scenario));
  const runDir = join(ctx.dir, scenario.name);
  mkdirSync(runDir, { recursive: true });

  const direct = options.direct ? directUrl(ctx, scenario) : null;
  out(columnsHeader());
  if (direct) {
    result.direct = await measure({
      options,
      tool,
      spec: loadSpec(options, scenario, direct, join(runDir, 'direct.h2load.log')),
      target: 'direct',
      proxyPid: null,
      originPid: ctx.origin.pid,
      originHttpPort: ctx.origin.ports.http,
      label: `${scenario.name} straight to the origin (${tool} -c${options.connections})`,
    });
    out(runRow(result.direct));
    out(cpuRow(result.direct));
  }

  const [httpPort, httpsPort, adminPort] = [await freePort(), await freePort(), await freePort()];
  let certPath = ctx.pki.server.fullchainPath;
  let keyPath = ctx.pki.server.keyPath;
  if (scenario.rotateCertificates) {
    // A directory of their own, as an operator would keep them.
    const certDir = join(runDir, 'certs');
    mkdirSync(certDir, { recursive: true });
    certPath = join(certDir, 'current.crt');
    keyPath = join(certDir, 'current.key');
    copyFileSync(ctx.pki.server.fullchainPath, certPath);
    copyFileSync(ctx.pki.server.keyPath, keyPath);
  }
  const upstream =
    scenario.upstream === 'mtls'
      ? {
          endpoint: `https://127.0.0.1:${ctx.origin.ports.mtls}`,
          upstreamTls: {
            rootCAs: ctx.pki.caPath,
            clientCert: ctx.pki.gatewayClient.certPath,
            clientKey: ctx.pki.gatewayClient.keyPath,
          },
        }
      : { endpoint: `http://127.0.0.1:${ctx.origin.ports.http}`, upstreamTls: null };
  const configPath = join(runDir, 'gatehouse.yaml');
  const redis = scenario.middlewares === 'ratelimit-redis' ? await startRedis() : null;
  writeFileSync(
    configPath,
    gatewayConfigYaml({
      httpPort,
      httpsPort,
      adminPort,
      certPath,
      keyPath,
      accessLog: options.accessLog,
      ...upstream,
      middlewares: scenario.middlewares ?? 'none',
      ...(redis === null ? {} : { redisPort: redis.port }),
    }),
  );
  // Not next to the config: the gateway watches the config's directory, and a busy log there is a
  // stream of file events that postpones every reload (debounce).
  mkdirSync(join(runDir, 'logs'), { recursive: true });
  const logFile = join(runDir, 'logs', 'gatehouse.log');
  const gateway = await startGateway(configPath, options.workers, logFile);
  try {
    const front =
      scenario.front === 'http'
        ? `http://127.0.0.1:${httpPort}${scenario.path}`
        : `https://127.0.0.1:${httpsPort}${scenario.path}`;
    await waitServing(front);
    let rotator: CertificateRotator | null = null;
    let generationBefore: number | null = null;
    if (scenario.rotateCertificates) {
      rotator = new CertificateRotator(certPath, keyPath, ctx.pki.rotation);
      generationBefore = await adminGeneration(adminPort);
    }
    const activeRotator = rotator;
    result.gatehouse = await measure({
      options,
      tool,
      spec: loadSpec(options, scenario, front, join(runDir, 'gatehouse.h2load.log')),
      target: 'gatehouse',
      proxyPid: gateway.pid,
      originPid: ctx.origin.pid,
      originHttpPort: ctx.origin.ports.http,
      upstreamPort: scenario.upstream,
      label: `${scenario.name} through Gatehouse (${tool} -c${options.connections}, ${options.workers} workers)`,
      ...(activeRotator
        ? { duringLoad: { start: () => activeRotator.start(options.rotateEveryMs), stop: () => activeRotator.stop() } }
        : {}),
    });
    if (rotator) result.rotation = await rotationOutcome(rotator, httpsPort, adminPort, generationBefore);
    if (result.gatehouse.proxy && result.gatehouse.proxy.processesAfter !== result.gatehouse.proxy.processesBefore) {
      result.notes.push(
        `the gateway had ${result.gatehouse.proxy.processesBefore} processes before the load and ${result.gatehouse.proxy.processesAfter} after: a worker died or was respawned (see ${logFile})`,
      );
    }
    if (scenario.h2 && result.gatehouse.failure) result.notes.push('Gatehouse did not serve HTTP/2 here (ALPN h2).');
  } finally {
    const exit = await stopProcess(gateway.child);
    if (exit !== 0) result.notes.push(`gatehouse exited with ${exit} on SIGTERM:\n${logTail(logFile, 10)}`);
    await redis?.stop();
  }
  out(runRow(result.gatehouse));
  out(cpuRow(result.gatehouse));
  const d = result.direct;
  const g = result.gatehouse;
  if (d && g && !d.failure && !g.failure && d.rps > 0 && d.p99Ms > 0) {
    result.ratio = { rps: g.rps / d.rps, p99: g.p99Ms / d.p99Ms };
    out(ratioRow(result) ?? '');
  }
  if (result.rotation) out(rotationRow(result.rotation));
  if (scenario.upstream === 'mtls' && direct) {
    result.notes.push(
      "direct row: the origin's TLS port without client auth (the load generator cannot present a client certificate).",
    );
  }
  for (const note of result.notes) out(`  note: ${note}`);
  return result;
}

async function rotationOutcome(
  rotator: CertificateRotator,
  httpsPort: number,
  adminPort: number,
  generationBefore: number | null,
): Promise<RotationStats> {
  const stoppedAt = Date.now();
  let lastVisibleAfterMs: number | null = null;
  while (rotator.lastSerial && Date.now() - stoppedAt < 5000) {
    if ((await servedSerial(httpsPort)) === rotator.lastSerial) {
      lastVisibleAfterMs = Date.now() - stoppedAt;
      break;
    }
    await sleep(100);
  }
  return {
    rotations: rotator.rotations,
    failedRenames: rotator.failedRenames,
    generationBefore,
    generationAfter: await adminGeneration(adminPort),
    lastVisibleAfterMs,
  };
}

function toolVersion(tool: string): string {
  if (tool === 'autocannon') return 'autocannon 9 (npm)';
  return tool;
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    out(usage);
    return 0;
  }
  const options = parseFlags(argv);
  const http1Tool = pickHttp1Tool(options.loadgen);
  if (http1Tool === 'wrk' && !onPath('wrk'))
    throw new UsageError('--loadgen wrk: wrk is not on the PATH (apt-get install wrk)');
  const dir = options.dir ? resolve(options.dir) : mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
  mkdirSync(dir, { recursive: true });
  const removeDir = !options.dir && !options.keep;

  let origin: Origin | null = null;
  const cleanup = () => {
    for (const child of runningLoad) killLoad(child);
    for (const child of children) child.kill('SIGKILL');
    if (removeDir) rmSync(dir, { recursive: true, force: true });
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\nbench: ${signal}, stopping everything\n`);
      cleanup();
      process.exit(130);
    });
  }

  const started = new Date();
  const cpuList = cpus();
  out(`Gatehouse bench · ${started.toISOString()}`);
  out(
    `machine: ${cpuList.length} × ${cpuList[0]?.model ?? 'unknown CPU'}, Linux ${release()}, Node ${process.version}`,
  );
  out(
    `load: ${toolVersion(http1Tool)}${onPath('h2load') ? ' (h2: h2load)' : ''}, ${options.connections} connections, ${options.threads} thread(s), ${options.durationMs / 1000} s measured after ${options.warmupMs / 1000} s warm-up; Gatehouse ${options.workers} workers, access log ${options.accessLog ? 'on' : 'off'}`,
  );
  out(`files: ${dir}${removeDir ? ' (removed at the end; --keep keeps it)' : ''}`);

  const results: ScenarioResult[] = [];
  try {
    const pki = await createBenchPki(join(dir, 'pki'), options.scenarios.includes('rotation') ? ROTATION_PAIRS : 0);
    origin = await startOrigin({ cert: pki.origin.certPath, key: pki.origin.keyPath, ca: pki.caPath });
    const ctx: Context = { options, dir, pki, origin, http1Tool };
    for (const name of options.scenarios) results.push(await runScenario(ctx, SCENARIOS[name]));
  } catch (error) {
    // Keep the configs and logs of a failed run: they say why.
    process.stderr.write(`bench: failed; configs and logs kept in ${dir}\n`);
    throw error;
  } finally {
    if (origin) await stopProcess(origin.child, 5000);
  }

  out(summaryTable(results));
  if (options.json) {
    const report = {
      date: started.toISOString(),
      machine: { cpus: cpuList.length, model: cpuList[0]?.model ?? null, kernel: release(), node: process.version },
      options,
      loadGenerator: http1Tool,
      results,
    };
    writeFileSync(options.json, `${JSON.stringify(report, null, 2)}\n`);
    out(`\nJSON: ${resolve(options.json)}`);
  }
  cleanup();

  const failed = results.filter((r) => !r.skipped && (!r.gatehouse || r.gatehouse.failure || r.gatehouse.errors > 0));
  if (failed.length > 0) {
    out(`\nbench: errors or failures through Gatehouse in: ${failed.map((r) => r.name).join(', ')}`);
    return 1;
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`bench: ${error.message}\n\n${usage}`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    }
    for (const child of runningLoad) killLoad(child);
    for (const child of children) child.kill('SIGKILL');
  },
);
