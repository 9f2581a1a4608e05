// The primary's one ACME client per provider: it orders a certificate for every name that has none,
// renews each one on time, and hands the result to the primary, which rolls it out to the workers
// with the two-phase rollout of any certificate change. Workers never talk to the ACME server: they
// get the pending challenges (HTTP-01 tokens, TLS-ALPN-01 certificates) pushed, and the manager
// tells the ACME server to validate only after every worker has acknowledged them.
//
// Each name is ordered on its own, at most one order per provider at a time, in the background: a
// name that waits (for its first certificate, or after a failure) never holds up start-up or any
// other name, and serves the default certificate (or its current one) meanwhile.
import { X509Certificate } from 'node:crypto';
import type { AcmeProviderConfig, GatewayConfig } from '@gatehouse/config';
import type { AcmeChallengesMessage, ResolvedRedisTls, ResolvedServerCertificate } from '@gatehouse/dataplane';
import { resolveMaterial } from '@gatehouse/pki';
import * as acme from 'acme-client';
import type { Logger } from 'pino';
import { failureDetail, takeRetryAfter, trustFor } from './acme-http.ts';
import { renewalTime, retryDelayMs } from './renewal.ts';
import { connectionKey, type RedisConnection, type RemoteChallenges, SharedAcmeStore } from './shared-store.ts';
import { loadOrCreateAccountKey, storeCertificate } from './storage.ts';

export type ChallengeSet = Omit<AcmeChallengesMessage, 'type' | 'id'>;

/** While another instance holds a name's order lock, look again after this long. */
const LOCKED_RETRY_MS = 3_000;

export interface AcmeHost {
  logger: Logger;
  /** Makes `set` the challenges every worker answers; resolves once each has acknowledged it. */
  publishChallenges(set: ChallengeSet): Promise<void>;
  /** Rolls stored certificates out (a reload); resolves true when the new generation serves. */
  install(): Promise<boolean>;
  orderResult(provider: string, result: 'success' | 'failure'): void;
  /** Consecutive failed orders of a name (0 after a success): what an alert watches. */
  failures(provider: string, name: string, count: number): void;
}

interface NameState {
  provider: string;
  name: string;
  timer: NodeJS.Timeout | null;
  /** Epoch ms of the next attempt; null while an order runs. */
  nextAt: number | null;
  failures: number;
  lastError: string | null;
  /** The certificate now serving this name, from the current generation. */
  current: ResolvedServerCertificate | null;
  /** Queued or ordering: the order decides what comes next. */
  busy: boolean;
}

interface ProviderRuntime {
  config: AcmeProviderConfig;
  /** Identity of the account settings; a change makes a new client. */
  identity: string;
  client: Promise<acme.Client> | null;
  /** Orders of one provider run one after another. */
  tail: Promise<void>;
}

export class AcmeManager {
  private readonly host: AcmeHost;
  private readonly providers = new Map<string, ProviderRuntime>();
  private readonly names = new Map<string, NameState>();
  private readonly http = new Map<string, string>();
  private readonly alpn = new Map<string, { certPem: string; keyPem: string }>();
  private publishing: Promise<void> = Promise.resolve();
  private stopped = false;
  /** With `gateway.redis`: the store shared with other instances, and the challenges pending there. */
  private shared: Promise<SharedAcmeStore | null> = Promise.resolve(null);
  /** connectionKey of the Redis `shared` connects to, and that connection (null: none). */
  private sharedKey: string | null = null;
  private sharedConnection: RedisConnection | null = null;
  private remote: RemoteChallenges = { http: new Map(), alpn: new Map() };

  constructor(host: AcmeHost) {
    this.host = host;
  }

  /** The challenges pending now, for a worker that joins while an order runs. */
  challenges(): ChallengeSet {
    const http = new Map([...this.remote.http, ...this.http]);
    const alpn = new Map([...this.remote.alpn, ...this.alpn]);
    return { http: [...http], alpn: [...alpn].map(([name, pair]) => ({ name, ...pair })) };
  }

  /** Epoch ms of the next renewal or retry of a name; null when none is planned. */
  nextAttempt(provider: string, name: string): number | null {
    return this.names.get(key(provider, name))?.nextAt ?? null;
  }

