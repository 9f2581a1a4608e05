// Drives load with one of three tools and returns the same figures from each:
// wrk (HTTP/1.1, preferred), autocannon (fallback, an npm devDependency), h2load (HTTP/2).
// Every run is bounded: a duration, a connection count, and a hard kill at duration + 30 s.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { clockTicksPerSecond } from './proc.ts';

const here = dirname(fileURLToPath(import.meta.url));

export type LoadTool = 'wrk' | 'autocannon' | 'h2load';

export interface LoadSpec {
  url: string;
  connections: number;
  threads: number;
  durationMs: number;
  /** h2load only: its own unmeasured warm-up (the runner warms up with a separate run instead). */
  warmupMs: number;
  closeEachRequest: boolean;
  h2Streams: number;
  /** h2load only: per-request log, for the percentiles. */
  logFile: string;
}

export interface LoadResult {
  tool: LoadTool;
  requests: number;
  durationS: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Socket errors, timeouts and non-2xx/3xx answers. */
  errors: number;
  errorDetail: Record<string, number>;
  /** Set when the run could not measure what it meant to (e.g. no h2 negotiated). */
  failure: string | null;
  /** CPU seconds used by the load generator itself (null when unknown). */
  loadgenCpuSeconds: number | null;
}

export function onPath(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
}

export function pickHttp1Tool(preference: 'auto' | 'wrk' | 'autocannon'): 'wrk' | 'autocannon' {
  if (preference !== 'auto') return preference;
  return onPath('wrk') ? 'wrk' : 'autocannon';
}

interface ToolRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** CPU seconds the load generator used, from the wrapper's stat line (null when it is missing). */
function toolCpuSeconds(stderr: string): number | null {
  const line = stderr.split('\n').find((l) => l.startsWith('BENCH_CHILD_STAT '));
  if (!line) return null;
  const fields = line.slice(line.lastIndexOf(')') + 2).split(' ');
  // fields[0] is stat field 3; cutime and cstime are fields 16 and 17.
  return (Number(fields[13]) + Number(fields[14])) / clockTicksPerSecond();
}

/** Currently running load generators, so that Ctrl-C on the runner stops them. */
export const runningLoad = new Set<import('node:child_process').ChildProcess>();

