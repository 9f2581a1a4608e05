// The primary (control plane): it owns the current generation, rolls new ones out to the workers in
// two phases, keeps the workers alive, and answers the operator surfaces through GatewayApi. It never
// handles a request. Reads and validation live in snapshot.ts, process management in workers.ts.
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { unlink, writeFile } from 'node:fs/promises';
import type { ConfigDiagnostic, GatewayConfig } from '@gatehouse/config';
import { effectiveClientAuth, formatDiagnostic, isLoopbackAddress } from '@gatehouse/config';
import {
  backendKey,
  type LeaseAsk,
  type Snapshot,
  type StatsMessage,
  type WorkerToPrimary,
  workerEntryPath,
} from '@gatehouse/dataplane';
import { HealthScheduler, type HealthTransition } from '@gatehouse/health';
import { type FileRead, generateTicketKeys } from '@gatehouse/pki';
import type { Logger } from 'pino';
import { AcmeManager, type ChallengeSet } from './acme/manager.ts';
import { certificateStatuses, refreshDaysLeft } from './certificate-status.ts';
import { ensureListenerMigration, TCP_MIGRATE_REQ } from './listener-migration.ts';
import { errorMessage, RolloutAbortedError, ShuttingDownError } from './errors.ts';
import type {
  BackendStatus,
  CertificateStatus,
  GatewayApi,
  Readiness,
  ReloadOutcome,
  ReloadTrigger,
  RouteReport,
  RouteStatus,
  RateLimitStoreStatus,
  StatusReport,
  WorkerStatus,
} from './gateway-api.ts';
import { StatusFeed } from './status-feed.ts';
import { TrafficStats } from './traffic-stats.ts';
import { runTwoPhase, SerialQueue } from './rollout.ts';
import { buildCandidate, type Candidate, describeChanges, pinListeners, summarizeChanges } from './snapshot.ts';
import { newTicketKeyRing, rotateTicketKeys, type TicketKeyRing, wireTicketKeys } from './ticket-keys.ts';
import { FileReads } from './file-reads.ts';
import { PairGrace } from './pair-grace.ts';
import { decideReload } from './reload-decision.ts';
import { MaterialWatcher } from './watcher.ts';
import { type AdminServer, startAdminServer } from './admin-server.ts';
import { startExpiryWarnings } from './expiry.ts';
import { createPrimaryMetrics, type PrimaryMetrics } from './metrics.ts';
import { type ManagedWorker, WorkerPool } from './workers.ts';
import { RateLimitLedger, rateLimitBuckets } from './rate-limit-ledger.ts';

// ---- the start-up load, before any logger or worker exists ----

export type InitialLoad =
  | { ok: true; candidate: Candidate; tickets: TicketKeyRing }
  | { ok: false; errors: ConfigDiagnostic[]; warnings: ConfigDiagnostic[] };

export async function loadInitial(configFile: string, env: NodeJS.ProcessEnv): Promise<InitialLoad> {
  const tickets = newTicketKeyRing(generateTicketKeys(), Date.now());
  const result = await buildCandidate({
    configFile,
    env,
    currentHash: null,
    generation: 1,
    ticketKeys: wireTicketKeys(tickets),
    health: {},
    now: Date.now(),
  });
  if (result.kind === 'rejected') return { ok: false, errors: result.errors, warnings: result.warnings };
  if (result.kind === 'unchanged') throw new Error('unreachable: no current hash at start');
  return { ok: true, candidate: result, tickets };
}

export interface PrimaryOptions {
  configFile: string;
  env: NodeJS.ProcessEnv;
  workers: number;
  logger: Logger;
  initial: Candidate;
  tickets: TicketKeyRing;
  version: string;
  /** How long workers get to answer prepare on a reload (default 10 s). */
  rolloutTimeoutMs?: number;
  /** How long a fresh worker gets to load, prepare and bind (default 30 s). */
  startTimeoutMs?: number;
}

/**
 * A freshly forked worker may not listen on its IPC channel yet when the first prepare arrives (a
 * message with no listener is dropped), so a silent new worker gets it again. Long enough that a
 * slow cold start (4-6 s measured on a loaded 2-core machine) rarely sees a duplicate.
 */
const PREPARE_RESEND_MS = 5_000;
/** How often the rate-limit ledger forgets buckets that are full again. */
const RATE_LIMIT_SWEEP_MS = 5_000;

/** How long every worker gets to acknowledge a new set of ACME challenges. */
const CHALLENGE_ACK_TIMEOUT_MS = 10_000;
/** How often the status page's numbers are sampled: changes show within about two ticks. */
const STATUS_TICK_MS = 1_000;

