// What one lease round trip over the cluster channel costs: the primary and one worker exchange
// gh:rl-ask / gh:rl-answer shaped messages with the serialization Gatehouse uses ('advanced'), one
// at a time (latency) and then pipelined (CPU per message). The per-instance rate limit pays this
// once per lease, never per request; this script says how much that is.
//
//   node bench/ipc-lease.ts [--messages 20000]
import cluster from 'node:cluster';
import { performance } from 'node:perf_hooks';
import { cpuUsage } from 'node:process';

const ask = (i: number) => ({
  type: 'gh:rl-ask',
  items: [{ bucket: 'api\u0000rate-limit', key: `10.0.0.${i % 250}`, left: 0, give: 0, waiting: 1, prefetch: false }],
});

if (cluster.isPrimary) {
  const arg = process.argv.indexOf('--messages');
  const _count = arg > 0 ? Number(process.argv[arg + 1]) : 20_000;
  cluster.setupPrimary({ serialization: 'advanced' });
  const worker = cluster.fork();
  worker.on('message', (m: { type: string; items: Array<Record<string, unknown>> }) => {
    if (m.type !== 'gh:rl-ask') return;
    const it = m.items[0] as Record<string, unknown>;
    worker.send({
      type: 'gh:rl-answer',
      items: [{ bucket: it.bucket, key: it.key, tokens: 1, denied: 0, remaining: 10, retryAt: 0, bannedUntil: 0 }],
    });
  });
  worker.on('exit', () => process.exit(0));
} else {
  const count = 20_000;
  const send = (m: unknown) => process.send?.(m);
  let pending: ((v: unknown) => void) | null = null;
  process.on('message', (m) => pending?.(m));
  const roundTrip = () =>
    new Promise((resolve) => {
      pending = resolve;
      send(ask(0));
    });
  for (let i = 0; i < 500; i++) await roundTrip();
  const latencies: number[] = [];
  const cpu0 = cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const s = performance.now();
    await roundTrip();
    latencies.push((performance.now() - s) * 1000);
  }
  const wall = performance.now() - t0;
  const cpu = cpuUsage(cpu0);
  latencies.sort((a, b) => a - b);
  const q = (p: number) => (latencies[Math.floor(p * (latencies.length - 1))] as number).toFixed(0);
  // Pipelined: 64 asks in flight, as a busy worker batches them.
  let answered = 0;
  const batch = 64;
  const done = new Promise<void>((resolve) => {
    process.removeAllListeners('message');
    process.on('message', () => {
      answered++;
      if (answered === count) resolve();
      else if (answered % batch === 0) for (let i = 0; i < batch && answered + i < count; i++) send(ask(i));
    });
  });
  const cpu1 = cpuUsage();
  const t1 = performance.now();
  for (let i = 0; i < batch; i++) send(ask(i));
  await done;
  const wall2 = performance.now() - t1;
  const cpu2 = cpuUsage(cpu1);
  console.log(
    JSON.stringify({
      roundTrips: count,
      latencyUs: { p50: q(0.5), p90: q(0.9), p99: q(0.99) },
      oneAtATime: {
        perSecond: Math.round(count / (wall / 1000)),
        workerCpuUsPerRoundTrip: ((cpu.user + cpu.system) / count).toFixed(1),
      },
      pipelined64: {
        perSecond: Math.round(count / (wall2 / 1000)),
        workerCpuUsPerRoundTrip: ((cpu2.user + cpu2.system) / count).toFixed(1),
      },
    }),
  );
  process.exit(0);
}