  /**
   * Takes the names of `config` and the certificates the current generation serves. Called at start
   * and after every accepted reload (including the ones that install an ACME certificate).
   */
  apply(config: GatewayConfig, serving: readonly ResolvedServerCertificate[], redisTls: ResolvedRedisTls | null): void {
    if (this.stopped) return;
    const redis = config.gateway.redis;
    this.useShared(redis === null ? null : { config: redis, tls: redisTls });
    const wanted = new Set<string>();
    for (const provider of config.certManager?.providers ?? []) {
      if (provider.names.length === 0) continue;
      this.useProvider(provider);
      for (const name of provider.names) {
        const id = key(provider.name, name);
        wanted.add(id);
        const current = serving.find((c) => c.provider === provider.name && c.names.includes(name)) ?? null;
        let state = this.names.get(id);
        if (!state) {
          state = {
            provider: provider.name,
            name,
            timer: null,
            nextAt: null,
            failures: 0,
            lastError: null,
            current,
            busy: false,
          };
          this.names.set(id, state);
          if (!current) {
            this.host.logger.info(
              { provider: provider.name, name },
              'no ACME certificate yet; serving the default certificate until it is issued',
            );
          }
        }
        state.current = current;
        // An order in flight, or a retry after a failure, keeps its own timing.
        if (!state.busy && state.failures === 0) this.schedule(state);
      }
    }
    for (const [id, state] of this.names) {
      if (wanted.has(id)) continue;
      if (state.timer) clearTimeout(state.timer);
      this.names.delete(id);
      this.host.failures(state.provider, state.name, 0);
    }
    for (const [name, runtime] of this.providers) {
      if (![...this.names.values()].some((s) => s.provider === name)) this.providers.delete(runtime.config.name);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const state of this.names.values()) if (state.timer) clearTimeout(state.timer);
    this.names.clear();
    void this.shared.then((store) => store?.close());
  }

  /** Connects to (or leaves) the shared store when `gateway.redis` appears, changes or goes. */
  private useShared(redis: RedisConnection | null): void {
    const wanted = redis ? connectionKey(redis) : null;
    if (wanted === this.sharedKey) return;
    this.sharedKey = wanted;
    this.sharedConnection = redis;
    const previous = this.shared;
    void previous.then((store) => store?.close());
    this.remote = { http: new Map(), alpn: new Map() };
    if (redis === null) {
      this.shared = Promise.resolve(null);
      return;
    }
    const connecting = SharedAcmeStore.connect(redis, this.host.logger, {
      onChallenges: async (remote) => {
        this.remote = remote;
        await this.publish();
      },
      onCertificate: (provider, name) => this.enqueueAdoption(provider, name),
    });
    this.shared = connecting;
    connecting.then(
      () =>
        this.host.logger.info(
          { redis: `${redis.config.host}:${redis.config.port}` },
          'ACME shares challenges, certificates and order locks through Redis',
        ),
      (error: unknown) =>
        this.host.logger.error(
          { err: error, redis: `${redis.config.host}:${redis.config.port}` },
          'Redis for shared ACME state is unreachable; orders wait for it',
        ),
    );
  }

  /** The shared store, or null without `gateway.redis`; throws while a configured Redis is unreachable. */
  private async sharedStore(): Promise<SharedAcmeStore | null> {
    try {
      return await this.shared;
    } catch (error) {
      // Connect again on the next attempt.
      const connection = this.sharedConnection;
      this.sharedKey = null;
      if (connection !== null) this.useShared(connection);
      throw new Error(`Redis for shared ACME state: ${(error as Error).message}`);
    }
  }

  /** Another instance stored a certificate: take it if it is newer than what serves here. */
  private enqueueAdoption(provider: string, name: string): void {
    const state = this.names.get(key(provider, name));
    const runtime = this.providers.get(provider);
    if (!state || !runtime || this.stopped) return;
    const run = runtime.tail.then(async () => {
      const store = await this.shared.catch(() => null);
      if (store && !state.busy) await this.adopt(store, runtime.config, state);
    });
    runtime.tail = run.catch((error: unknown) =>
      this.host.logger.warn({ err: error, provider, name }, 'shared ACME certificate could not be taken'),
    );
  }

  /**
   * Serves the certificate another instance stored for this name, when it comes from the same ACME
   * directory and is not due for renewal yet. Returns false when there is none to take.
   */
  private async adopt(store: SharedAcmeStore, provider: AcmeProviderConfig, state: NameState): Promise<boolean> {
    const shared = await store.certificate(provider.name, state.name);
    if (shared === null || shared.directoryUrl !== provider.directoryUrl) return false;
    let leaf: X509Certificate;
    try {
      leaf = new X509Certificate(shared.certPem);
    } catch {
      return false;
    }
    const notBefore = leaf.validFromDate.getTime();
    const notAfter = leaf.validToDate.getTime();
    const now = Date.now();
    if (now < notBefore || renewalTime(notBefore, notAfter) <= now || !leaf.checkHost(state.name)) return false;
    const serial = leaf.serialNumber.toUpperCase();
    if (state.current?.serial !== serial) {
      await storeCertificate(provider, state.name, shared.certPem, shared.keyPem, now);
      this.host.logger.info(
        { provider: provider.name, name: state.name, serial, notAfter: leaf.validTo },
        'ACME certificate taken from the shared store',
      );
      await this.host.install();
    }
    state.failures = 0;
    this.host.failures(provider.name, state.name, 0);
    if (!this.stopped) this.arm(state, Math.max(now, renewalTime(notBefore, notAfter)));
    return true;
  }