type State = 'created' | 'starting' | 'running' | 'draining' | 'stopped';

/** In rotation: probes say up, no passive ejection in force, and a weight to be picked by. */
function inRotation(health: { up: boolean; ejectedUntil: number }, weight: number, now: number): boolean {
  return health.up && health.ejectedUntil <= now && weight > 0;
}

export class Primary implements GatewayApi {
  private readonly options: PrimaryOptions;
  private readonly logger: Logger;
  private readonly queue = new SerialQueue();
  private readonly pool: WorkerPool;
  private state: State = 'created';
  private current: Snapshot;
  private currentHash: string;
  private currentCertificates: CertificateStatus[];
  private readonly boundListeners: GatewayConfig['gateway']['entryPoints'];
  private tickets: TicketKeyRing;
  private ticketTimer: NodeJS.Timeout | null = null;
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
  private health: HealthScheduler | null = null;
  private metrics: PrimaryMetrics | null = null;
  private admin: AdminServer | null = null;
  private expiry: { stop(): void } | null = null;
  private acme: AcmeManager | null = null;
  private challengeId = 0;
  private lastReload: StatusReport['lastReload'] = null;
  private adminToken: string | null;
  private readonly traffic = new TrafficStats();
  /** The status page's live document; the admin listener holds the viewers' connections. */
  private readonly feed = new StatusFeed();
  private statusTimer: NodeJS.Timeout | null = null;
  private restarting: Promise<void> | null = null;
  private draining: Promise<number> | null = null;
  private pidFile: string | null = null;
  private readonly componentLoggers: Logger[] = [];
  private statsId = 0;
  /** The per-instance rate-limit buckets; workers lease tokens from it. */
  private readonly rateLimits: RateLimitLedger;
  /** Workers that lease tokens, by id: answers, wakes and bans go to them. */
  private readonly leaseHolders = new Map<number, ManagedWorker>();
  private rateLimitSweep: NodeJS.Timeout | null = null;
  private metricsScrape: ReturnType<PrimaryMetrics['scrape']> | null = null;
  /** Workers whose Redis store is down, and since when the store is in its current state. */
  private readonly storeDown = new Set<number>();
  private storeSince: string | null = null;
  private readonly startedAt = Date.now();
  private resolveStopped: (code: number) => void = () => {};
  /** Resolves with the exit code once the primary has drained and stopped. */
  readonly stopped: Promise<number>;

  constructor(options: PrimaryOptions) {
    this.options = options;
    this.logger = options.logger;
    this.current = options.initial.snapshot;
    this.currentHash = options.initial.hash;
    this.currentCertificates = certificateStatuses(this.current, Date.now());
    this.boundListeners = this.current.config.gateway.entryPoints;
    this.tickets = options.tickets;
    this.adminToken = this.current.config.gateway.admin.token;
    this.stopped = new Promise((resolve) => {
      this.resolveStopped = resolve;
    });
    this.rateLimits = new RateLimitLedger((id, items) => {
      this.leaseHolders.get(id)?.trySend({ type: 'gh:rl-answer', items });
    });
    this.rateLimits.define(rateLimitBuckets(this.current.config));
    this.pool = new WorkerPool({
      size: options.workers,
      logger: this.logger,
      onboard: (worker) => this.onboard(worker),
      onMessage: (worker, message) => this.onWorkerMessage(worker, message),
      onRespawned: () => this.metrics?.workerRestart(),
    });
  }

  /** True once a drain has begun (SIGTERM/SIGINT), also during start-up. */
  get isDraining(): boolean {
    return this.draining !== null;
  }

  get generation(): number {
    return this.current.generation;
  }

  /**
   * Forks the workers, brings them to generation 1 and waits until each has bound its listeners.
   * Rejects (BindFailedError, WorkerStartError, RolloutAbortedError) when start-up cannot complete;
   * the caller then calls `abortStart()`.
   */
  async start(): Promise<void> {
    this.state = 'starting';
    const startTimeoutMs = this.options.startTimeoutMs ?? 30_000;
    ensureListenerMigration(this.logger, this.options.env);
    cluster.setupPrimary({ exec: workerEntryPath, serialization: 'advanced', silent: false });
    await this.loadCollaborators();
    const workers = this.pool.forkAll();
    const result = await this.queue.run(() =>
      runTwoPhase(workers, this.current, {
        timeoutMs: startTimeoutMs,
        resendEveryMs: PREPARE_RESEND_MS,
        onResend: (ids) => this.logPrepareResend(ids),
      }),
    );
    if (!result.committed) throw new RolloutAbortedError(this.current.generation, result.reason);
    for (const worker of workers) if (result.workers.includes(worker.id)) worker.generation = this.current.generation;
    const listening = await Promise.all(workers.map((w) => w.waitForListening(startTimeoutMs)));
    if (this.state !== 'starting') throw new ShuttingDownError('start');
    this.state = 'running';
    this.pushReadiness();
    // The admin endpoint, watcher and pid file exist before "gateway ready", so whoever waits for that
    // line can use all of them.
    await this.afterStart();
    const addresses = [...new Set(listening.flatMap((l) => l.addresses))];
    this.logger.info(
      { generation: this.current.generation, workers: workers.length, addresses, pids: workers.map((w) => w.pid) },
      'gateway ready',
    );
  }

