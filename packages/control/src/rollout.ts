// Two-phase rollout of a generation to workers: prepare → every worker answers ready or failed →
// commit, or abort so every worker keeps the old generation. The round's bookkeeping is a pure value
// (`PrepareRound`); `runTwoPhase` is the thin I/O shell over a set of worker channels.
import type { Snapshot, WorkerToPrimary } from '@gatehouse/dataplane';

export interface PrepareRound {
  generation: number;
  /** Workers that have not answered yet. */
  waiting: ReadonlySet<number>;
  ready: ReadonlySet<number>;
  failures: ReadonlyArray<{ worker: number; reason: string }>;
}

export type RoundDecision = { kind: 'pending' } | { kind: 'commit' } | { kind: 'abort'; reason: string };

export function startRound(generation: number, workers: Iterable<number>): PrepareRound {
  return { generation, waiting: new Set(workers), ready: new Set(), failures: [] };
}

/** Records a worker's answer; answers for another generation or from a worker not asked are ignored. */
export function recordAnswer(round: PrepareRound, worker: number, answer: WorkerToPrimary): PrepareRound {
  if (answer.type !== 'gh:ready' && answer.type !== 'gh:failed') return round;
  if (answer.generation !== round.generation || !round.waiting.has(worker)) return round;
  const waiting = new Set(round.waiting);
  waiting.delete(worker);
  if (answer.type === 'gh:ready') return { ...round, waiting, ready: new Set([...round.ready, worker]) };
  return { ...round, waiting, failures: [...round.failures, { worker, reason: answer.reason }] };
}

/**
 * A worker that exits mid-round is neither ready nor failed: it is respawned later with whatever
 * generation is current then, so the others need not wait for it.
 */
export function recordGone(round: PrepareRound, worker: number): PrepareRound {
  if (!round.waiting.has(worker) && !round.ready.has(worker)) return round;
  const waiting = new Set(round.waiting);
  waiting.delete(worker);
  const ready = new Set(round.ready);
  ready.delete(worker);
  return { ...round, waiting, ready };
}

/** Any failure aborts at once (no reason to wait for the rest); all answered ready commits. */
export function decide(round: PrepareRound): RoundDecision {
  if (round.failures.length > 0) {
    return {
      kind: 'abort',
      reason: round.failures.map((f) => `worker ${f.worker}: ${f.reason}`).join('; '),
    };
  }
  if (round.waiting.size > 0) return { kind: 'pending' };
  if (round.ready.size === 0) return { kind: 'abort', reason: 'no worker left to run the generation' };
  return { kind: 'commit' };
}

/** Decision when the deadline passes: the silent workers count as failures. */
export function decideOnTimeout(round: PrepareRound, timeoutMs: number): RoundDecision {
  const decision = decide(round);
  if (decision.kind !== 'pending') return decision;
  return {
    kind: 'abort',
    reason: `worker ${[...round.waiting].join(', ')} did not answer prepare within ${timeoutMs} ms`,
  };
}

/** What the rollout needs from a worker: its id, a way to send, and its answers and exit. */
export interface RolloutChannel {
  id: number;
  send(message: object): void;
  onMessage(listener: (message: WorkerToPrimary) => void): () => void;
  onExit(listener: () => void): () => void;
}

export interface RolloutResult {
  committed: boolean;
  reason: string;
  /** The workers that committed. */
  workers: number[];
}

/**
 * Sends prepare to every channel and commits or aborts. `resendEveryMs` re-sends prepare to a silent
 * worker: a freshly forked worker may not listen on its IPC channel yet, and a message sent before
 * that is lost; prepare of the same generation is idempotent on the worker side.
 */
export function runTwoPhase(
  channels: RolloutChannel[],
  snapshot: Snapshot,
  options: { timeoutMs: number; resendEveryMs?: number; onResend?: (workers: number[]) => void },
): Promise<RolloutResult> {
  return new Promise((resolve) => {
    let round = startRound(
      snapshot.generation,
      channels.map((c) => c.id),
    );
    const cleanups: Array<() => void> = [];
    let settled = false;
    const prepare = { type: 'gh:prepare', snapshot };

    const finish = (decision: RoundDecision) => {
      if (settled || decision.kind === 'pending') return;
      settled = true;
      for (const cleanup of cleanups) cleanup();
      const message =
        decision.kind === 'commit'
          ? { type: 'gh:commit', generation: snapshot.generation }
          : { type: 'gh:abort', generation: snapshot.generation };
      const targets = decision.kind === 'commit' ? channels.filter((c) => round.ready.has(c.id)) : channels;
      for (const channel of targets) safeSend(channel, message);
      resolve({
        committed: decision.kind === 'commit',
        reason: decision.kind === 'abort' ? decision.reason : '',
        workers: decision.kind === 'commit' ? [...round.ready] : [],
      });
    };

    for (const channel of channels) {
      cleanups.push(
        channel.onMessage((message) => {
          round = recordAnswer(round, channel.id, message);
          finish(decide(round));
        }),
      );
      cleanups.push(
        channel.onExit(() => {
          round = recordGone(round, channel.id);
          finish(decide(round));
        }),
      );
    }
    const timer = setTimeout(() => finish(decideOnTimeout(round, options.timeoutMs)), options.timeoutMs);
    cleanups.push(() => clearTimeout(timer));
    if (options.resendEveryMs) {
      const resend = setInterval(() => {
        const silent = channels.filter((c) => round.waiting.has(c.id));
        if (silent.length === 0) return;
        options.onResend?.(silent.map((c) => c.id));
        for (const channel of silent) safeSend(channel, prepare);
      }, options.resendEveryMs);
      cleanups.push(() => clearInterval(resend));
    }
    for (const channel of channels) safeSend(channel, prepare);
    finish(decide(round));
  });
}

function safeSend(channel: RolloutChannel, message: object): void {
  try {
    channel.send(message);
  } catch {
    // The worker is gone; its exit listener settles the round.
  }
}

/**
 * Runs tasks one at a time. Reloads ask through `coalesce`: while one runs, every further request
 * joins a single pending run, because that run will read the newest files anyway.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private pending: { key: string; promise: Promise<unknown> } | null = null;

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    this.tail = result.catch(() => {});
    return result;
  }

  coalesce<T>(key: string, task: () => Promise<T>): Promise<T> {
    if (this.pending && this.pending.key === key) return this.pending.promise as Promise<T>;
    const entry = {
      key,
      promise: this.run(async () => {
        if (this.pending === entry) this.pending = null;
        return task();
      }),
    };
    this.pending = entry;
    return entry.promise;
  }
}
