// The primary (control plane): it owns the worker processes and the rooms that run beside them, and
// answers the operator surfaces through GatewayApi. It never handles a request. Each job is a room
// of its own: the reload (reload.ts), session-ticket rotation (ticket-rotation.ts), backend health
// (health-wiring.ts), rate limiting (rate-limit-wiring.ts), ACME (acme-wiring.ts), the admin
// listener (admin-wiring.ts), /status (status-report.ts) and what workers ask (worker-messages.ts).
// This file starts them, wires them to the workers (workers.ts) and stops them.
import cluster from 'node:cluster';
import { type Snapshot, workerEntryPath } from '@gatehouse/dataplane';
import type { Logger } from 'pino';
import { AcmeWiring } from './acme-wiring.ts';
import { AdminWiring } from './admin-wiring.ts';
import { ShuttingDownError } from './errors.ts';
import { startExpiryWarnings } from './expiry.ts';
import type { GatewayApi, Readiness, ReloadOutcome, ReloadTrigger, RouteStatus, StatusReport } from './gateway-api.ts';
import { HealthWiring, snapshotRouteHealth } from './health-wiring.ts';
import type { Candidate } from './snapshot.ts';
import { ensureListenerMigration } from './listener-migration.ts';
import { createPrimaryMetrics, type PrimaryMetrics, type TicketKeyChange } from './metrics.ts';
import { RateLimitWiring } from './rate-limit-wiring.ts';
import { readinessOf } from './readiness.ts';
import { rateLimitBuckets } from './rate-limit-ledger.ts';
import { Reloader } from './reload.ts';
import { onboard, restartWorkers } from './onboarding.ts';
import { SerialQueue } from './rollout.ts';
import { StatusReporter } from './status-report.ts';
import type { TicketKeyRing } from './ticket-keys.ts';
import { TicketRotation } from './ticket-rotation.ts';
import { WorkerMessages } from './worker-messages.ts';
import { type ManagedWorker, WorkerPool } from './workers.ts';

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

type State = 'created' | 'starting' | 'running' | 'draining' | 'stopped';

export class Primary implements GatewayApi {
  private readonly options: PrimaryOptions;
  private readonly logger: Logger;
  private readonly queue = new SerialQueue();
  private readonly pool: WorkerPool;
  private state: State = 'created';
  private readonly reloader: Reloader;
  private readonly tickets: TicketRotation;
  private readonly rateLimits: RateLimitWiring;
  private readonly acme: AcmeWiring;
  private readonly admin: AdminWiring;
  private readonly statusReporter: StatusReporter;
  private health: HealthWiring | null = null;
  private metrics: PrimaryMetrics | null = null;
  private expiry: { stop(): void } | null = null;
  private restarting: Promise<void> | null = null;
  private draining: Promise<number> | null = null;
  private readonly componentLoggers: Logger[] = [];
  private resolveStopped: (code: number) => void = () => {};
  /** Resolves with the exit code once the primary has drained and stopped. */
  readonly stopped: Promise<number>;