  /** Start-up failed: kill whatever was forked, without draining (nothing was served). */
  async abortStart(): Promise<void> {
    this.state = 'stopped';
    this.stopBackground();
    await this.pool.killAll();
    await this.admin?.close().catch(() => {});
    await this.removePidFile();
  }

  private async loadCollaborators(): Promise<void> {
    this.metrics = createPrimaryMetrics();
    this.health = new HealthScheduler({
      onTransition: (t) => this.onHealthTransition(t),
      logger: this.componentLogger('health'),
    });
  }

  private async afterStart(): Promise<void> {
    const gateway = this.current.config.gateway;
    this.metrics?.generation(this.current.generation);
    this.metrics?.certificates(this.currentCertificates);
    this.health?.apply(this.current.config, this.current.upstreamTls);
    this.publishBackendUp(this.current.config);
    if (gateway.watch.enabled) {
      this.watcher = new MaterialWatcher({
        debounceMs: gateway.watch.debounceMs,
        pollIntervalMs: gateway.watch.pollIntervalMs,
        logger: this.componentLogger('watcher'),
        onChange: (paths, read) => {
          this.logger.info({ files: paths }, 'material changed');
          this.watcherReads = read;
          void this.reload('file');
        },
      });
      this.watcher.setFiles(this.options.initial.files);
    }
    this.scheduleTicketRotation();
    this.scheduleStatusTick();
    if (gateway.admin.pidFile) {
      await writeFile(gateway.admin.pidFile, `${process.pid}\n`);
      this.pidFile = gateway.admin.pidFile;
    }
    this.expiry = startExpiryWarnings({
      logger: this.logger,
      getCertificates: () => this.currentCertificates,
      days: gateway.tls.expiryWarningDays,
    });
    this.applyAcme();
    if ((gateway.admin.address || gateway.admin.socket) && this.metrics) {
      try {
        this.admin = await startAdminServer({
          address: gateway.admin.address,
          socket: gateway.admin.socket,
          token: this.adminToken,
          feed: this.feed,
          api: this,
          metrics: this.metrics,
          logger: this.componentLogger('admin'),
        });
      } catch (error) {
        this.logger.error({ err: error }, 'admin endpoint could not start');
      }
    }
  }

  /** pino children copy the level when made, so a reloaded level is set on each of them too. */
  private componentLogger(component: string): Logger {
    const child = this.logger.child({ component });
    this.componentLoggers.push(child);
    return child;
  }

  private setLogLevel(level: string): void {
    this.logger.level = level;
    for (const child of this.componentLoggers) child.level = level;
  }

  // ---- workers ----

  /** A new worker (respawned or rolled in) gets the current generation before it binds. */
  private async onboard(worker: ManagedWorker): Promise<void> {
    const timeoutMs = this.options.startTimeoutMs ?? 30_000;
    await this.queue.run(async () => {
      const snapshot = this.health ? { ...this.current, health: this.health.health() } : this.current;
      const result = await runTwoPhase([worker], snapshot, {
        timeoutMs,
        resendEveryMs: PREPARE_RESEND_MS,
        onResend: (ids) => this.logPrepareResend(ids),
      });
      if (!result.committed) throw new RolloutAbortedError(snapshot.generation, result.reason);
      worker.generation = snapshot.generation;
      // Before it listens, so that it answers a validation already under way like the others.
      if (this.acme) worker.trySend({ type: 'gh:acme-challenges', id: 0, ...this.acme.challenges() });
    });
    await worker.waitForListening(timeoutMs);
    this.pushReadiness();
  }

  /** Workers answer /readyz on the traffic listeners from this, so a probe costs no IPC. */
  private pushReadiness(): void {
    const { ready, reason } = this.readiness();
    this.pool.broadcast({ type: 'gh:readiness', ready, reason });
  }

