// Bringing workers onto a generation outside a reload: every worker at start-up, and each worker
// that joins later (respawned, or rolled in by a rolling restart). The same two phases as a reload,
// in the same queue, so that a worker never commits a generation a reload is replacing.
import type { Snapshot } from '@gatehouse/dataplane';
import type { Logger } from 'pino';
import { errorMessage, RolloutAbortedError } from './errors.ts';
import { readTcpMigrateReq } from './listener-migration.ts';
import { runTwoPhase, type SerialQueue } from './rollout.ts';
import type { RolloutWorker } from './reload.ts';
import type { WorkerPool } from './workers.ts';

/**
 * A freshly forked worker may not listen on its IPC channel yet when the first prepare arrives (a
 * message with no listener is dropped), so a silent new worker gets it again. A worker that is only
 * slow to start (loading its modules takes seconds when several workers start at once on a busy
 * host) would build the generation twice and log a warning for nothing, so the wait is longer than
 * such a start usually takes.
 */
const PREPARE_RESEND_MS = 5_000;

export interface OnboardingOptions {
  queue: SerialQueue;
  logger: Logger;
  /** How long a fresh worker gets to load and prepare. */
  timeoutMs: number;
  /** Runs in the queue right after the commit, before anything else reaches the workers. */
  committed?: (workers: RolloutWorker[]) => void;
}

/**
 * Prepares and commits the generation current once the queue gets to it (a reload under way ends
 * first) on fresh workers. Throws RolloutAbortedError when they do not all get there; the workers
 * that committed carry its generation.
 */
export function onboard(workers: RolloutWorker[], current: () => Snapshot, options: OnboardingOptions): Promise<void> {
  const { logger, timeoutMs } = options;
  return options.queue.run(async () => {
    const snapshot = current();
    const result = await runTwoPhase(workers, snapshot, {
      timeoutMs,
      resendEveryMs: PREPARE_RESEND_MS,
      onResend: (ids) =>
        logger.warn({ workers: ids, afterMs: PREPARE_RESEND_MS }, 'worker has not answered prepare; sending it again'),
    });
    if (!result.committed) throw new RolloutAbortedError(snapshot.generation, result.reason);
    const committed = workers.filter((w) => result.workers.includes(w.id));
    for (const worker of committed) worker.generation = snapshot.generation;
    options.committed?.(committed);
  });
}

/** Replaces every worker, one at a time (each new one is onboarded by the pool); logs the outcome. */
export async function restartWorkers(pool: WorkerPool, current: Snapshot, logger: Logger): Promise<void> {
  const started = Date.now();
  logger.info({ workers: pool.size, tcpMigrateReq: readTcpMigrateReq() }, 'rolling restart started');
  try {
    const replaced = await pool.rollingRestart(current.config.gateway.timeouts.drainMs, (fresh) => {
      logger.info({ worker: fresh.id, pid: fresh.pid, slot: fresh.slot }, 'worker replaced');
    });
    logger.info({ replaced, durationMs: Date.now() - started }, 'rolling restart finished');
  } catch (error) {
    logger.error({ err: error }, `rolling restart stopped: ${errorMessage(error)}`);
    throw error;
  }
}
