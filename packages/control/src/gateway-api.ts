// What the running primary offers to its operator surfaces (admin HTTP and unix socket, signals,
// the `gatehouse reload|restart|status` commands). primary.ts implements it; admin-server.ts uses it.
import type { ConfigDiagnostic } from '@gatehouse/config';
import type { StatsMessage } from '@gatehouse/dataplane';

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
export type WorkerStatus = Omit<StatsMessage, 'type' | 'id'> & { id: number };

export interface CertificateStatus {
  role: 'server' | 'client-ca' | 'upstream-client' | 'upstream-ca';
  names: string[];
  subject: string;
  serial: string;
  fingerprint256: string;
  notAfter: string;
  daysLeft: number;
  source: string;
  /** The certManager provider that issued it (ACME certificates only). */
  provider?: string;
  /** When it is renewed (ACME certificates only), ISO 8601. */
  nextRenewal?: string;
}

export interface BackendStatus {
  endpoint: string;
  weight: number;
  up: boolean;
  ejectedUntil: number;
  lastProbe: { ok: boolean; status: number | null; latencyMs: number | null; error: string | null; at: string } | null;
  transitions: number;
}

export interface RouteStatus {
  name: string;
  path: string;
  hosts: string[];
  backends: BackendStatus[];
}

export interface StatusReport {
  version: string;
  pid: number;
  uptimeSeconds: number;
  generation: number;
  configFile: string;
  lastReload: { at: string; accepted: boolean; message: string } | null;
  workers: WorkerStatus[];
  routes: RouteStatus[];
  certificates: CertificateStatus[];
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
