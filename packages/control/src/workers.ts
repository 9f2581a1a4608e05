// The workers' lifecycle: fork, respawn with backoff, rolling restart and drain. What a worker runs
// (which generation) is the primary's business; this file only manages processes and their channel.
import cluster, { type Worker } from 'node:cluster';
import {
  type BindFailedMessage,
  type ListeningMessage,
  type WorkerToPrimary,
  workerWarmupPaths,
} from '@gatehouse/dataplane';
import type { Logger } from 'pino';
import { prepareWorkerCompileCache } from './compile-cache.ts';
import { BindFailedError, WorkerStartError, WorkerTimeoutError } from './errors.ts';
import type { RolloutChannel } from './rollout.ts';

// ---- backoff (pure) ----

export const RESPAWN_BASE_MS = 100;
export const RESPAWN_MAX_MS = 10_000;
/** A worker that ran this long counts as healthy: its exit starts the backoff from the beginning. */
export const STABLE_UPTIME_MS = 30_000;

/** Delay before respawning after `failures` quick deaths in a row: 100 ms doubling up to 10 s. */
export function respawnDelayMs(failures: number): number {
  return Math.min(RESPAWN_BASE_MS * 2 ** Math.max(0, failures), RESPAWN_MAX_MS);
}

/** The backoff step for a worker that exited after `uptimeMs`, given the slot's failures so far. */
export function nextRespawn(failures: number, uptimeMs: number): { delayMs: number; failures: number } {
  const base = uptimeMs >= STABLE_UPTIME_MS ? 0 : failures;
  return { delayMs: respawnDelayMs(base), failures: base + 1 };
}

// ---- one worker process ----

export interface ExitInfo {
  code: number | null;
  signal: string | null;
}

export class ManagedWorker implements RolloutChannel {
  readonly worker: Worker;
  readonly id: number;
  readonly pid: number;
  readonly slot: number;
  readonly startedAt = Date.now();
  /** The generation this worker has committed (0: none yet). */
  generation = 0;
  listening: ListeningMessage | null = null;
  bindFailure: BindFailedMessage | null = null;
  /** Set before the primary asks it to go (drain, restart, stop): its exit is expected. */
  retiring = false;
  exit: ExitInfo | null = null;
  readonly exited: Promise<ExitInfo>;
  private readonly messageListeners = new Set<(message: WorkerToPrimary) => void>();
  private readonly exitListeners = new Set<() => void>();

  constructor(worker: Worker, slot: number, logger: Logger) {
    this.worker = worker;
    this.id = worker.id;
    this.pid = worker.process.pid ?? 0;
    this.slot = slot;
    worker.on('message', (message: unknown) => {
      if (!isGatehouseMessage(message)) return;
      if (message.type === 'gh:listening') this.listening = message;
      else if (message.type === 'gh:bind-failed') this.bindFailure = message;
      for (const listener of [...this.messageListeners]) listener(message);
    });
    // A send on a closed channel is reported here; without a listener it would throw in the primary.
    worker.on('error', (error: Error) => logger.debug({ worker: this.id, err: error }, 'worker channel error'));
    this.exited = new Promise((resolve) => {
      worker.once('exit', (code: number | null, signal: string | null) => {
        this.exit = { code, signal };
        for (const listener of [...this.exitListeners]) listener();
        resolve(this.exit);
      });
    });
  }

  get alive(): boolean {
    return this.exit === null;
  }

  send(message: object): void {
    if (!this.alive || !this.worker.isConnected()) throw new WorkerStartError(`worker ${this.id} is not connected`);
    this.worker.send(message);
  }

  trySend(message: object): boolean {
    try {
      this.send(message);
      return true;
    } catch {
      return false;
    }
  }

  onMessage(listener: (message: WorkerToPrimary) => void): () => void {
    this.messageListeners.add(listener);
    return () => this.messageListeners.delete(listener);
  }

  onExit(listener: () => void): () => void {
    if (!this.alive) {
      queueMicrotask(listener);
      return () => {};
    }
    this.exitListeners.add(listener);
    return () => this.exitListeners.delete(listener);
  }

