// What one access line costs a worker, measured on the real module: the JSON logger the worker builds
// (createLogger), writeAccessLine with the bench scenario's record, and the batched asynchronous
// writes to stdout, which goes to /dev/null (the script starts itself again so). CPU time per line, of
// the event loop's thread (process.threadCpuUsage) and of the whole process (process.cpuUsage: also
// the thread pool's write(2) calls, whose wake-ups make it noisier), with the event loop given a turn
// every 64 lines as a busy worker gives it. The record carries both the old
// label fields and the route and backend objects, so a copy of the script runs in an older checkout
// for an A/B.
//
//   node bench/access-log-cost.ts [--lines 400000] [--rounds 7]
import { spawnSync } from 'node:child_process';
import { openSync } from 'node:fs';
import { createLogger, flushLogs, writeAccessLine } from '../packages/dataplane/src/access-log.ts';

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  const value = at === -1 ? Number.NaN : Number(process.argv[at + 1]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

if (!process.argv.includes('--stdout-is-null')) {
  const child = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1), '--stdout-is-null'], {
    stdio: [0, openSync('/dev/null', 'w'), 'inherit'],
    env: { ...process.env, GATEHOUSE_LOG_FORMAT: 'json' },
  });
  process.exit(child.status ?? 1);
}

const lines = Math.floor(flag('--lines', 400_000));
const rounds = Math.floor(flag('--rounds', 7));
const { logger } = await createLogger({ level: 'info', format: 'json', accessLog: true });

const endpoint = 'http://127.0.0.1:34567';
// The bench scenario's request: GET / on route `origin`, a pooled upstream socket, 1 KiB answered.
const records = Array.from({ length: 256 }, (_, i) => ({
  requestId: `5b0e7c1a-93d2-4f6e-a1b8-${(0x00a0b0c00000 + i).toString(16).padStart(12, '0')}`,
  routeName: 'origin',
  backendEndpoint: endpoint,
  route: { accessLabels: `"route":"origin","backend":null` },
  backend: { accessLabels: `"route":"origin","backend":${JSON.stringify(endpoint)}` },
  method: 'GET',
  path: '/',
  status: 200,
  bytes: 1215,
  durationMs: 0.4 + ((i * 7919) % 997) / 331,
  tlsVersion: null,
  tlsResumed: null,
  clientSubject: null,
  upstreamConnectMs: 0,
  upstreamResponseMs: 0.2 + ((i * 104_729) % 991) / 457,
  retries: 0,
  errorCode: null,
  clientAborted: false,
  deniedBy: null,
  authUser: null,
}));

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function run(n: number): Promise<[number, number]> {
  const before = process.cpuUsage();
  const beforeThread = process.threadCpuUsage();
  for (let i = 0; i < n; i++) {
    writeAccessLine(logger, records[i & 255] as (typeof records)[number]);
    if ((i & 63) === 63) await turn();
  }
  flushLogs();
  const thread = process.threadCpuUsage(beforeThread);
  const all = process.cpuUsage(before);
  // ns per line
  return [((thread.user + thread.system) * 1000) / n, ((all.user + all.system) * 1000) / n];
}

await run(50_000); // warm up the JIT
const loop: number[] = [];
const whole: number[] = [];
for (let r = 0; r < rounds; r++) {
  const [thread, all] = await run(lines);
  loop.push(thread);
  whole.push(all);
}
const summary = (ns: number[]): string => {
  ns.sort((a, b) => a - b);
  return `${ns[rounds >> 1]?.toFixed(0)} ns (range ${ns[0]?.toFixed(0)}-${ns[rounds - 1]?.toFixed(0)})`;
};
process.stderr.write(
  `access line, built and written, CPU per line (median of ${rounds} x ${lines.toLocaleString('en')}): event loop ${summary(loop)}, whole process ${summary(whole)}\n`,
);
