// The primary's reload: read the files (or take what the watcher just read), build a candidate,
// decide what to do with it (reload-decision.ts), roll it out to the workers in two phases and make
// it current. Whatever goes wrong, the running generation serves on and the reload is rejected.
// What a committed generation changes elsewhere (metrics, health checks, ACME, admin token) is the
// primary's `accepted` hook; this room owns the current generation and the file watcher.
import type { ConfigDiagnostic, GatewayConfig } from '@gatehouse/config';
import { formatDiagnostic } from '@gatehouse/config';
import type { Snapshot } from '@gatehouse/dataplane';
import type { FileRead } from '@gatehouse/pki';
import type { Logger } from 'pino';
import { certificateStatuses } from './certificate-status.ts';
import { errorMessage } from './errors.ts';
import { FileReads } from './file-reads.ts';
import type { CertificateStatus, ReloadOutcome, ReloadTrigger, StatusReport } from './gateway-api.ts';
import type { PrimaryMetrics } from './metrics.ts';
import { PairGrace } from './pair-grace.ts';
import { rateLimitBuckets, type RateLimitLedger } from './rate-limit-ledger.ts';
import { decideReload } from './reload-decision.ts';
import { type RolloutChannel, runTwoPhase, type SerialQueue } from './rollout.ts';
import { buildCandidate, type Candidate, describeChanges, pinListeners, summarizeChanges } from './snapshot.ts';
import { MaterialWatcher } from './watcher.ts';

/** A worker as a rollout sees it: a channel, and the generation it last committed. */
export interface RolloutWorker extends RolloutChannel {
  generation: number;
}

export interface ReloaderOptions {
  configFile: string;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  initial: Candidate;
  /** Rollouts, onboarding and ticket rotations run one at a time through it. */
  queue: SerialQueue;
  rateLimits: RateLimitLedger;
  /** How long workers get to answer prepare (default 10 s). */
  rolloutTimeoutMs?: number;
  /** Why no reload can run now (still starting, draining), or null. */
  blockedBy(): string | null;
  /** The workers a new generation goes to; none at all is a valid set (the primary alone). */
  rolloutTargets(): RolloutWorker[];
  /** The session-ticket keys a new generation carries (wire form). */
  ticketKeys(): string;
  /** The backend health a new generation starts from; null keeps the current generation's. */
  health(): Snapshot['health'] | null;
  metrics(): PrimaryMetrics | null;
  /** The new generation's log level, set before its own "reload accepted" line is written. */
  setLogLevel(level: string): void;
  /** A new generation is committed on every worker: everything else follows it. */
  accepted(previous: Snapshot, next: Snapshot): void;
}

export class Reloader {
  private readonly options: ReloaderOptions;
  private readonly logger: Logger;
  private snapshot: Snapshot;
  private hash: string;
  private certificateList: CertificateStatus[];
  private last: StatusReport['lastReload'] = null;
  /** The listeners bound at start: a reload cannot move them (pinned, with a warning). */
  private readonly boundListeners: GatewayConfig['gateway']['entryPoints'];
  /** A certificate and its key that do not match yet, during a rotation: waited for, then rejected. */
  private readonly pairGrace = new PairGrace();
  private pairGraceTimer: NodeJS.Timeout | null = null;
  private watcher: MaterialWatcher | null = null;
  /**
   * What the watcher's latest look read (every watched file), for the next reload to use instead of
   * reading again. Taken by the reload that starts next, whatever its trigger: a change after that
   * look differs from the watcher's hash, so the watcher reloads again.
   */
  private watcherReads: ReadonlyMap<string, FileRead> | null = null;

  constructor(options: ReloaderOptions) {
    this.options = options;
    this.logger = options.logger;
    this.snapshot = options.initial.snapshot;
    this.hash = options.initial.hash;
    this.certificateList = certificateStatuses(this.snapshot, Date.now());
    this.boundListeners = this.snapshot.config.gateway.entryPoints;
  }

