// The live objects of one snapshot: compiled router, balancers, backends with their precompiled
// forwarding options and agents, TLS store, client-auth policy, trusted proxies. Built in full on
// gh:prepare (any failure is a gh:failed and nothing running changes), then swapped in with one
// assignment on gh:commit, so a request sees one generation from start to end.
import type { Agent } from 'node:http';
import type { BackendConfig, GatewayConfig, LimitsConfig, RouteConfig, TimeoutsConfig } from '@gatehouse/config';
import { accessLabels } from './access-log.ts';
import { Balancer } from './upstream/balancer.ts';
import { CanarySelector } from './upstream/canary.ts';
import { CompiledBackend } from './upstream/compiled-backend.ts';
import { type ClientAuthPolicy, compileClientAuth } from './tls/client-auth.ts';
import { type CompiledClientIdentity, compileClientIdentity } from './tls/client-identity.ts';
import { GenerationBuildError } from './errors.ts';
import { type BackendHealth, backendKey, type ResolvedUpstreamTls, type Snapshot } from './messages.ts';
import { type RouteMetrics, routeMetricsFor, unrecordedRouteMetrics } from './metrics.ts';
import { MonitoringEndpoints } from './request/monitoring.ts';
import { Router } from './request/router.ts';
import { SniStore } from './tls/sni-store.ts';
import { compileHeaderRules, type HeaderRules } from './request/client-headers.ts';
import type { MiddlewareChain } from './middleware/chain.ts';
import { MiddlewareSteps } from './middleware/compile.ts';
import type { MiddlewareServices } from './middleware/shaping/shaping-steps.ts';
import { LeaseTable } from './middleware/rate-limit/lease-table.ts';
import { compileTrustedProxies, type TrustedProxies } from './request/trusted-proxies.ts';
import type { UpstreamPool } from './upstream/pool.ts';

/** Health of every backend this worker knows, by backendKey; shared by all generations. */
export class HealthTable {
  private readonly entries = new Map<string, BackendHealth>();

  /** The live record for `key`, seeded from the snapshot the first time (up when unknown). */
  entry(key: string, seed: BackendHealth | undefined): BackendHealth {
    let h = this.entries.get(key);
    if (h === undefined) {
      h = { up: seed?.up ?? true, ejectedUntil: seed?.ejectedUntil ?? 0 };
      this.entries.set(key, h);
    }
    return h;
  }

  /** A gh:health transition: mutate in place, so every balancer sees it at once. */
  apply(key: string, health: BackendHealth): void {
    const h = this.entries.get(key);
    if (h === undefined) {
      this.entries.set(key, { up: health.up, ejectedUntil: health.ejectedUntil });
      return;
    }
    h.up = health.up;
    h.ejectedUntil = health.ejectedUntil;
  }
}

export class CompiledRoute {
  readonly index: number;
  readonly name: string;
  readonly config: RouteConfig;
  readonly prefix: string;
  readonly rewrite: string | null;
  readonly forwardHost: boolean;
  /** strictSlash and a route written with a trailing slash: its bare prefix is redirected. */
  readonly slashRedirect: boolean;
  readonly balancer: Balancer<CompiledBackend>;
  /** Goma canary backends (`match`); null when the route has none and `balancer` serves it. */
  readonly canary: CanarySelector<CompiledBackend> | null;
  readonly backends: readonly CompiledBackend[];
  readonly metrics: RouteMetrics;
  readonly identity: CompiledClientIdentity;
  readonly retryAttempts: number;
  readonly retryOnConnect: boolean;
  readonly retryOnReset: boolean;
  readonly passive5xx: boolean;
  /** 0 = unlimited. */
  readonly maxBodyBytes: number;
  /** `security.enableExploitProtection`: URL patterns checked after routing, XML bodies read and checked. */
  readonly exploitProtection: boolean;
  /** Retry-After seconds when no backend is healthy: about one health-check interval. */
  readonly retryAfterSeconds: number;
  /** The route's middleware steps (and maintenance); null: nothing runs between routing and the backend. */
  readonly chain: MiddlewareChain | null;
  /** Its name, and no backend, as the access line writes them. */
  readonly accessLabels: string;

  constructor(
    index: number,
    config: RouteConfig,
    gateway: GatewayConfig['gateway'],
    agentFor: (backend: BackendConfig) => { agent: Agent; tls: ResolvedUpstreamTls | null },
    healthFor: (key: string) => BackendHealth,
    chain: MiddlewareChain | null = null,
  ) {
    this.index = index;
    this.chain = chain;
    this.name = config.name;
    this.accessLabels = accessLabels(config.name, null);
    this.config = config;
    this.prefix = config.path;
    this.rewrite = config.rewrite;
    this.forwardHost = config.security.forwardHostHeaders;
    this.slashRedirect = gateway.strictSlash && config.trailingSlash;
    this.metrics = config.disableMetrics ? unrecordedRouteMetrics(config.name) : routeMetricsFor(config.name);
    this.identity = compileClientIdentity(config);
    this.retryAttempts = Math.max(0, config.retry.attempts);
    this.retryOnConnect = config.retry.on.includes('connect-failure');
    this.retryOnReset = config.retry.on.includes('reset');
    this.passive5xx = config.healthCheck?.passive5xx ?? false;
    this.maxBodyBytes = config.maxBodyBytes > 0 ? config.maxBodyBytes : gateway.limits.maxBodyBytes;
    this.exploitProtection = config.security.exploitProtection;
    this.retryAfterSeconds = Math.max(1, Math.ceil((config.healthCheck?.intervalMs ?? 5_000) / 1_000));
    const backends = config.backends.map((b) => {
      const { agent, tls } = agentFor(b);
      return new CompiledBackend(this, b, healthFor(backendKey(config.name, b.endpoint)), agent, tls, gateway.timeouts);
    });
    this.backends = backends;
    this.balancer = new Balancer(
      backends.map((b) => ({ value: b, weight: b.config.weight, health: b.health })),
      config.healthCheck?.panic ?? false,
    );
    this.canary = CanarySelector.needed(config.backends)
      ? new CanarySelector(
          backends.map((b) => ({
            value: b,
            weight: b.config.weight,
            health: b.health,
            match: b.config.match,
            exclusive: b.config.exclusive,
            priority: b.config.priority,
          })),
          config.healthCheck?.panic ?? false,
        )
      : null;
  }
}

