// Graceful stop of one worker (gh:drain): stop accepting, answer in-flight requests with
// `Connection: close`, let them finish and let clients close their connections, up to the deadline;
// then cut what is left. Resolves with the number of requests still running at the deadline
// (0 = a clean drain).
import type { Forwarder } from './request/forwarder.ts';
import type { Listeners } from './edge/listeners.ts';
import type { UpstreamPool } from './upstream/pool.ts';
import type { PassThrough } from './passthrough/pass-through.ts';

/** An idle keep-alive connection is closed after this long without a new request. */
export const DRAIN_IDLE_GRACE_MS = 500;
const POLL_MS = 50;

export async function drainWorker(
  listeners: Listeners,
  forwarder: Forwarder,
  pool: UpstreamPool,
  deadlineMs: number,
  passThrough: PassThrough | null = null,
): Promise<number> {
  forwarder.draining = true;
  listeners.stopAccepting(DRAIN_IDLE_GRACE_MS);
  passThrough?.stopAccepting();
  const deadline = Date.now() + Math.max(0, deadlineMs);
  // Done when no request is in flight and every client connection has closed (clients close after
  // a `Connection: close` answer; idle ones are closed by the grace timer).
  // Pass-through connections have no request boundary to close at: they run until their peers
  // close them or the deadline cuts them.
  const open = () => listeners.activeConnections() + (passThrough?.activeConnections() ?? 0);
  while (Date.now() < deadline && (forwarder.inflight > 0 || open() > 0)) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  const cut = forwarder.inflight;
  forwarder.passive.flush();
  listeners.destroyAll();
  passThrough?.destroyAll();
  pool.closeIdle();
  return cut;
}
