// Graceful stop of one worker (gh:drain): stop accepting, answer in-flight requests with
// `Connection: close`, let them finish up to the deadline, then cut what is left. Resolves with
// the number of requests that were still running at the deadline (0 = a clean drain).
import type { Forwarder } from './forward.ts';
import type { Listeners } from './listeners.ts';
import type { UpstreamPool } from './upstream-pool.ts';

const IDLE_SWEEP_MS = 250;

export async function drainWorker(
  listeners: Listeners,
  forwarder: Forwarder,
  pool: UpstreamPool,
  deadlineMs: number,
): Promise<number> {
  forwarder.draining = true;
  listeners.stopAccepting();
  const cut = await new Promise<number>((resolve) => {
    let done = false;
    const finish = (left: number) => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      clearInterval(sweep);
      forwarder.onIdle = null;
      resolve(left);
    };
    // Keep-alive connections that finish a response become idle: close them as they do.
    const sweep = setInterval(() => listeners.closeIdle(), IDLE_SWEEP_MS);
    const deadline = setTimeout(() => finish(forwarder.inflight), Math.max(0, deadlineMs));
    forwarder.onIdle = () => finish(0);
    if (forwarder.inflight === 0) finish(0);
  });
  forwarder.passive.flush();
  listeners.destroyAll();
  pool.closeIdle();
  return cut;
}