  /** `metricsPath` on a traffic listener: one aggregate scrape, shared by the workers that ask meanwhile. */
  private answerMetrics(worker: ManagedWorker, id: number): void {
    const metrics = this.metrics;
    if (metrics === null) {
      worker.trySend({ type: 'gh:metrics', id, ok: false, contentType: '', body: 'metrics are not set up yet' });
      return;
    }
    this.metricsScrape ??= metrics.scrape().finally(() => {
      this.metricsScrape = null;
    });
    this.metricsScrape.then(
      ({ contentType, body }) => worker.trySend({ type: 'gh:metrics', id, ok: true, contentType, body }),
      (error: unknown) => {
        this.logger.warn({ err: error }, 'metrics scrape failed');
        worker.trySend({ type: 'gh:metrics', id, ok: false, contentType: '', body: errorMessage(error) });
      },
    );
  }

  private logPrepareResend(workers: number[]): void {
    this.logger.warn({ workers, afterMs: PREPARE_RESEND_MS }, 'worker has not answered prepare; sending it again');
  }

  private onWorkerMessage(worker: ManagedWorker, message: WorkerToPrimary): void {
    switch (message.type) {
      case 'gh:rl-ask':
        this.leaseAsk(worker, message.items);
        break;
      case 'gh:rl-store':
        this.rateLimitStore(worker, message.addr, message.ok, message.error);
        break;
      case 'gh:passive':
        this.health?.reportPassive(message.events);
        break;
      case 'gh:metrics-request':
        this.answerMetrics(worker, message.id);
        break;
      case 'gh:bind-failed':
        if (this.state === 'running') {
          this.logger.error(
            { worker: worker.id, address: message.address, reason: message.reason },
            `cannot listen on ${message.address}: ${message.reason}`,
          );
        }
        break;
      default:
        break;
    }
  }

  private leaseAsk(worker: ManagedWorker, items: LeaseAsk[]): void {
    if (!this.leaseHolders.has(worker.id)) {
      this.leaseHolders.set(worker.id, worker);
      worker.onExit(() => {
        this.leaseHolders.delete(worker.id);
        this.rateLimits.workerGone(worker.id);
      });
    }
    if (this.rateLimitSweep === null) {
      this.rateLimitSweep = setInterval(() => this.rateLimits.sweep(), RATE_LIMIT_SWEEP_MS);
      this.rateLimitSweep.unref();
    }
    this.rateLimits.workers = this.pool.size;
    this.rateLimits.ask(worker.id, items);
  }

  /**
   * gatehouse_backend_up for every served backend, from the first scrape: a dashboard of backends
   * is not empty just because nothing has changed yet. Transitions update it afterwards.
   */
  private publishBackendUp(config: GatewayConfig): void {
    const health = this.health?.health() ?? {};
    const now = Date.now();
    for (const route of config.routes) {
      if (!route.enabled) continue;
      for (const backend of route.backends) {
        const h = health[backendKey(route.name, backend.endpoint)] ?? { up: true, ejectedUntil: 0 };
        this.metrics?.backendUp(route.name, backend.endpoint, inRotation(h, backend.weight, now));
      }
    }
  }

  /** Workers report their Redis store's state changes; the instance logs each outage once. */
  private rateLimitStore(worker: ManagedWorker, addr: string, ok: boolean, error: string | null): void {
    const before = this.storeDown.size;
    if (ok) this.storeDown.delete(worker.id);
    else {
      this.storeDown.add(worker.id);
      worker.onExit(() => this.storeDown.delete(worker.id));
    }
    if (before === 0 && this.storeDown.size > 0) {
      this.storeSince = new Date().toISOString();
      this.logger.warn(
        { addr, error },
        'rate-limit store unreachable; rate limits follow onStoreError (local: per-instance limit)',
      );
    } else if (before > 0 && this.storeDown.size === 0) {
      this.storeSince = new Date().toISOString();
      this.logger.info({ addr }, 'rate-limit store reachable again');
    }
  }

  /** For /status: the shared rate-limit store, when gateway.redis is set. */
  rateLimitStoreStatus(): RateLimitStoreStatus | null {
    const redis = this.current.config.gateway.redis;
    if (redis === null) return null;
    return {
      addr: `${redis.host}:${redis.port}`,
      state: this.storeDown.size > 0 ? 'fallback' : 'ok',
      since: this.storeSince,
      workersFallingBack: this.storeDown.size,
    };
  }

  private onHealthTransition(t: HealthTransition): void {
    this.pool.broadcast({ type: 'gh:health', route: t.route, endpoint: t.endpoint, health: t.health });
    const weight =
      this.current.config.routes.find((r) => r.name === t.route)?.backends.find((b) => b.endpoint === t.endpoint)
        ?.weight ?? 1;
    this.metrics?.backendUp(t.route, t.endpoint, inRotation(t.health, weight, Date.now()));
    if (t.kind === 'ejected') this.metrics?.backendEjected(t.route, t.endpoint);
  }