/** Kills a load generator with its wrapper shell (they share a process group). */
export function killLoad(child: import('node:child_process').ChildProcess): void {
  try {
    if (child.pid) process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

// The tool runs under a shell that, once the tool has exited and been waited for, prints its own
// /proc stat line: its cutime/cstime fields then hold exactly the CPU the tool used.
const CPU_WRAPPER = '"$@"; rc=$?; read -r stat < /proc/$$/stat; echo "BENCH_CHILD_STAT $stat" >&2; exit $rc';

function runTool(command: string, args: string[], limitMs: number): Promise<ToolRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', CPU_WRAPPER, 'sh', command, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    runningLoad.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => killLoad(child), limitMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      runningLoad.delete(child);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      runningLoad.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

function taggedJson<T>(stdout: string, tag: string): T | null {
  const line = stdout.split('\n').find((l) => l.startsWith(`${tag} `));
  return line ? (JSON.parse(line.slice(tag.length + 1)) as T) : null;
}

interface WrkReport {
  duration_us: number;
  requests: number;
  connect: number;
  read: number;
  write: number;
  status: number;
  timeout: number;
  p50_us: number;
  p99_us: number;
  max_us: number;
}

async function runWrk(spec: LoadSpec): Promise<LoadResult> {
  const seconds = Math.max(1, Math.round(spec.durationMs / 1000));
  const args = [
    `-t${Math.min(spec.threads, spec.connections)}`,
    `-c${spec.connections}`,
    `-d${seconds}s`,
    '--timeout',
    '5s',
    '-s',
    join(here, 'wrk-report.lua'),
  ];
  if (spec.closeEachRequest) args.push('-H', 'Connection: close');
  args.push(spec.url);
  const run = await runTool('wrk', args, seconds * 1000 + 30_000);
  const report = taggedJson<WrkReport>(run.stdout, 'BENCH_WRK');
  if (!report) throw new Error(`wrk printed no report (exit ${run.code}):\n${run.stdout}${run.stderr}`);
  const errorDetail = {
    connect: report.connect,
    read: report.read,
    write: report.write,
    timeout: report.timeout,
    status: report.status,
  };
  const durationS = report.duration_us / 1e6;
  return {
    tool: 'wrk',
    requests: report.requests,
    durationS,
    rps: report.requests / durationS,
    p50Ms: report.p50_us / 1000,
    p99Ms: report.p99_us / 1000,
    maxMs: report.max_us / 1000,
    errors: Object.values(errorDetail).reduce((a, b) => a + b, 0),
    errorDetail,
    failure: null,
    loadgenCpuSeconds: toolCpuSeconds(run.stderr),
  };
}

interface AutocannonReport {
  requests: number;
  durationS: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  errors: number;
  timeouts: number;
  non2xx: number;
}

async function runAutocannon(spec: LoadSpec): Promise<LoadResult> {
  const seconds = Math.max(1, Math.round(spec.durationMs / 1000));
  const input = {
    url: spec.url,
    connections: spec.connections,
    durationS: seconds,
    closeEachRequest: spec.closeEachRequest,
  };
  const run = await runTool(
    process.execPath,
    [join(here, 'autocannon-driver.ts'), JSON.stringify(input)],
    seconds * 1000 + 30_000,
  );
  const report = taggedJson<AutocannonReport>(run.stdout, 'BENCH_AUTOCANNON');
  if (!report) throw new Error(`autocannon printed no report (exit ${run.code}):\n${run.stdout}${run.stderr}`);
  // autocannon counts timeouts inside `errors` too.
  const errorDetail = { socket: report.errors - report.timeouts, timeout: report.timeouts, status: report.non2xx };
  return {
    tool: 'autocannon',
    requests: report.requests,
    durationS: report.durationS,
    rps: report.requests / report.durationS,
    p50Ms: report.p50Ms,
    p99Ms: report.p99Ms,
    maxMs: report.maxMs,
    errors: report.errors + report.non2xx,
    errorDetail,
    failure: null,
    loadgenCpuSeconds: toolCpuSeconds(run.stderr),
  };
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

async function runH2load(spec: LoadSpec): Promise<LoadResult> {
  const seconds = Math.max(1, Math.round(spec.durationMs / 1000));
  const warmup = Math.max(0, Math.round(spec.warmupMs / 1000));
  const args = [
    `-t${Math.min(spec.threads, spec.connections)}`,
    `-c${spec.connections}`,
    `-m${spec.h2Streams}`,
    `-D${seconds}`,
    `--log-file=${spec.logFile}`,
  ];
  if (warmup > 0) args.push(`--warm-up-time=${warmup}`);
  args.push(spec.url);
  const run = await runTool('h2load', args, (seconds + warmup) * 1000 + 30_000);
  const out = run.stdout;
  // Without ALPN h2, h2load quietly falls back to HTTP/1.1: that is not an h2 measurement.
  const protocol = /Application protocol: (\S+)/.exec(out)?.[1] ?? 'none';
  if (protocol !== 'h2') {
    return emptyResult('h2load', `the server did not negotiate HTTP/2 (ALPN: ${protocol})`);
  }
  const finished = /finished in ([\d.]+)s, ([\d.]+) req\/s/.exec(out);
  const counts =
    /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(
      out,
    );
  const status = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(out);
  if (!finished || !counts || !status)
    throw new Error(`h2load output not understood (exit ${run.code}):\n${out}${run.stderr}`);
  const latencies: number[] = [];
  let text = '';
  try {
    text = readFileSync(spec.logFile, 'utf8');
  } catch {
    // no log: percentiles stay 0
  }
  for (const line of text.split('\n')) {
    const tab = line.lastIndexOf('\t');
    if (tab > 0) latencies.push(Number(line.slice(tab + 1)) / 1000);
  }
  const sorted = Float64Array.from(latencies).sort();
  const errorDetail = {
    failed: Number(counts[5]),
    errored: Number(counts[6]),
    timeout: Number(counts[7]),
    status: Number(status[3]) + Number(status[4]),
  };
  const succeeded = Number(counts[4]);
  const durationS = Number(finished[1]);
  return {
    tool: 'h2load',
    requests: succeeded,
    durationS,
    rps: Number(finished[2]),
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted.length > 0 ? (sorted[sorted.length - 1] as number) : 0,
    // `failed` already includes errored and timed-out requests.
    errors: errorDetail.failed + errorDetail.status,
    errorDetail,
    failure: succeeded === 0 ? `no request succeeded:\n${out.trim()}` : null,
    loadgenCpuSeconds: toolCpuSeconds(run.stderr),
  };
}

function emptyResult(tool: LoadTool, failure: string): LoadResult {
  return {
    tool,
    requests: 0,
    durationS: 0,
    rps: 0,
    p50Ms: 0,
    p99Ms: 0,
    maxMs: 0,
    errors: 0,
    errorDetail: {},
    failure,
    loadgenCpuSeconds: null,
  };
}

export function runLoad(tool: LoadTool, spec: LoadSpec): Promise<LoadResult> {
  if (tool === 'wrk') return runWrk(spec);
  if (tool === 'autocannon') return runAutocannon(spec);
  return runH2load(spec);
}