  private useProvider(config: AcmeProviderConfig): void {
    const identity = JSON.stringify([
      config.directoryUrl,
      config.storageFile,
      config.email,
      config.caBundle,
      config.termsAccepted,
    ]);
    const existing = this.providers.get(config.name);
    if (existing && existing.identity === identity) {
      existing.config = config;
      return;
    }
    this.providers.set(config.name, { config, identity, client: null, tail: existing?.tail ?? Promise.resolve() });
  }

  private schedule(state: NameState): void {
    if (state.timer) clearTimeout(state.timer);
    const now = Date.now();
    const at = state.current
      ? renewalTime(Date.parse(state.current.notBefore), Date.parse(state.current.notAfter))
      : now;
    this.arm(state, Math.max(at, now));
  }

  private arm(state: NameState, at: number): void {
    if (state.timer) clearTimeout(state.timer);
    state.nextAt = at;
    // setTimeout holds 32-bit milliseconds (24.8 days); a later renewal re-arms on the way.
    const delay = Math.min(Math.max(0, at - Date.now()), 2 ** 31 - 1);
    state.timer = setTimeout(() => {
      state.timer = null;
      if (Date.now() + 1000 < at) this.arm(state, at);
      else this.enqueue(state);
    }, delay);
    state.timer.unref();
  }

  private enqueue(state: NameState): void {
    const runtime = this.providers.get(state.provider);
    if (!runtime || this.stopped) return;
    state.nextAt = null;
    state.busy = true;
    const run = runtime.tail
      .then(() => this.order(runtime, state))
      .finally(() => {
        state.busy = false;
      });
    runtime.tail = run.catch(() => {});
  }

  private async order(runtime: ProviderRuntime, state: NameState): Promise<void> {
    if (this.stopped || this.names.get(key(state.provider, state.name)) !== state) return;
    const provider = runtime.config;
    const renewal = state.current !== null;
    const started = Date.now();
    let store: SharedAcmeStore | null = null;
    let locked = false;
    try {
      store = await this.sharedStore();
      if (store) {
        locked = await store.lock(provider.name, state.name);
        if (!locked) {
          // Another instance orders this name now; its result arrives through the store.
          if (!this.stopped) this.arm(state, Date.now() + LOCKED_RETRY_MS);
          return;
        }
        if (await this.adopt(store, provider, state)) return;
      }
      const client = await this.client(runtime);
      const issued = await this.issue(client, provider, state.name);
      await storeCertificate(provider, state.name, issued.certPem, issued.keyPem, Date.now());
      await store?.putCertificate(provider.name, state.name, {
        certPem: issued.certPem,
        keyPem: issued.keyPem,
        directoryUrl: provider.directoryUrl,
      });
      const leaf = new X509Certificate(issued.certPem);
      state.failures = 0;
      state.lastError = null;
      this.host.orderResult(provider.name, 'success');
      this.host.failures(provider.name, state.name, 0);
      const notBefore = leaf.validFromDate.getTime();
      const notAfter = leaf.validToDate.getTime();
      this.host.logger.info(
        {
          provider: provider.name,
          name: state.name,
          serial: leaf.serialNumber.toUpperCase(),
          notAfter: new Date(notAfter).toISOString(),
          nextRenewal: new Date(renewalTime(notBefore, notAfter)).toISOString(),
          durationMs: Date.now() - started,
        },
        renewal ? 'ACME certificate renewed' : 'ACME certificate issued',
      );
      const installed = await this.host.install();
      if (!installed) {
        this.host.logger.error(
          { provider: provider.name, name: state.name },
          'ACME certificate stored but not installed: the reload was rejected; the next accepted reload installs it',
        );
      }
      // From the new leaf, not from what serves: a rejected install must not order again at once.
      if (!this.stopped) this.arm(state, Math.max(Date.now(), renewalTime(notBefore, notAfter)));
    } catch (error) {
      // The next attempt starts from the directory and the account again: the server may have
      // been replaced or reset (an account it no longer knows fails every request).
      runtime.client = null;
      state.failures += 1;
      state.lastError = failureDetail(error, provider.directoryUrl);
      const delay = retryDelayMs(state.failures, takeRetryAfter(provider.directoryUrl));
      this.host.orderResult(provider.name, 'failure');
      this.host.failures(provider.name, state.name, state.failures);
      this.host.logger.error(
        {
          provider: provider.name,
          name: state.name,
          renewal,
          error: state.lastError,
          failures: state.failures,
          retryInMs: delay,
          keepsServing: state.current ? `serial ${state.current.serial}` : 'the default certificate',
        },
        renewal ? 'ACME renewal failed' : 'ACME order failed',
      );
      if (!this.stopped) this.arm(state, Date.now() + delay);
    } finally {
      if (store && locked) await store.unlock(provider.name, state.name).catch(() => {});
    }
  }

