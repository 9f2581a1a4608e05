// The primary's side of ACME: the manager started when the config asks for certificates, and the
// challenge sets it publishes, sent to every serving worker and acknowledged by each before the
// CA is told to validate. The manager's module is imported only then: with acme-client and ioredis
// it was 13 MiB of the primary's idle RSS (108 -> 95 MiB) in an instance that orders nothing.
import type { Snapshot } from '@gatehouse/dataplane';
import type { Logger } from 'pino';
import type { AcmeManager, ChallengeSet } from './acme/manager.ts';
import type { ReloadTrigger } from './gateway-api.ts';
import type { PrimaryMetrics } from './metrics.ts';
import type { ManagedWorker } from './workers.ts';

/** How long every worker gets to acknowledge a new set of ACME challenges. */
const CHALLENGE_ACK_TIMEOUT_MS = 10_000;

export interface AcmeWiringOptions {
  /** Made only when ACME is first needed, so that an instance without it logs nothing of it. */
  logger(): Logger;
  metrics(): PrimaryMetrics | null;
  /** The workers that serve a generation: they answer the CA's HTTP-01 and TLS-ALPN-01 requests. */
  workers(): ManagedWorker[];
  /** An issued certificate is installed by a reload; true when it was accepted. */
  reload(trigger: ReloadTrigger): Promise<{ accepted: boolean }>;
  /** Imports the manager's module; default the module beside this one. */
  loadManager?: () => Promise<{ AcmeManager: typeof AcmeManager }>;
}

export class AcmeWiring {
  private readonly options: AcmeWiringOptions;
  private manager: AcmeManager | null = null;
  /** The snapshot the manager gets once its module has loaded; null when none is waiting. */
  private pending: Snapshot | null = null;
  private loading = false;
  private stopped = false;
  private challengeId = 0;

  constructor(options: AcmeWiringOptions) {
    this.options = options;
  }

  /**
   * Starts the ACME manager when the config asks for certificates, and gives it the current names.
   * The first time, the manager's module loads first; a snapshot applied meanwhile replaces the
   * waiting one, so the manager starts from the latest.
   */
  apply(snapshot: Snapshot): void {
    if (this.stopped) return;
    if (this.manager !== null) {
      this.manager.apply(snapshot.config, snapshot.tls.certificates, snapshot.redisTls);
      return;
    }
    const providers = snapshot.config.certManager?.providers ?? [];
    // With Redis, an instance without names of its own still answers the others' challenges.
    const wanted =
      providers.some((p) => p.names.length > 0) || (providers.length > 0 && snapshot.config.gateway.redis !== null);
    if (!wanted && !this.loading) return;
    this.pending = snapshot;
    if (this.loading) return;
    this.loading = true;
    const load = this.options.loadManager ?? (() => import('./acme/manager.ts'));
    load().then(
      ({ AcmeManager }) => this.start(AcmeManager),
      (error: unknown) => this.loadFailed(error),
    );
  }

  /**
   * No manager, so no order: counted as a failed order of each provider that names certificates,
   * which is what an alert on ACME failures watches. The next apply (a reload) tries again.
   */
  private loadFailed(error: unknown): void {
    const snapshot = this.pending;
    this.pending = null;
    this.loading = false;
    this.options.logger().error({ err: error }, 'the ACME manager could not be loaded; no certificate is ordered');
    const metrics = this.options.metrics();
    for (const provider of snapshot?.config.certManager?.providers ?? []) {
      if (provider.names.length > 0) metrics?.acmeOrder(provider.name, 'failure');
    }
  }

  private start(Manager: typeof AcmeManager): void {
    const snapshot = this.pending;
    this.pending = null;
    this.loading = false;
    if (this.stopped || snapshot === null) return;
    const { metrics } = this.options;
    this.manager = new Manager({
      logger: this.options.logger(),
      publishChallenges: (set) => this.publish(set),
      install: async () => (await this.options.reload('acme')).accepted,
      orderResult: (provider, result) => metrics()?.acmeOrder(provider, result),
      failures: (provider, name, count) => metrics()?.acmeFailures(provider, name, count),
    });
    this.manager.apply(snapshot.config, snapshot.tls.certificates, snapshot.redisTls);
  }

  /** A worker that joins gets the challenges under way before it listens, to answer them like the others. */
  onboard(worker: ManagedWorker): void {
    if (this.manager) worker.trySend({ type: 'gh:acme-challenges', id: 0, ...this.manager.challenges() });
  }

  nextAttempt(provider: string, name: string): number | null {
    return this.manager?.nextAttempt(provider, name) ?? null;
  }

  stop(): void {
    this.stopped = true;
    this.pending = null;
    this.manager?.stop();
    this.manager = null;
  }

  /**
   * Sends the whole challenge set to every worker that serves and waits until each has acknowledged
   * it. A worker that exits meanwhile is not waited for; one that stays silent fails the order.
   */
  private publish(set: ChallengeSet): Promise<void> {
    const id = ++this.challengeId;
    return Promise.all(
      this.options.workers().map(
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
}
