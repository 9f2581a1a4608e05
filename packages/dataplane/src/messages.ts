// The IPC contract between the primary (packages/control) and the workers (this package).
// The primary forks workers with `serialization: 'advanced'`, so these are structured-cloned:
// plain data only, no functions, no class instances. Every message has `type` prefixed `gh:`
// so that other users of the cluster channel (prom-client's aggregator) are left alone.
import type { GatewayConfig } from '@gatehouse/config';
import { type BackendHealth, backendKey } from '@gatehouse/config/backend-health';
import type { ResolvedRedisTls, ResolvedServerCertificate, ResolvedUpstreamTls } from '@gatehouse/pki';
import type {
  LeaseAnswerMessage,
  LeaseAskMessage,
  RateLimitStoreMessage,
} from './middleware/rate-limit/lease-messages.ts';

export type { ResolvedRedisTls, ResolvedServerCertificate, ResolvedUpstreamTls };

export type { BackendHealth };
export { backendKey };

export interface Snapshot {
  generation: number;
  config: GatewayConfig;
  tls: {
    certificates: ResolvedServerCertificate[];
    clientCA: string | null;
    crl: string | null;
    /**
     * Base64 of 48 bytes (the current key) or 96 (current, then previous); the same for every worker
     * so that resumption survives worker hopping and one rotation (session-tickets.ts).
     */
    ticketKeys: string;
  };
  /** By route name; absent when the route's backends are all plain http and no tls block is set. */
  upstreamTls: Record<string, ResolvedUpstreamTls>;
  /** `gateway.redis.tls` as PEM, read by the primary; null: plain TCP to Redis, or no Redis. */
  redisTls: ResolvedRedisTls | null;
  /** Current health of every backend, so a new worker starts with what the primary knows. */
  health: Record<string, BackendHealth>;
}

// ---- primary → worker ----

/** Build every live object for this generation, do not swap yet; answer gh:ready or gh:failed. */
export interface PrepareMessage {
  type: 'gh:prepare';
  snapshot: Snapshot;
}
/** Swap the prepared generation in with one assignment. */
export interface CommitMessage {
  type: 'gh:commit';
  generation: number;
}
/** Throw the prepared generation away; keep serving the current one. */
export interface AbortMessage {
  type: 'gh:abort';
  generation: number;
}
/** One message per health transition, never per probe. */
export interface HealthMessage {
  type: 'gh:health';
  route: string;
  endpoint: string;
  health: BackendHealth;
}
/** New session-ticket keys (rotation): base64 of 96 bytes, current first then previous. */
export interface TicketKeysMessage {
  type: 'gh:ticket-keys';
  keys: string;
}
/** Stop accepting, finish in-flight requests within `deadlineMs`, then exit 0. */
export interface DrainMessage {
  type: 'gh:drain';
  deadlineMs: number;
}
/** Ask for a gh:stats answer (for /status). */
export interface StatsRequestMessage {
  type: 'gh:stats-request';
  id: number;
}

/**
 * Every pending ACME challenge, the whole set each time (it replaces the previous one). The worker
 * answers gh:acme-ack once it serves exactly this set, so the primary tells the ACME server to
 * validate only after every worker can answer.
 */
export interface AcmeChallengesMessage {
  type: 'gh:acme-challenges';
  id: number;
  /** HTTP-01: token → key authorization, answered on the plain HTTP listener. */
  http: Array<[string, string]>;
  /** TLS-ALPN-01: the self-signed challenge certificate for a name, offered under ALPN `acme-tls/1`. */
  alpn: Array<{ name: string; certPem: string; keyPem: string }>;
}

/**
 * Whether the gateway as a whole is ready (every worker serving the current generation): /readyz on
 * the traffic listeners answers from this, sent on every change, so a probe costs no IPC.
 */
export interface ReadinessMessage {
  type: 'gh:readiness';
  ready: boolean;
  reason: string;
}
/** The answer to a gh:metrics-request: the whole instance's exposition, as the admin /metrics. */
export interface MetricsMessage {
  type: 'gh:metrics';
  id: number;
  ok: boolean;
  contentType: string;
  body: string;
}

export type PrimaryToWorker =
  | AcmeChallengesMessage
  | ReadinessMessage
  | MetricsMessage
  | PrepareMessage
  | CommitMessage
  | AbortMessage
  | HealthMessage
  | TicketKeysMessage
  | DrainMessage
  | StatsRequestMessage
  | LeaseAnswerMessage;

// ---- worker → primary ----

export interface ReadyMessage {
  type: 'gh:ready';
  generation: number;
}
export interface FailedMessage {
  type: 'gh:failed';
  generation: number;
  reason: string;
}
/** Sent once after a worker has committed its first generation and bound every listener. */
export interface ListeningMessage {
  type: 'gh:listening';
  generation: number;
  addresses: string[];
}
/** A listener could not bind: start-up must stop with this message. */
export interface BindFailedMessage {
  type: 'gh:bind-failed';
  address: string;
  reason: string;
}
/**
 * Passive health signals, batched (at most every 250 ms). Only failures, and the first success
 * after a failure, are reported, so a healthy backend costs nothing on the channel.
 */
export interface PassiveMessage {
  type: 'gh:passive';
  events: Array<{ route: string; endpoint: string; ok: boolean; reason: string | null }>;
}
/** Upper bounds (seconds) of the request and upstream duration histograms. */
export const DURATION_BUCKETS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

/**
 * One route's counts since the worker started. `durationBuckets[i]` counts requests whose duration
 * fell in (DURATION_BUCKETS[i-1], DURATION_BUCKETS[i]] seconds; the last slot is above every bound.
 */
export interface RouteTrafficSample {
  route: string;
  /** By status class: index 2 is 2xx, …, 5 is 5xx; 0 holds requests without a status. */
  statusClasses: number[];
  durationBuckets: number[];
}
export interface StatsMessage {
  type: 'gh:stats';
  id: number;
  pid: number;
  generation: number;
  uptimeSeconds: number;
  requests: number;
  activeConnections: number;
  eventLoopLagMs: number;
  eventLoopUtilization: number;
  rssBytes: number;
  heapUsedBytes: number;
  routes: RouteTrafficSample[];
}
export interface DrainedMessage {
  type: 'gh:drained';
}
/** `metricsPath` was asked for on a traffic listener: the primary aggregates and answers gh:metrics. */
export interface MetricsRequestMessage {
  type: 'gh:metrics-request';
  id: number;
}

export interface AcmeAckMessage {
  type: 'gh:acme-ack';
  id: number;
}

export type WorkerToPrimary =
  | AcmeAckMessage
  | ReadyMessage
  | FailedMessage
  | ListeningMessage
  | BindFailedMessage
  | PassiveMessage
  | StatsMessage
  | DrainedMessage
  | LeaseAskMessage
  | RateLimitStoreMessage
  | MetricsRequestMessage;