/**
 * Services of a generation built outside a worker (unit tests): no primary answers lease asks, so
 * a rate-limited request is refused once its ask times out; no Redis.
 */
const STANDALONE_SERVICES: MiddlewareServices = {
  leases: new LeaseTable(() => {}),
  redis: null,
  gatewayVersion: '0.0.0',
};

export class Generation {
  readonly number: number;
  readonly snapshot: Snapshot;
  readonly config: GatewayConfig;
  readonly router: Router;
  /** By config route index; null for disabled routes. */
  readonly routes: ReadonlyArray<CompiledRoute | null>;
  readonly trusted: TrustedProxies;
  /** Which client headers may pass (underscores, protected names). */
  readonly headerRules: HeaderRules;
  readonly limits: LimitsConfig;
  readonly timeouts: TimeoutsConfig;
  readonly clientAuth: ClientAuthPolicy;
  /** Some route or the gateway asks for client certificates: only then is checkClientAuth called. */
  readonly clientAuthActive: boolean;
  /** null when the config has no HTTPS listener. */
  readonly sni: SniStore | null;
  readonly noRouteMetrics: RouteMetrics;
  /** Goma's monitoring endpoints on the traffic listeners; null when every one is off. */
  readonly monitoring: MonitoringEndpoints | null;
  /** The middleware steps of this generation, shared by the routes that name them. */
  readonly middlewares: MiddlewareSteps;

  private constructor(snapshot: Snapshot, pool: UpstreamPool, health: HealthTable, services: MiddlewareServices) {
    this.number = snapshot.generation;
    this.snapshot = snapshot;
    const config = snapshot.config;
    this.config = config;
    this.limits = config.gateway.limits;
    this.timeouts = config.gateway.timeouts;
    this.router = Router.compile(config.routes);
    this.trusted = compileTrustedProxies(config.gateway.proxy.trustedProxies);
    this.noRouteMetrics = routeMetricsFor('none');
    this.monitoring = MonitoringEndpoints.compile(config.gateway.monitoring);
    const ticketKeys = Buffer.from(snapshot.tls.ticketKeys, 'base64');
    this.sni = config.gateway.entryPoints.webSecure !== null ? SniStore.build(snapshot, ticketKeys) : null;
    this.clientAuth = this.sni?.clientAuth ?? compileClientAuth(snapshot);
    this.clientAuthActive = this.clientAuth.requestCert;
    const idleMs = config.gateway.timeouts.upstreamIdleMs;
    const generation = snapshot.generation;
    const middlewares = new MiddlewareSteps(config.middlewares ?? [], services);
    this.middlewares = middlewares;
    try {
      this.routes = config.routes.map((route, index) => {
        if (!route.enabled) return null;
        const tls = snapshot.upstreamTls[route.name] ?? null;
        if (route.backends.length === 0) throw new GenerationBuildError(`route "${route.name}" has no backend`);
        return new CompiledRoute(
          index,
          route,
          config.gateway,
          (b) => ({
            agent: pool.acquire(b.protocol, b.protocol === 'https:' ? tls : null, idleMs, generation),
            tls: b.protocol === 'https:' ? tls : null,
          }),
          (key) => health.entry(key, snapshot.health[key]),
          middlewares.chain(route),
        );
      });
    } catch (error) {
      middlewares.close();
      throw error;
    }
    this.headerRules = compileHeaderRules(
      config.gateway.proxy.allowUnderscoresInHeaders,
      this.routes.flatMap((route) => (route?.identity.header ? [route.identity.header] : [])),
    );
  }

  /** Retires what runs in the background for this generation (JWKS refreshes, auth agents). */
  close(): void {
    this.middlewares.close();
  }

  /** Builds every live object; throws GenerationBuildError. Agents it acquired are released on failure. */
  static build(
    snapshot: Snapshot,
    pool: UpstreamPool,
    health: HealthTable,
    services: MiddlewareServices = STANDALONE_SERVICES,
  ): Generation {
    try {
      return new Generation(snapshot, pool, health, services);
    } catch (error) {
      pool.releaseGeneration(snapshot.generation);
      if (error instanceof GenerationBuildError) throw error;
      throw new GenerationBuildError((error as Error).message ?? String(error), { cause: error });
    }
  }
}