  /** Resolves once the worker has bound every listener; rejects on bind failure, exit or timeout. */
  waitForListening(timeoutMs: number): Promise<ListeningMessage> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        if (this.listening) resolve(this.listening);
        else if (this.bindFailure) reject(new BindFailedError(this.bindFailure.address, this.bindFailure.reason));
        else if (this.exit) {
          reject(
            new WorkerStartError(
              `worker ${this.id} (pid ${this.pid}) exited before listening (code ${this.exit.code}, signal ${this.exit.signal})`,
            ),
          );
        } else return false;
        return true;
      };
      if (check()) return;
      const done = () => {
        clearTimeout(timer);
        offMessage();
        offExit();
      };
      const timer = setTimeout(() => {
        done();
        reject(new WorkerTimeoutError(`worker ${this.id} did not start listening within ${timeoutMs} ms`));
      }, timeoutMs);
      const offMessage = this.onMessage(() => {
        if (check()) done();
      });
      const offExit = this.onExit(() => {
        if (check()) done();
      });
    });
  }

  /** Asks the worker to drain; kills it if it has not exited `graceMs` after the deadline. */
  async retire(deadlineMs: number, graceMs: number): Promise<ExitInfo> {
    this.retiring = true;
    if (!this.alive) return this.exited;
    if (!this.trySend({ type: 'gh:drain', deadlineMs })) this.kill('SIGTERM');
    const timer = setTimeout(() => this.kill('SIGKILL'), deadlineMs + graceMs);
    const info = await this.exited;
    clearTimeout(timer);
    return info;
  }

  kill(signal: NodeJS.Signals): void {
    if (!this.alive) return;
    try {
      this.worker.process.kill(signal);
    } catch {
      // Already gone.
    }
  }
}

export function isGatehouseMessage(message: unknown): message is WorkerToPrimary {
  return (
    typeof message === 'object' &&
    message !== null &&
    typeof (message as { type?: unknown }).type === 'string' &&
    (message as { type: string }).type.startsWith('gh:')
  );
}

/**
 * glibc gives each thread that allocates its own malloc arena; a worker has a dozen (V8's platform
 * threads, libuv's pool), and their half-used arenas measured about 5 MiB of RSS per worker at 200
 * connections (106 → 100 MiB, throughput unchanged). Two arenas are enough for a process
 * whose JavaScript runs on one thread. An operator's own MALLOC_ARENA_MAX wins.
 */
const WORKER_ALLOCATOR_ENV: Record<string, string> =
  process.env.MALLOC_ARENA_MAX === undefined ? { MALLOC_ARENA_MAX: '2' } : {};

// ---- the pool ----

export interface WorkerPoolOptions {
  size: number;
  logger: Logger;
  /** Brings a fresh worker to the current generation and waits until it listens. */
  onboard: (worker: ManagedWorker) => Promise<void>;
  /** Every gh: message from any worker. */
  onMessage: (worker: ManagedWorker, message: WorkerToPrimary) => void;
  /** A worker that died was replaced and serves again. */
  onRespawned: (worker: ManagedWorker) => void;
  /** How long a drained worker may take beyond its deadline before it is killed. */
  killGraceMs?: number;
  /** The workers' module files, compiled into Node's compile cache before the first fork (default: the data plane's; []: no cache). */
  warmupModules?: readonly string[];
}

interface Slot {
  index: number;
  worker: ManagedWorker | null;
  failures: number;
  timer: NodeJS.Timeout | null;
}

export class WorkerPool {
  private readonly options: WorkerPoolOptions;
  private readonly slots: Slot[];
  /** Every worker process still alive, including retiring ones. */
  private readonly all = new Map<number, ManagedWorker>();
  private stopping = false;
  /** Added to every worker's environment: the compile cache (see prepareWorkerCompileCache). */
  private workerEnv: Record<string, string> = {};

  constructor(options: WorkerPoolOptions) {
    this.options = options;
    this.slots = Array.from({ length: options.size }, (_, index) => ({
      index,
      worker: null,
      failures: 0,
      timer: null,
    }));
  }

  get size(): number {
    return this.slots.length;
  }

  /** Forks one worker per slot; the caller brings them to generation 1. */
  forkAll(): ManagedWorker[] {
    this.prepareCompileCache();
    return this.slots.map((slot) => {
      const worker = this.fork(slot.index);
      slot.worker = worker;
      return worker;
    });
  }

  /**
   * Compiles the worker modules into the compile cache (see compile-cache.ts), before the first
   * fork and before a rolling restart, which is how new code on disk reaches the workers.
   */
  private prepareCompileCache(): void {
    const modules = this.options.warmupModules ?? workerWarmupPaths;
    if (modules.length === 0) return;
    const cache = prepareWorkerCompileCache(modules, cluster.settings.execArgv ?? []);
    if (cache.directory !== null) {
      this.workerEnv = { NODE_COMPILE_CACHE: cache.directory };
      return;
    }
    this.workerEnv = {};
    this.options.logger.warn(
      { reason: cache.reason },
      'workers start without a compile cache (about 30 MiB more each)',
    );
  }

