// One data-plane worker: the IPC protocol with the primary (messages.ts) around the live objects.
//   gh:prepare → build a Generation → gh:ready | gh:failed{reason}
//   gh:commit  → `forwarder.generation = prepared` (one assignment); the first commit binds the
//                listeners → gh:listening | gh:bind-failed + exit 1
//   gh:abort   → drop the prepared generation
//   gh:acme-challenges → gh:acme-ack once they are answered
//   gh:health, gh:ticket-keys, gh:stats-request, gh:drain → gh:drained + exit 0
// worker-main.ts wires it to the process (IPC channel, signals).
import { createRequire } from 'node:module';
import { applyChallenges } from './edge/acme-challenges.ts';
import { loadStepFactories } from './middleware/compile.ts';
import { setMiddlewareLogger } from './middleware/events.ts';
import { type AccessRecord, createLogger, flushLogs, type Logger, type LogFormat } from './access-log.ts';
import { drainWorker } from './drain.ts';
import { ListenerBindError } from './errors.ts';
import { Forwarder } from './request/forwarder.ts';
import { MonitoringResponder } from './request/monitoring-responder.ts';
import { Generation, HealthTable } from './generation.ts';
import { Listeners } from './edge/listeners.ts';
import { PassThrough } from './passthrough/pass-through.ts';
import { backendKey, type PrimaryToWorker, type Snapshot, type WorkerToPrimary } from './messages.ts';
import { collectProcessMetrics, metrics, statsReply } from './metrics.ts';
import { LeaseTable } from './middleware/rate-limit/lease-table.ts';
import { storeState } from './middleware/rate-limit/metrics.ts';
import { RedisStores } from './middleware/rate-limit/redis-stores.ts';
import type { MiddlewareServices } from './middleware/shaping/shaping-steps.ts';
import { UpstreamPool } from './upstream/pool.ts';
import { sessionTickets } from './tls/session-tickets.ts';
import { settleTicketHook } from './tls/ticket-hook.ts';

export type { AccessRecord };

/** How the runtime answers the primary (over the cluster IPC channel). */
export type Send = (message: WorkerToPrimary) => void;

/** What left an error that nothing else caught: its `kind` in the log line and the metric. */
export type StrayErrorKind = 'uncaught_exception' | 'unhandled_rejection' | 'message_handler';

/** For `{gateway.version}` in responseHeaders (the dataplane is released with the gateway). */
const GATEWAY_VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

export class WorkerRuntime {
  private readonly send: Send;
  private readonly exit: (code: number) => void;
  private readonly pool = new UpstreamPool();
  private readonly health = new HealthTable();
  /** This worker's leases of the per-instance rate-limit buckets (the primary owns the buckets). */
  readonly leases: LeaseTable;
  /** One Redis connection per worker per `gateway.redis` (and its TLS material). */
  private readonly redisStores = new RedisStores((addr) => (ok, error) => {
    storeState(addr, ok);
    this.send({ type: 'gh:rl-store', addr, ok, error });
  });
  private readonly listeners = new Listeners();
  /** TCP/UDP forwards: bound on prepare (new ones only), swapped on commit. */
  private readonly passThrough = new PassThrough();
  private readonly startedAt = Date.now();
  private current: Generation | null = null;
  private prepared: Generation | null = null;
  private forwarder: Forwarder | null = null;
  private logger: Logger | null = null;
  private logFormat: LogFormat | null = null;
  private draining = false;
  private bound = false;
  private pendingTicketKeys: Buffer | null = null;
  private readonly monitoring: MonitoringResponder;

  constructor(send: Send, exit: (code: number) => void) {
    this.send = send;
    this.exit = exit;
    this.leases = new LeaseTable((message) => this.send(message));
    this.monitoring = new MonitoringResponder((message) => this.send(message));
  }