  // ---- session tickets ----

  private scheduleTicketRotation(): void {
    const every = this.current.config.gateway.tls.sessionTicketRotationMs;
    if (this.ticketTimer) clearInterval(this.ticketTimer);
    this.ticketTimer = null;
    if (!(every > 0)) return;
    this.ticketTimer = setInterval(() => this.rotateTickets(), every);
    this.ticketTimer.unref();
  }

  /** Serialized with rollouts, so a generation being prepared never commits an outdated key. */
  private rotateTickets(): void {
    void this.queue.run(async () => {
      if (this.state !== 'running') return;
      this.tickets = rotateTicketKeys(this.tickets, generateTicketKeys(), Date.now());
      // Same generation, new keys: a worker that joins later starts with the current key.
      this.current = { ...this.current, tls: { ...this.current.tls, ticketKeys: wireTicketKeys(this.tickets) } };
      this.pool.broadcast({ type: 'gh:ticket-keys', keys: wireTicketKeys(this.tickets) });
      this.logger.info({ generation: this.current.generation }, 'session ticket keys rotated');
    });
  }

  // ---- GatewayApi ----

  reload(trigger: ReloadTrigger): Promise<ReloadOutcome> {
    return this.queue.coalesce('reload', () => this.runReload(trigger));
  }

  /** A reload never throws: an unexpected error is a rejected reload, and the old generation serves on. */
  private async runReload(trigger: ReloadTrigger): Promise<ReloadOutcome> {
    try {
      return await this.tryReload(trigger);
    } catch (error) {
      return this.rejectReload(trigger, [], [], `internal error: ${errorMessage(error)}`);
    }
  }

