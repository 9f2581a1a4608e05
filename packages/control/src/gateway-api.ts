// What the running primary offers to its operator surfaces (admin HTTP and unix socket, signals,
// the `gatehouse reload|restart|status` commands). primary.ts implements it (the reload in
// reload.ts, /status in status-report.ts); admin-server.ts uses it.
import type { ConfigDiagnostic } from '@gatehouse/config';
import type { StatsMessage } from '@gatehouse/dataplane';
import type { RouteTraffic, TrafficHistory } from './traffic-stats.ts';

export type { RouteTraffic, TrafficHistory };

/** What asked for a reload: a watched file, SIGHUP, the admin endpoint, or a new ACME certificate. */
export type ReloadTrigger = 'file' | 'signal' | 'admin' | 'acme';

export interface ReloadOutcome {
  accepted: boolean;
  /** The generation now serving (the new one when accepted, the old one when rejected). */
  generation: number;
  /** True when nothing changed (same hashes): accepted, no new generation. */
  unchanged: boolean;
  errors: ConfigDiagnostic[];
  warnings: ConfigDiagnostic[];
  /** One line for humans: why it was rejected, or what changed. */
  message: string;
}

/** What a worker reports in gh:stats, with `id` the cluster worker id instead of the request id. */
export type WorkerStatus = Omit<StatsMessage, 'type' | 'id' | 'routes'> & {
  id: number;
  /** Over the last few seconds; null until the worker was sampled twice (just started). */
  requestsPerSecond: number | null;
};

export interface CertificateStatus {
  role: 'server' | 'client-ca' | 'upstream-client' | 'upstream-ca';
  names: string[];
  subject: string;
  serial: string;
  fingerprint256: string;
  notAfter: string;
  daysLeft: number;
  issuer: string;
  /** Where it came from: a file path, `<inline>`, a certificate folder or ACME. */
  source: string;
  /** The certManager provider that issued it (ACME certificates only). */
  provider?: string;
  /** When it is renewed (ACME certificates only), ISO 8601. */
  nextRenewal?: string;
  sourceKind: 'file' | 'inline' | 'folder' | 'acme';
}

export interface BackendStatus {
  endpoint: string;
  weight: number;
  up: boolean;
  ejectedUntil: number;
  lastProbe: { ok: boolean; status: number | null; latencyMs: number | null; error: string | null; at: string } | null;
  transitions: number;
  /** When the backend last went up, down, ejected or restored; null: never since it was configured. */
  lastTransitionAt: string | null;
}

export interface RouteStatus {
  name: string;
  path: string;
  hosts: string[];
  backends: BackendStatus[];
}

/** A route in /status: its health, its policy and its traffic. */
export interface RouteReport extends RouteStatus {
  /** The effective client-certificate mode (the route's own, else the gateway's). */
  clientAuth: 'required' | 'optional' | 'off';
  /** Names of the route's middlewares, in the order they run. */
  middlewares: string[];
  traffic: RouteTraffic;
}

export interface StatusReport {
  /** When this document was made (the page counts "ago" from it, not from the viewer's clock). */
  at: string;
  version: string;
  pid: number;
  uptimeSeconds: number;
  generation: number;
  configFile: string;
  lastReload: { at: string; accepted: boolean; message: string } | null;
  workers: WorkerStatus[];
  routes: RouteReport[];
  certificates: CertificateStatus[];
  /** Requests per second and the 5xx share, one point per second, for the last five minutes. */
  history: TrafficHistory;
  /** The Redis store of `gateway.redis` (absent without one). */
  rateLimitStore?: RateLimitStoreStatus;
}

export interface RateLimitStoreStatus {
  addr: string;
  /** `fallback`: some worker cannot reach Redis; rate limits follow their `onStoreError`. */
  state: 'ok' | 'fallback';
  /** When the store entered this state (null: never left `ok`). */
  since: string | null;
  workersFallingBack: number;
}

export interface Readiness {
  ready: boolean;
  reason: string;
}

export interface GatewayApi {
  reload(trigger: ReloadTrigger): Promise<ReloadOutcome>;
  /** Rolling restart of the workers, one at a time; resolves when every worker is replaced. */
  restart(): Promise<void>;
  status(): Promise<StatusReport>;
  readiness(): Readiness;
  /** Per route, per backend health, for /healthz/routes. */
  routeHealth(): RouteStatus[];
}