  /** The generation every serving worker runs (or is about to, during a rollout's commit). */
  get current(): Snapshot {
    return this.snapshot;
  }

  get certificates(): CertificateStatus[] {
    return this.certificateList;
  }

  get lastReload(): StatusReport['lastReload'] {
    return this.last;
  }

  /** Same generation, new session-ticket keys: a worker that joins later starts with them. */
  setTicketKeys(wire: string): void {
    this.snapshot = { ...this.snapshot, tls: { ...this.snapshot.tls, ticketKeys: wire } };
  }

  /** Watches the config and material files when `gateway.watch` asks for it; a change reloads. */
  watch(watcherLogger: Logger): void {
    const watch = this.snapshot.config.gateway.watch;
    if (!watch.enabled) return;
    this.watcher = new MaterialWatcher({
      debounceMs: watch.debounceMs,
      pollIntervalMs: watch.pollIntervalMs,
      logger: watcherLogger,
      onChange: (paths, read) => {
        this.logger.info({ files: paths }, 'material changed');
        this.watcherReads = read;
        void this.reload('file');
      },
    });
    this.watcher.setFiles(this.options.initial.files);
  }

  stop(): void {
    this.clearPairGraceTimer();
    void this.watcher?.close().catch(() => {});
    this.watcher = null;
  }

  /** Reloads asked for while one runs join a single next run: it reads the newest files anyway. */
  reload(trigger: ReloadTrigger): Promise<ReloadOutcome> {
    return this.options.queue.coalesce('reload', () => this.run(trigger));
  }

  /** A reload never throws: an unexpected error is a rejected reload, and the old generation serves on. */
  private async run(trigger: ReloadTrigger): Promise<ReloadOutcome> {
    try {
      return await this.tryReload(trigger);
    } catch (error) {
      return this.reject(trigger, [], [], `internal error: ${errorMessage(error)}`);
    }
  }

  private async tryReload(trigger: ReloadTrigger): Promise<ReloadOutcome> {
    const generation = this.snapshot.generation;
    const blocked = this.options.blockedBy();
    if (blocked !== null) return rejected(generation, [], [], blocked);
    const reads = new FileReads(this.watcherReads ?? undefined);
    this.watcherReads = null;
    const build = await buildCandidate({
      reads,
      configFile: this.options.configFile,
      env: this.options.env,
      currentHash: this.hash,
      generation: generation + 1,
      ticketKeys: this.options.ticketKeys(),
      health: this.options.health() ?? this.snapshot.health,
      now: Date.now(),
    });
    this.watcher?.setFiles(build.files, reads.done());
    const graceMs = this.snapshot.config.gateway.watch.pairGraceMs;
    const step = decideReload(build, trigger, this.pairGrace, graceMs, Date.now());
    if (step.kind === 'wait' && build.kind === 'rejected') {
      return this.awaitMatchingPair(build.errors, build.warnings, step);
    }
    this.clearPairGraceTimer();
    if (build.kind === 'unchanged') {
      this.logger.info({ trigger, generation }, 'reload unchanged');
      return { accepted: true, generation, unchanged: true, errors: [], warnings: [], message: 'nothing changed' };
    }
    if (build.kind === 'rejected') return this.reject(trigger, build.errors, build.warnings, null);
    return this.rollOut(trigger, build);
  }