  /** Handles one message from the primary; foreign messages (prom-client's) are ignored. */
  async onMessage(message: unknown): Promise<void> {
    const m = message as PrimaryToWorker | null;
    if (m === null || typeof m !== 'object' || typeof m.type !== 'string' || !m.type.startsWith('gh:')) return;
    switch (m.type) {
      case 'gh:prepare':
        return this.prepare(m.snapshot);
      case 'gh:commit':
        return this.commit(m.generation);
      case 'gh:abort':
        return this.abort(m.generation);
      case 'gh:health':
        this.health.apply(backendKey(m.route, m.endpoint), m.health);
        return;
      case 'gh:ticket-keys':
        return this.ticketKeys(Buffer.from(m.keys, 'base64'));
      case 'gh:drain':
        return this.drain(m.deadlineMs);
      case 'gh:stats-request':
        this.send(statsReply(m.id, this.current?.number ?? 0, this.startedAt, this.listeners.activeConnections()));
        return;
      case 'gh:rl-answer':
        this.leases.answer(m.items);
        return;
      case 'gh:acme-challenges':
        try {
          applyChallenges(m);
          this.send({ type: 'gh:acme-ack', id: m.id });
        } catch (error) {
          // No ack: the primary does not ask the ACME server to validate what this worker cannot answer.
          this.logger?.error({ err: error }, 'ACME challenge set rejected');
        }
        return;
      case 'gh:readiness':
        this.monitoring.setReadiness(m);
        return;
      case 'gh:metrics':
        this.monitoring.onMetrics(m);
        return;
    }
  }

  private async prepare(snapshot: Snapshot): Promise<void> {
    if (this.prepared !== null && this.prepared.number !== snapshot.generation) {
      this.pool.releaseGeneration(this.prepared.number);
      if (this.logger !== null) this.passThrough.abort(this.prepared.number, this.logger);
      this.prepared.close();
      this.prepared = null;
    }
    try {
      await this.ensureLogger(snapshot);
      await loadStepFactories(snapshot.config.middlewares ?? []);
      const generation = Generation.build(snapshot, this.pool, this.health, await this.services(snapshot));
      try {
        await this.passThrough.prepare(snapshot.generation, snapshot.config, this.logger as Logger);
      } catch (error) {
        this.pool.releaseGeneration(generation.number);
        throw error;
      }
      this.prepared = generation;
      this.send({ type: 'gh:ready', generation: snapshot.generation });
    } catch (error) {
      this.releaseRedisStores();
      const reason = (error as Error).message ?? String(error);
      this.logger?.error({ generation: snapshot.generation, err: error }, 'generation build failed');
      this.send({ type: 'gh:failed', generation: snapshot.generation, reason });
    }
  }

  private async services(snapshot: Snapshot): Promise<MiddlewareServices> {
    return { leases: this.leases, redis: await this.redisStores.use(snapshot), gatewayVersion: GATEWAY_VERSION };
  }

  /** Closes the Redis connections that neither the current nor the prepared generation uses. */
  private releaseRedisStores(): void {
    this.redisStores.keepOnly([this.current?.number, this.prepared?.number]);
  }

  private async ensureLogger(snapshot: Snapshot): Promise<void> {
    const log = snapshot.config.gateway.log;
    if (this.logger !== null && this.logFormat !== null) {
      if (this.logger.level !== log.level) this.logger.level = log.level;
      const { effectiveFormat } = await import('./access-log.ts');
      if (effectiveFormat(log.format) === this.logFormat) return;
    }
    const { logger, format } = await createLogger(log);
    this.logger = logger;
    this.logFormat = format;
    setMiddlewareLogger(logger);
    if (this.forwarder !== null) this.forwarder.logger = logger;
  }