  constructor(options: PrimaryOptions) {
    this.options = options;
    this.logger = options.logger;
    this.stopped = new Promise((resolve) => {
      this.resolveStopped = resolve;
    });
    const config = options.initial.snapshot.config;
    const isRunning = () => this.state === 'running';
    this.rateLimits = new RateLimitWiring(this.logger, () => this.pool.size);
    this.rateLimits.ledger.define(rateLimitBuckets(config));
    this.tickets = new TicketRotation({
      ring: options.tickets,
      queue: this.queue,
      sessionTimeoutMs: config.gateway.tls.sessionTimeoutMs,
      isRunning,
      rotated: (wire) => this.ticketKeysChanged(wire, 'rotated', 'session ticket keys rotated'),
      retired: (wire) => this.ticketKeysChanged(wire, 'retired', 'previous session ticket key retired'),
    });
    this.reloader = new Reloader({
      configFile: options.configFile,
      env: options.env,
      logger: this.logger,
      initial: options.initial,
      queue: this.queue,
      rateLimits: this.rateLimits.ledger,
      rolloutTimeoutMs: options.rolloutTimeoutMs,
      blockedBy: () => this.reloadBlockedBy(),
      rolloutTargets: () => this.pool.rolloutTargets(),
      ticketKeys: () => this.tickets.wire,
      health: () => this.health?.health() ?? null,
      metrics: () => this.metrics,
      setLogLevel: (level) => this.setLogLevel(level),
      accepted: (previous, next) => this.applyGeneration(previous, next),
    });
    this.acme = new AcmeWiring({
      logger: () => this.componentLogger('acme'),
      metrics: () => this.metrics,
      workers: () => this.pool.alive().filter((w) => w.generation > 0),
      reload: (trigger) => this.reload(trigger),
    });
    this.admin = new AdminWiring(this.logger, config.gateway.admin);
    this.statusReporter = new StatusReporter({
      version: options.version,
      configFile: options.configFile,
      logger: this.logger,
      workers: () => this.pool.alive().filter((w) => !w.retiring),
      current: () => this.reloader.current,
      lastReload: () => this.reloader.lastReload,
      certificates: () => this.reloader.certificates,
      routes: () => this.routeHealth(),
      nextRenewal: (provider, name) => this.acme.nextAttempt(provider, name),
      rateLimitStore: () => this.rateLimits.storeStatus(this.reloader.current.config),
      isRunning,
    });
    const messages = new WorkerMessages({
      logger: this.logger,
      rateLimits: this.rateLimits,
      metrics: () => this.metrics,
      health: () => this.health,
      isRunning,
    });
    this.pool = new WorkerPool({
      size: options.workers,
      logger: this.logger,
      onboard: (worker) => this.onboard(worker),
      onMessage: (worker, message) => messages.handle(worker, message),
      onRespawned: () => this.metrics?.workerRestart(),
    });
  }

  /** True once a drain has begun (SIGTERM/SIGINT), also during start-up. */
  get isDraining(): boolean {
    return this.draining !== null;
  }

  get generation(): number {
    return this.reloader.current.generation;
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
    const metrics = createPrimaryMetrics();
    this.metrics = metrics;
    this.health = new HealthWiring({
      logger: this.componentLogger('health'),
      metrics,
      broadcast: (message) => this.pool.broadcast(message),
      current: () => this.reloader.current,
    });
    const workers = this.pool.forkAll();
    await onboard(workers, () => this.reloader.current, {
      queue: this.queue,
      logger: this.logger,
      timeoutMs: startTimeoutMs,
    });
    const current = this.reloader.current;
    const listening = await Promise.all(workers.map((w) => w.waitForListening(startTimeoutMs)));
    if (this.state !== 'starting') throw new ShuttingDownError('start');
    this.state = 'running';
    this.pushReadiness();
    // The admin endpoint, watcher and pid file exist before "gateway ready", so whoever waits for that
    // line can use all of them.
    await this.afterStart(current, metrics);
    const addresses = [...new Set(listening.flatMap((l) => l.addresses))];
    const pids = workers.map((w) => w.pid);
    this.logger.info({ generation: current.generation, workers: workers.length, addresses, pids }, 'gateway ready');
  }

  /** Start-up failed: kill whatever was forked, without draining (nothing was served). */
  async abortStart(): Promise<void> {
    this.state = 'stopped';
    this.stopBackground();
    await this.pool.killAll();
    await this.admin.close();
  }

  private async afterStart(current: Snapshot, metrics: PrimaryMetrics): Promise<void> {
    const gateway = current.config.gateway;
    metrics.generation(current.generation);
    metrics.certificates(this.reloader.certificates);
    this.health?.apply(current);
    this.reloader.watch(this.componentLogger('watcher'));
    this.tickets.schedule(gateway.tls.sessionTicketRotationMs);
    this.statusReporter.startTicks();
    this.expiry = startExpiryWarnings({
      logger: this.logger,
      getCertificates: () => this.reloader.certificates,
      days: gateway.tls.expiryWarningDays,
    });
    this.acme.apply(current);
    const logger = this.componentLogger('admin');
    await this.admin.start({ api: this, feed: this.statusReporter.feed, metrics, logger });
  }