  private async rollOut(trigger: ReloadTrigger, build: Candidate): Promise<ReloadOutcome> {
    const changes = describeChanges(this.snapshot, build.snapshot);
    const snapshot = pinListeners(build.snapshot, this.boundListeners);
    if (changes.listenersChanged) {
      this.logger.warn(
        {
          bound: listenerNames(this.boundListeners),
          configured: listenerNames(build.snapshot.config.gateway.entryPoints),
        },
        'listener address changed; needs restart',
      );
    }
    const targets = this.options.rolloutTargets();
    // Before the workers prepare: they may ask for the new buckets as soon as they commit.
    const buckets = rateLimitBuckets(snapshot.config);
    this.options.rateLimits.define(buckets);
    if (targets.length > 0) {
      const result = await runTwoPhase(targets, snapshot, { timeoutMs: this.options.rolloutTimeoutMs ?? 10_000 });
      if (!result.committed) {
        const why = `workers could not prepare the new generation: ${result.reason}`;
        return this.reject(trigger, [], build.warnings, why);
      }
      for (const worker of targets) if (result.workers.includes(worker.id)) worker.generation = snapshot.generation;
    }
    const previous = this.snapshot;
    this.snapshot = snapshot;
    this.options.rateLimits.retain(new Set(buckets.keys()));
    this.hash = build.hash;
    this.certificateList = certificateStatuses(snapshot, Date.now());
    this.options.setLogLevel(snapshot.config.gateway.log.level);
    const summary = summarizeChanges(changes);
    const warnings = build.warnings.map(formatDiagnostic);
    this.logger.info({ trigger, generation: snapshot.generation, changes: summary, warnings }, 'reload accepted');
    for (const swap of changes.certificateSwaps) {
      const { name, source, oldSerial, newSerial } = swap;
      this.logger.info({ name, source, oldSerial, newSerial }, 'certificate swapped');
    }
    this.options.metrics()?.reloadResult(true);
    this.options.accepted(previous, snapshot);
    this.last = { at: new Date().toISOString(), accepted: true, message: summary };
    return {
      accepted: true,
      generation: snapshot.generation,
      unchanged: false,
      errors: [],
      warnings: build.warnings,
      message: summary,
    };
  }

  /**
   * One half of a certificate/key pair changed and the other has not yet: an info line, no metric.
   * The other half's own change event reloads again; if none comes, the reload at the end of the
   * grace period is a real rejection.
   */
  private awaitMatchingPair(
    errors: ConfigDiagnostic[],
    warnings: ConfigDiagnostic[],
    verdict: { remainingMs: number; first: boolean },
  ): ReloadOutcome {
    const generation = this.snapshot.generation;
    if (verdict.first) {
      const files = diagnosedFiles(errors);
      const mismatched = errors.map(formatDiagnostic);
      this.logger.info({ generation, files, graceMs: verdict.remainingMs, mismatched }, 'waiting for the matching key');
    }
    this.clearPairGraceTimer();
    this.pairGraceTimer = setTimeout(() => {
      this.pairGraceTimer = null;
      void this.reload('file');
    }, verdict.remainingMs);
    this.pairGraceTimer.unref();
    return rejected(generation, errors, warnings, 'waiting for the matching key');
  }

  private clearPairGraceTimer(): void {
    if (this.pairGraceTimer) clearTimeout(this.pairGraceTimer);
    this.pairGraceTimer = null;
  }

  private reject(
    trigger: string,
    errors: ConfigDiagnostic[],
    warnings: ConfigDiagnostic[],
    workerReason: string | null,
  ): ReloadOutcome {
    const generation = this.snapshot.generation;
    const reasons = errors.map(formatDiagnostic);
    if (workerReason) reasons.push(workerReason);
    this.logger.error({ trigger, generation, files: diagnosedFiles(errors), errors: reasons }, 'reload rejected');
    this.options.metrics()?.reloadResult(false);
    const message = reasons.join('; ');
    this.last = { at: new Date().toISOString(), accepted: false, message };
    return rejected(generation, errors, warnings, message);
  }
}

function rejected(
  generation: number,
  errors: ConfigDiagnostic[],
  warnings: ConfigDiagnostic[],
  message: string,
): ReloadOutcome {
  return { accepted: false, generation, unchanged: false, errors, warnings, message };
}

function diagnosedFiles(errors: ConfigDiagnostic[]): string[] {
  return [...new Set(errors.map((e) => e.file).filter((f) => f))];
}

function listenerNames(entryPoints: GatewayConfig['gateway']['entryPoints']): string[] {
  return [entryPoints.web?.raw, entryPoints.webSecure?.raw].filter((a): a is string => typeof a === 'string');
}