  /** The workers that serve (or are about to): one per slot, alive and not retiring. */
  serving(): ManagedWorker[] {
    const out: ManagedWorker[] = [];
    for (const slot of this.slots) if (slot.worker?.alive && !slot.worker.retiring) out.push(slot.worker);
    return out;
  }

  /** Who takes part in a rollout: every live worker that runs a generation and is not leaving. */
  rolloutTargets(): ManagedWorker[] {
    return this.alive().filter((w) => !w.retiring && w.generation > 0);
  }

  /** Every live worker process, for broadcasts (health, ticket keys) and stats. */
  alive(): ManagedWorker[] {
    return [...this.all.values()].filter((w) => w.alive);
  }

  broadcast(message: object): void {
    for (const worker of this.alive()) worker.trySend(message);
  }

  private fork(slot: number): ManagedWorker {
    const worker = new ManagedWorker(
      cluster.fork({ ...WORKER_ALLOCATOR_ENV, ...this.workerEnv, GATEHOUSE_WORKER_SLOT: String(slot) }),
      slot,
      this.options.logger,
    );
    this.all.set(worker.id, worker);
    worker.onMessage((message) => this.options.onMessage(worker, message));
    void worker.exited.then((info) => this.onExit(worker, info));
    return worker;
  }

  private onExit(worker: ManagedWorker, info: ExitInfo): void {
    this.all.delete(worker.id);
    const slot = this.slots[worker.slot];
    const expected = worker.retiring || this.stopping;
    const fields = { worker: worker.id, pid: worker.pid, slot: worker.slot, code: info.code, signal: info.signal };
    if (expected) {
      this.options.logger.debug(fields, 'worker stopped');
      return;
    }
    this.options.logger.warn({ ...fields, expected: false }, 'worker exited');
    if (!slot || slot.worker !== worker) return;
    slot.worker = null;
    const step = nextRespawn(slot.failures, Date.now() - worker.startedAt);
    slot.failures = step.failures;
    slot.timer = setTimeout(() => this.respawn(slot, step.delayMs), step.delayMs);
  }

  private async respawn(slot: Slot, delayMs: number): Promise<void> {
    slot.timer = null;
    if (this.stopping || slot.worker) return;
    const worker = this.fork(slot.index);
    slot.worker = worker;
    try {
      await this.options.onboard(worker);
    } catch (error) {
      this.options.logger.error({ worker: worker.id, pid: worker.pid, err: error }, 'respawned worker failed to start');
      worker.kill('SIGKILL');
      return;
    }
    this.options.logger.info(
      { worker: worker.id, pid: worker.pid, slot: slot.index, generation: worker.generation, backoffMs: delayMs },
      'worker respawned',
    );
    this.options.onRespawned(worker);
  }

  /**
   * Replaces the workers one at a time: the new one is forked, brought to the current generation and
   * bound (reusePort: it binds beside the old one), and only then is the old one drained.
   */
  async rollingRestart(drainMs: number, onReplaced: (fresh: ManagedWorker) => void): Promise<number> {
    let replaced = 0;
    // An old worker drains while the next slot is replaced: a long-lived client connection on it
    // must not hold the whole restart for a drain deadline per worker.
    const draining: Array<Promise<ExitInfo>> = [];
    this.prepareCompileCache();
    try {
      for (const slot of this.slots) {
        if (this.stopping) break;
        const old = slot.worker;
        // Not the slot's worker until it serves, so its death during start-up does not respawn it.
        const fresh = this.fork(slot.index);
        try {
          await this.options.onboard(fresh);
        } catch (error) {
          fresh.kill('SIGKILL');
          throw error;
        }
        slot.worker = fresh;
        slot.failures = 0;
        onReplaced(fresh);
        if (old?.alive) draining.push(old.retire(drainMs, this.options.killGraceMs ?? 2_000));
        replaced++;
      }
    } finally {
      await Promise.all(draining);
    }
    return replaced;
  }

  private stopRespawning(): void {
    this.stopping = true;
    for (const slot of this.slots) {
      if (slot.timer) clearTimeout(slot.timer);
      slot.timer = null;
    }
  }

  /** Drains every worker at once and resolves when all have exited. */
  async drainAll(drainMs: number): Promise<void> {
    this.stopRespawning();
    await Promise.all(this.alive().map((w) => w.retire(drainMs, this.options.killGraceMs ?? 2_000)));
  }

  /** Start-up failed: no drain, the workers never served. */
  async killAll(): Promise<void> {
    this.stopRespawning();
    const workers = this.alive();
    for (const worker of workers) {
      worker.retiring = true;
      worker.kill('SIGKILL');
    }
    await Promise.all(workers.map((w) => w.exited));
  }
}