  private client(runtime: ProviderRuntime): Promise<acme.Client> {
    runtime.client ??= this.createClient(runtime.config).catch((error: unknown) => {
      runtime.client = null;
      throw error;
    });
    return runtime.client;
  }

  private async createClient(provider: AcmeProviderConfig): Promise<acme.Client> {
    let caPem: string | null = null;
    if (provider.caBundle) {
      const resolved = await resolveMaterial(provider.caBundle);
      if (!resolved.ok) throw new Error(`acme.caBundle: ${resolved.diagnostic.message}`);
      caPem = resolved.pem;
    }
    trustFor(provider.directoryUrl, caPem);
    const accountKey = await loadOrCreateAccountKey(provider, () => acme.crypto.createPrivateEcdsaKey());
    const client = new acme.Client({
      directoryUrl: provider.directoryUrl,
      accountKey,
      backoffAttempts: 12,
      backoffMin: 250,
      backoffMax: 5_000,
    });
    // Finds the existing account for this key, or creates it: no order is placed.
    await client.createAccount({
      termsOfServiceAgreed: provider.termsAccepted,
      ...(provider.email ? { contact: [`mailto:${provider.email}`] } : {}),
    });
    return client;
  }

  private async issue(
    client: acme.Client,
    provider: AcmeProviderConfig,
    name: string,
  ): Promise<{ certPem: string; keyPem: string }> {
    const order = await client.createOrder({ identifiers: [{ type: 'dns', value: name }] });
    const authorizations = await client.getAuthorizations(order);
    for (const authz of authorizations) {
      if (authz.status === 'valid') continue;
      const challenge = authz.challenges.find((c) => c.type === provider.challengeType);
      if (!challenge) {
        throw new Error(`the ACME server offers no ${provider.challengeType} challenge for ${authz.identifier.value}`);
      }
      const keyAuthorization = await client.getChallengeKeyAuthorization(challenge);
      const release = await this.present(provider, authz, challenge, keyAuthorization);
      try {
        await client.completeChallenge(challenge);
        await client.waitForValidStatus(challenge);
      } catch (error) {
        // acme-client's message is the ACME server's own detail of the failed validation.
        throw new Error(
          `${provider.challengeType} validation of ${authz.identifier.value}: ${failureDetail(error, provider.directoryUrl)}`,
        );
      } finally {
        await release();
      }
    }
    const keyPem = (await acme.crypto.createPrivateEcdsaKey()).toString();
    const [, csr] = await acme.crypto.createCsr({ commonName: name, altNames: [name] }, keyPem);
    const finalized = await client.finalizeOrder(order, csr);
    const certPem = await client.getCertificate(finalized);
    return { certPem, keyPem };
  }

  /** Puts the challenge on every worker; the returned function takes it away again. */
  private async present(
    provider: AcmeProviderConfig,
    authz: acme.Authorization,
    challenge: { type: string; token: string },
    keyAuthorization: string,
  ): Promise<() => Promise<void>> {
    const store = await this.sharedStore();
    if (provider.challengeType === 'http-01') {
      this.http.set(challenge.token, keyAuthorization);
      await store?.putHttpChallenge(challenge.token, keyAuthorization);
      await this.publish();
      await store?.announceChallenges();
      return async () => {
        this.http.delete(challenge.token);
        this.remote.http.delete(challenge.token);
        await store?.deleteChallenge('http', challenge.token).catch(() => {});
        await this.publish().catch(() => {});
      };
    }
    const name = authz.identifier.value;
    const alpnKey = await acme.crypto.createPrivateEcdsaKey();
    const [, alpnCert] = await acme.crypto.createAlpnCertificate(authz, keyAuthorization, alpnKey);
    const pair = { certPem: alpnCert.toString(), keyPem: alpnKey.toString() };
    this.alpn.set(name, pair);
    await store?.putAlpnChallenge(name, pair);
    await this.publish();
    await store?.announceChallenges();
    return async () => {
      this.alpn.delete(name);
      this.remote.alpn.delete(name);
      await store?.deleteChallenge('alpn', name).catch(() => {});
      await this.publish().catch(() => {});
    };
  }

  /** One publication at a time, each carrying the whole current set. */
  private publish(): Promise<void> {
    const run = this.publishing.then(() => this.host.publishChallenges(this.challenges()));
    this.publishing = run.catch(() => {});
    return run;
  }
}

function key(provider: string, name: string): string {
  return `${provider}\u0000${name}`;
}