  /** A reload committed `next`: everything that follows the served generation follows it. */
  private applyGeneration(previous: Snapshot, next: Snapshot): void {
    this.metrics?.generation(next.generation);
    this.metrics?.certificates(this.reloader.certificates);
    this.metrics?.retainBackends(
      next.config.routes.flatMap((r) => r.backends.map((b) => ({ route: r.name, backend: b.endpoint }))),
    );
    this.health?.apply(next);
    this.admin.setToken(next.config.gateway.admin.token);
    this.acme.apply(next);
    const every = next.config.gateway.tls.sessionTicketRotationMs;
    if (previous.config.gateway.tls.sessionTicketRotationMs !== every) this.tickets.schedule(every);
    this.tickets.sessionTimeout(next.config.gateway.tls.sessionTimeoutMs);
  }

  private ticketKeysChanged(wire: string, change: TicketKeyChange, event: string): void {
    this.reloader.setTicketKeys(wire);
    this.pool.broadcast({ type: 'gh:ticket-keys', keys: wire });
    this.logger.info({ generation: this.generation }, event);
    this.metrics?.ticketKeyChange(change);
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

  /** A new worker (respawned or rolled in) gets the current generation before it binds. */
  private async onboard(worker: ManagedWorker): Promise<void> {
    const timeoutMs = this.options.startTimeoutMs ?? 30_000;
    const current = () => this.reloader.current;
    // With the health the checks know now, not the health the generation was built with.
    const snapshot = () => (this.health ? { ...current(), health: this.health.health() } : current());
    await onboard([worker], snapshot, {
      queue: this.queue,
      logger: this.logger,
      timeoutMs,
      // Before it listens, so that it answers a validation already under way like the others.
      committed: () => this.acme.onboard(worker),
    });
    await worker.waitForListening(timeoutMs);
    this.pushReadiness();
  }

  /** Workers answer /readyz on the traffic listeners from this, so a probe costs no IPC. */
  private pushReadiness(): void {
    const { ready, reason } = this.readiness();
    this.pool.broadcast({ type: 'gh:readiness', ready, reason });
  }

  // ---- GatewayApi ----

  reload(trigger: ReloadTrigger): Promise<ReloadOutcome> {
    return this.reloader.reload(trigger);
  }

  private reloadBlockedBy(): string | null {
    if (this.state === 'running') return null;
    if (this.state === 'starting' || this.state === 'created') return 'the gateway is still starting';
    return new ShuttingDownError('reload').message;
  }

  restart(): Promise<void> {
    if (this.state !== 'running') return Promise.reject(new ShuttingDownError('restart'));
    this.restarting ??= restartWorkers(this.pool, this.reloader.current, this.logger).finally(() => {
      this.restarting = null;
    });
    return this.restarting;
  }

  status(): Promise<StatusReport> {
    return this.statusReporter.status();
  }

  readiness(): Readiness {
    return readinessOf(this.state, this.pool.serving(), this.pool.size, this.generation);
  }

  routeHealth(): RouteStatus[] {
    return this.health?.routes() ?? snapshotRouteHealth(this.reloader.current);
  }

  // ---- drain ----

  /** Drains every worker (SIGTERM/SIGINT) and resolves `stopped` with 0. A second call joins the first. */
  drain(reason: string): Promise<number> {
    this.draining ??= this.runDrain(reason);
    return this.draining;
  }

  private async runDrain(reason: string): Promise<number> {
    this.state = 'draining';
    this.pushReadiness();
    const deadlineMs = this.reloader.current.config.gateway.timeouts.drainMs;
    this.logger.info({ reason, deadlineMs, workers: this.pool.alive().length }, 'draining');
    this.stopBackground();
    await this.pool.drainAll(deadlineMs);
    await this.admin.close();
    this.state = 'stopped';
    this.logger.info({ reason }, 'gateway stopped');
    this.resolveStopped(0);
    return 0;
  }

  private stopBackground(): void {
    this.tickets.stop();
    this.reloader.stop();
    this.statusReporter.stop();
    void this.health?.close().catch((error: unknown) => this.logger.warn({ err: error }, 'health close failed'));
    this.health = null;
    this.expiry?.stop();
    this.expiry = null;
    this.acme.stop();
    this.rateLimits.stop();
  }
}