  private async commit(generation: number): Promise<void> {
    const next = this.prepared;
    if (next === null || next.number !== generation) {
      this.logger?.warn({ generation, prepared: next?.number ?? null }, 'commit for a generation that is not prepared');
      return;
    }
    this.prepared = null;
    const previous = this.current;
    this.current = next;
    const logger = this.logger as Logger;
    if (this.forwarder === null) {
      this.forwarder = new Forwarder(next, {
        logger,
        sendPassive: (message) => this.send(message),
        monitoring: this.monitoring,
      });
    } else {
      this.forwarder.generation = next;
      this.forwarder.accessLog = next.config.gateway.log.accessLog;
    }
    if (previous !== null) {
      this.pool.releaseGeneration(previous.number);
      previous.close();
      this.releaseRedisStores();
    }
    this.passThrough.commit(generation, logger);
    if (this.bound) {
      this.ticketHookSettled(this.listeners.commit(next));
      logger.info({ generation }, 'generation committed');
      return;
    }
    this.bound = true;
    collectProcessMetrics();
    try {
      const addresses = await this.listeners.bind(next, this.forwarder);
      // A newer generation may have been committed while the sockets were binding.
      const current = this.current as Generation;
      if (current !== next) this.ticketHookSettled(this.listeners.commit(current));
      if (this.pendingTicketKeys !== null) {
        this.ticketHookSettled(this.listeners.rotateTicketKeys(current, this.pendingTicketKeys));
      }
      logger.info({ generation, addresses }, 'worker listening');
      this.send({ type: 'gh:listening', generation, addresses });
    } catch (error) {
      const address = error instanceof ListenerBindError ? error.address : '';
      const reason = error instanceof ListenerBindError ? error.reason : ((error as Error).message ?? String(error));
      logger.error({ address, reason }, 'listener bind failed');
      this.send({ type: 'gh:bind-failed', address, reason });
      flushLogs();
      this.exit(1);
    }
  }

  private abort(generation: number): void {
    if (this.prepared === null || this.prepared.number !== generation) return;
    // Agents this generation shares with the current one stay; only its own are drained.
    this.pool.releaseGeneration(generation);
    if (this.logger !== null) this.passThrough.abort(generation, this.logger);
    this.prepared.close();
    this.prepared = null;
    this.releaseRedisStores();
  }

  private ticketKeys(keys: Buffer): void {
    try {
      sessionTickets.update(keys);
    } catch (error) {
      this.logger?.error({ err: error }, 'session-ticket keys from the primary rejected; keeping the current ones');
      return;
    }
    this.pendingTicketKeys = keys;
    // A prepared generation was built with the keys of its snapshot: give it the newer ones too,
    // so that its commit does not bring the old key back.
    const prepared = this.prepared?.sni;
    if (prepared != null) {
      prepared.setTicketKeys(keys);
      this.ticketHookSettled(settleTicketHook(null, prepared));
    }
    if (this.bound) this.ticketHookSettled(this.listeners.rotateTicketKeys(this.current, keys));
  }

  /** The ticket-key hook could not be dropped (ticket-hook.ts): tickets still work, at its cost. */
  private ticketHookSettled(error: Error | null): void {
    if (error === null) return;
    this.logger?.error(
      { err: error },
      'TLS contexts without the session-ticket key hook could not be built; keeping it',
    );
  }

  private async drain(deadlineMs: number): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    let left = 0;
    if (this.forwarder !== null && this.bound) {
      left = await drainWorker(this.listeners, this.forwarder, this.pool, deadlineMs, this.passThrough);
    }
    this.logger?.info({ cutRequests: left }, 'worker drained');
    this.send({ type: 'gh:drained' });
    flushLogs();
    this.exit(0);
  }

  /** The configured drain deadline (30 s before any generation). */
  drainDeadlineMs(): number {
    return this.current?.timeouts.drainMs ?? 30_000;
  }

  /**
   * An error nothing else caught: one error line (on stderr until the first snapshot brings the log
   * configuration) and one count in gatehouse_worker_stray_errors_total; the worker goes on.
   */
  reportStrayError(kind: StrayErrorKind, error: unknown): void {
    metrics.strayErrors.inc({ kind });
    if (this.logger !== null) {
      this.logger.error({ err: error, kind }, 'error not caught by any handler');
      return;
    }
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.stderr.write(`gatehouse worker ${process.pid}: ${kind}: ${text}\n`);
  }
}
