// Runs autocannon in its own process (so its CPU is the load generator's, not the runner's) and
// prints one JSON line with the figures the bench needs. Input: one JSON argument, see DriverInput.
import autocannon, { type Result } from 'autocannon';

interface DriverInput {
  url: string;
  connections: number;
  durationS: number;
  closeEachRequest: boolean;
}

const input = JSON.parse(process.argv[2] ?? '{}') as DriverInput;
const instance = autocannon(
  {
    url: input.url,
    connections: input.connections,
    duration: input.durationS,
    timeout: 5,
    // A new connection (and handshake) for every request, as wrk does: the server closes after each
    // answer and autocannon reconnects. (autocannon's own `reconnectRate: 1` sends nothing at all.)
    ...(input.closeEachRequest ? { headers: { connection: 'close' } } : {}),
  },
  (error: Error | null, result: Result) => {
    if (error) {
      process.stderr.write(`autocannon: ${error.message}\n`);
      process.exit(1);
    }
    const out = {
      requests: result.requests.total,
      durationS: result.duration,
      p50Ms: result.latency.p50,
      p90Ms: result.latency.p90,
      p99Ms: result.latency.p99,
      maxMs: result.latency.max,
      errors: result.errors,
      timeouts: result.timeouts,
      non2xx: result.non2xx,
    };
    process.stdout.write(`BENCH_AUTOCANNON ${JSON.stringify(out)}\n`);
  },
);
process.once('SIGTERM', () => instance.stop());