  private async tryReload(trigger: ReloadTrigger): Promise<ReloadOutcome> {
    const generation = this.current.generation;
    if (this.state !== 'running') {
      const why =
        this.state === 'starting' || this.state === 'created'
          ? 'the gateway is still starting'
          : new ShuttingDownError('reload').message;
      return rejected(generation, [], [], why);
    }
    const reads = new FileReads(this.watcherReads ?? undefined);
    this.watcherReads = null;
    const build = await buildCandidate({
      reads,
      configFile: this.options.configFile,
      env: this.options.env,
      currentHash: this.currentHash,
      generation: generation + 1,
      ticketKeys: wireTicketKeys(this.tickets),
      health: this.health?.health() ?? this.current.health,
      now: Date.now(),
    });
    this.watcher?.setFiles(build.files, reads.done());
    const step = decideReload(
      build,
      trigger,
      this.pairGrace,
      this.current.config.gateway.watch.pairGraceMs,
      Date.now(),
    );
    if (step.kind === 'wait' && build.kind === 'rejected') {
      return this.awaitMatchingPair(build.errors, build.warnings, step);
    }
    this.clearPairGraceTimer();
    if (build.kind === 'unchanged') {
      this.logger.info({ trigger, generation }, 'reload unchanged');
      return {
        accepted: true,
        generation,
        unchanged: true,
        errors: [],
        warnings: [],
        message: 'nothing changed',
      };
    }
    if (build.kind === 'rejected') return this.rejectReload(trigger, build.errors, build.warnings, null);
    const changes = describeChanges(this.current, build.snapshot);
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
    const targets = this.pool.rolloutTargets();
    // Before the workers prepare: they may ask for the new buckets as soon as they commit.
    const buckets = rateLimitBuckets(snapshot.config);
    this.rateLimits.define(buckets);
    if (targets.length > 0) {
      const result = await runTwoPhase(targets, snapshot, { timeoutMs: this.options.rolloutTimeoutMs ?? 10_000 });
      if (!result.committed) {
        return this.rejectReload(
          trigger,
          [],
          build.warnings,
          `workers could not prepare the new generation: ${result.reason}`,
        );
      }
      for (const worker of targets) if (result.workers.includes(worker.id)) worker.generation = snapshot.generation;
    }
    const previous = this.current;
    this.current = snapshot;
    this.rateLimits.retain(new Set(buckets.keys()));
    this.currentHash = build.hash;
    this.currentCertificates = certificateStatuses(snapshot, Date.now());
    this.setLogLevel(snapshot.config.gateway.log.level);
    const summary = summarizeChanges(changes);
    this.logger.info(
      {
        trigger,
        generation: snapshot.generation,
        changes: summary,
        warnings: build.warnings.map(formatDiagnostic),
      },
      'reload accepted',
    );
    for (const swap of changes.certificateSwaps) {
      this.logger.info(
        { name: swap.name, source: swap.source, oldSerial: swap.oldSerial, newSerial: swap.newSerial },
        'certificate swapped',
      );
    }
    this.metrics?.reloadResult(true);
    this.metrics?.generation(snapshot.generation);
    this.metrics?.certificates(this.currentCertificates);
    this.metrics?.retainBackends(
      snapshot.config.routes.flatMap((r) => r.backends.map((b) => ({ route: r.name, backend: b.endpoint }))),
    );
    this.health?.apply(snapshot.config, snapshot.upstreamTls);
    this.publishBackendUp(snapshot.config);
    this.applyAdminToken(snapshot.config.gateway.admin.token);
    this.applyAcme();
    if (previous.config.gateway.tls.sessionTicketRotationMs !== snapshot.config.gateway.tls.sessionTicketRotationMs) {
      this.scheduleTicketRotation();
    }
    this.lastReload = { at: new Date().toISOString(), accepted: true, message: summary };
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
   * A reload can change the token but not the admin address, which stays bound until the process
   * restarts. A bound address that other machines can reach therefore keeps its token even when the
   * new file drops it (the file was validated against its own, new address).
   */
  private applyAdminToken(token: string | null): void {
    const bound = this.options.initial.snapshot.config.gateway.admin.address;
    if (token === null && bound !== null && !isLoopbackAddress(bound) && this.adminToken !== null) {
      this.logger.warn(
        { address: bound.raw },
        'gateway.admin.token kept: the admin listener is still bound to an address other machines can reach; restart the gateway to apply',
      );
      return;
    }
    this.adminToken = token;
    this.admin?.setToken(token);
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
    const generation = this.current.generation;
    const files = [...new Set(errors.map((e) => e.file).filter((f) => f))];
    if (verdict.first) {
      this.logger.info(
        { generation, files, graceMs: verdict.remainingMs, mismatched: errors.map(formatDiagnostic) },
        'waiting for the matching key',
      );
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

  private rejectReload(
    trigger: string,
    errors: ConfigDiagnostic[],
    warnings: ConfigDiagnostic[],
    workerReason: string | null,
  ): ReloadOutcome {
    const generation = this.current.generation;
    const reasons = errors.map(formatDiagnostic);
    if (workerReason) reasons.push(workerReason);
    const files = [...new Set(errors.map((e) => e.file).filter((f) => f))];
    this.logger.error({ trigger, generation, files, errors: reasons }, 'reload rejected');
    this.metrics?.reloadResult(false);
    const message = reasons.join('; ');
    this.lastReload = { at: new Date().toISOString(), accepted: false, message };
    return rejected(generation, errors, warnings, message);
  }

  restart(): Promise<void> {
    if (this.state !== 'running') return Promise.reject(new ShuttingDownError('restart'));
    if (this.restarting) return this.restarting;
    this.restarting = this.runRestart().finally(() => {
      this.restarting = null;
    });
    return this.restarting;
  }

  private async runRestart(): Promise<void> {
    const started = Date.now();
    this.logger.info({ workers: this.pool.size, tcpMigrateReq: readTcpMigrateReq() }, 'rolling restart started');
    try {
      const replaced = await this.pool.rollingRestart(this.current.config.gateway.timeouts.drainMs, (fresh) => {
        this.logger.info({ worker: fresh.id, pid: fresh.pid, slot: fresh.slot }, 'worker replaced');
      });
      this.logger.info({ replaced, durationMs: Date.now() - started }, 'rolling restart finished');
    } catch (error) {
      this.logger.error({ err: error }, `rolling restart stopped: ${errorMessage(error)}`);
      throw error;
    }
  }

  async status(): Promise<StatusReport> {
    return this.report(await this.collectStats(2_000));
  }

  /** The /status document from one round of worker answers; rates come from the status ticks. */
  private report(samples: WorkerAnswer[]): StatusReport {
    const config = this.current.config;
    const clientAuth = effectiveClientAuth(config);
    const modes = new Map(clientAuth.routes.map((r) => [r.name, r.mode]));
    const configured = new Map(config.routes.map((r) => [r.name, r]));
    const now = Date.now();
    return {
      at: new Date(now).toISOString(),
      version: this.options.version,
      pid: process.pid,
      uptimeSeconds: Math.round((now - this.startedAt) / 1000),
      generation: this.current.generation,
      configFile: this.options.configFile,
      lastReload: this.lastReload,
      workers: samples.map(({ id, stats }) => workerStatus(id, stats, this.traffic)),
      routes: this.routeHealth().map((route): RouteReport => {
        const own = configured.get(route.name);
        return {
          ...route,
          clientAuth: modes.get(route.name) ?? clientAuth.gatewayMode,
          middlewares: own?.middlewares ?? [],
          traffic: this.traffic.route(route.name),
        };
      }),
      certificates: refreshDaysLeft(this.currentCertificates, now).map((cert) => {
        // A failing renewal is retried sooner than the planned date: show when.
        const next = cert.provider ? this.acme?.nextAttempt(cert.provider, cert.names[0] ?? '') : null;
        return next ? { ...cert, nextRenewal: new Date(next).toISOString() } : cert;
      }),
      history: this.traffic.history(),
      ...(this.current.config.gateway.redis === null
        ? {}
        : { rateLimitStore: this.rateLimitStoreStatus() as RateLimitStoreStatus }),
    };
  }

  /**
   * Once a second: one round of worker stats feeds the traffic windows (so five minutes of history
   * exist whenever someone opens the page) and, while anyone watches, one document for every viewer.
   */
  private scheduleStatusTick(): void {
    this.statusTimer = setTimeout(() => void this.statusTick(), STATUS_TICK_MS);
    this.statusTimer.unref();
  }

  private async statusTick(): Promise<void> {
    if (this.state !== 'running') return;
    try {
      const samples = await this.collectStats(STATUS_TICK_MS - 100);
      this.traffic.record(
        Date.now(),
        samples.map((s) => s.stats),
      );
      if (this.feed.viewerCount > 0) this.feed.publish(this.report(samples));
    } catch (error) {
      this.logger.warn({ err: error }, 'status tick failed');
    } finally {
      if (this.state === 'running') this.scheduleStatusTick();
    }
  }

  private collectStats(timeoutMs: number): Promise<WorkerAnswer[]> {
    const workers = this.pool.alive().filter((w) => !w.retiring);
    return Promise.all(
      workers.map(
        (worker) =>
          new Promise<WorkerAnswer | null>((resolve) => {
            const id = ++this.statsId;
            const done = (value: WorkerAnswer | null) => {
              clearTimeout(timer);
              off();
              offExit();
              resolve(value);
            };
            const timer = setTimeout(() => done(null), timeoutMs);
            const off = worker.onMessage((message) => {
              if (message.type === 'gh:stats' && message.id === id) done({ id: worker.id, stats: message });
            });
            const offExit = worker.onExit(() => done(null));
            if (!worker.trySend({ type: 'gh:stats-request', id })) done(null);
          }),
      ),
    ).then((list) => list.filter((s): s is WorkerAnswer => s !== null));
  }

  readiness(): Readiness {
    if (this.state !== 'running') return { ready: false, reason: this.state };
    const serving = this.pool.serving();
    if (serving.length < this.pool.size) {
      return { ready: false, reason: `${serving.length} of ${this.pool.size} workers serving` };
    }
    const behind = serving.filter((w) => w.generation !== this.current.generation);
    if (behind.length > 0) {
      return {
        ready: false,
        reason: `worker ${behind.map((w) => w.id).join(', ')} not on generation ${this.current.generation}`,
      };
    }
    const unbound = serving.filter((w) => !w.listening);
    if (unbound.length > 0)
      return { ready: false, reason: `worker ${unbound.map((w) => w.id).join(', ')} not listening` };
    return { ready: true, reason: `generation ${this.current.generation} on ${serving.length} workers` };
  }

  routeHealth(): RouteStatus[] {
    if (this.health) {
      return this.health.details().map((r) => ({
        name: r.name,
        path: r.path,
        hosts: r.hosts,
        backends: r.backends.map(({ recentTransitions, ...backend }) => ({
          ...backend,
          lastTransitionAt: recentTransitions[recentTransitions.length - 1]?.at ?? null,
        })),
      }));
    }
    return this.current.config.routes.map((route) => ({
      name: route.name,
      path: route.path,
      hosts: route.hosts,
      backends: route.backends.map((backend): BackendStatus => {
        const state = this.current.health[backendKey(route.name, backend.endpoint)];
        return {
          endpoint: backend.endpoint,
          weight: backend.weight,
          up: state?.up ?? true,
          ejectedUntil: state?.ejectedUntil ?? 0,
          lastProbe: null,
          transitions: 0,
          lastTransitionAt: null,
        };
      }),
    }));
  }

  // ---- drain ----

  /** Drains every worker (SIGTERM/SIGINT) and resolves `stopped` with 0. A second call joins the first. */
  drain(reason: string): Promise<number> {
    if (this.draining) return this.draining;
    this.draining = this.runDrain(reason);
    return this.draining;
  }

  private async runDrain(reason: string): Promise<number> {
    this.state = 'draining';
    this.pushReadiness();
    const deadlineMs = this.current.config.gateway.timeouts.drainMs;
    this.logger.info({ reason, deadlineMs, workers: this.pool.alive().length }, 'draining');
    this.stopBackground();
    await this.pool.drainAll(deadlineMs);
    await this.admin?.close().catch((error: unknown) => this.logger.warn({ err: error }, 'admin close failed'));
    await this.removePidFile();
    this.state = 'stopped';
    this.logger.info({ reason }, 'gateway stopped');
    this.resolveStopped(0);
    return 0;
  }

  private stopBackground(): void {
    if (this.ticketTimer) clearInterval(this.ticketTimer);
    this.ticketTimer = null;
    this.clearPairGraceTimer();
    if (this.statusTimer) clearTimeout(this.statusTimer);
    this.statusTimer = null;
    this.feed.close();
    void this.watcher?.close().catch(() => {});
    this.watcher = null;
    void this.health?.close().catch((error: unknown) => this.logger.warn({ err: error }, 'health close failed'));
    this.health = null;
    this.expiry?.stop();
    this.expiry = null;
    this.acme?.stop();
    this.acme = null;
    if (this.rateLimitSweep !== null) clearInterval(this.rateLimitSweep);
    this.rateLimitSweep = null;
  }

  // ---- ACME ----

  /** Starts the ACME manager when the config asks for certificates, and gives it the current names. */
  private applyAcme(): void {
    const providers = this.current.config.certManager?.providers ?? [];
    // With Redis, an instance without names of its own still answers the others' challenges.
    const wanted =
      providers.some((p) => p.names.length > 0) || (providers.length > 0 && this.current.config.gateway.redis !== null);
    if (!wanted && this.acme === null) return;
    if (this.acme === null) {
      const logger = this.componentLogger('acme');
      this.acme = new AcmeManager({
        logger,
        publishChallenges: (set) => this.publishChallenges(set),
        install: async () => (await this.reload('acme')).accepted,
        orderResult: (provider, result) => this.metrics?.acmeOrder(provider, result),
        failures: (provider, name, count) => this.metrics?.acmeFailures(provider, name, count),
      });
    }
    this.acme.apply(this.current.config, this.current.tls.certificates, this.current.redisTls);
  }

  /**
   * Sends the whole challenge set to every worker that serves and waits until each has acknowledged
   * it. A worker that exits meanwhile is not waited for; one that stays silent fails the order.
   */
  private publishChallenges(set: ChallengeSet): Promise<void> {
    const id = ++this.challengeId;
    const workers = this.pool.alive().filter((w) => w.generation > 0);
    return Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            const done = (error: Error | null) => {
              clearTimeout(timer);
              off();
              offExit();
              if (error) reject(error);
              else resolve();
            };
            const timer = setTimeout(
              () => done(new Error(`worker ${worker.id} did not acknowledge the ACME challenges`)),
              CHALLENGE_ACK_TIMEOUT_MS,
            );
            const off = worker.onMessage((message) => {
              if (message.type === 'gh:acme-ack' && message.id === id) done(null);
            });
            const offExit = worker.onExit(() => done(null));
            if (!worker.trySend({ type: 'gh:acme-challenges', id, ...set })) done(null);
          }),
      ),
    ).then(() => {});
  }

  private async removePidFile(): Promise<void> {
    if (!this.pidFile) return;
    await unlink(this.pidFile).catch(() => {});
    this.pidFile = null;
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

function listenerNames(entryPoints: GatewayConfig['gateway']['entryPoints']): string[] {
  return [entryPoints.web?.raw, entryPoints.webSecure?.raw].filter((a): a is string => typeof a === 'string');
}

/** One worker's gh:stats answer, with its cluster id. */
interface WorkerAnswer {
  id: number;
  stats: StatsMessage;
}

function workerStatus(id: number, stats: StatsMessage, traffic: TrafficStats): WorkerStatus {
  const live = traffic.worker(stats.pid);
  return {
    id,
    pid: stats.pid,
    generation: stats.generation,
    uptimeSeconds: stats.uptimeSeconds,
    requests: stats.requests,
    activeConnections: stats.activeConnections,
    eventLoopLagMs: stats.eventLoopLagMs,
    eventLoopUtilization: stats.eventLoopUtilization,
    rssBytes: stats.rssBytes,
    heapUsedBytes: stats.heapUsedBytes,
    requestsPerSecond: live?.requestsPerSecond ?? null,
  };
}

/** `net.ipv4.tcp_migrate_req` (Linux ≥ 5.14) lets the kernel move queued connections off a closing listener. */
export function readTcpMigrateReq(): string | null {
  try {
    return readFileSync(TCP_MIGRATE_REQ, 'utf8').trim();
  } catch {
    return null;
  }
}
