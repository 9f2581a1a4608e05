// The normalised, validated configuration. Every later stage (pki, dataplane, health, control)
// reads only this shape, never the raw YAML, so defaults are applied exactly once, here.
// All durations are milliseconds. All addresses are parsed. Nothing here has been read from disk.
import type { CorsRule, RedisConfig } from './middleware/limits-types.ts';
import type { PassThroughConfig } from './pass-through.ts';
import type { MaintenanceConfig, MiddlewareConfig } from './middleware/types.ts';

export type * from './middleware/types.ts';

/** Where a value came from in the YAML file: used by every later error that points back at the config. */
export interface SourcePos {
  file: string;
  line: number; // 1-based
  col: number; // 1-based
  /** Key path as an operator writes it: `routes[0].security.tls.rootCAs`. */
  path: string;
}

/**
 * A certificate, key, CA bundle or CRL as the config gave it. Nothing is read at parse time:
 * `file` is resolved later by pki; `pem` and `base64` already carry the text (base64 decoded).
 */
export type MaterialForm = 'file' | 'pem' | 'base64';
export type MaterialKind = 'certificate' | 'private-key' | 'ca-bundle' | 'crl';
export interface MaterialRef {
  form: MaterialForm;
  kind: MaterialKind;
  /** For `file`: the absolute path (relative paths are resolved against the config file's directory). */
  path: string | null;
  /** For `pem` and `base64`: the PEM text. */
  pem: string | null;
  at: SourcePos;
}

export interface ListenAddress {
  /** As written, for messages: `:8443`, `127.0.0.1:8080`, `[::1]:9180`. */
  raw: string;
  /** Empty host means all interfaces, as in Go's `:8080`. */
  host: string;
  port: number;
}

export interface ServerCertificateConfig {
  cert: MaterialRef;
  key: MaterialRef;
  passphrase: string | null;
}

export interface ClientAuthConfig {
  clientCA: MaterialRef | null;
  /** true: handshake fails without a valid certificate. false: optional, verified when presented. */
  required: boolean;
  crl: MaterialRef | null;
}

export interface TlsConfig {
  certificates: ServerCertificateConfig[];
  /** Goma's certificate folder (absolute); its pairs are added to `certificates` when it is read. */
  certsDir: string | null;
  /** A server name (one of a certificate's names) that selects the default certificate; else the first. */
  defaultName: string | null;
  clientAuth: ClientAuthConfig | null;
  minVersion: 'TLSv1.2' | 'TLSv1.3';
  /** OpenSSL cipher list for TLS 1.2 (TLS 1.3 suites are all AEAD). */
  ciphers: string;
  /** ECDHE groups, as Node's `ecdhCurve`. */
  ecdhCurve: string;
  /** How often the primary rotates session-ticket keys. */
  sessionTicketRotationMs: number;
  /** Lifetime of a resumable TLS session (session id or ticket), in ms. */
  sessionTimeoutMs: number;
  /** Days before not-after at which a certificate gets an expiry warning. */
  expiryWarningDays: number;
}

export interface TimeoutsConfig {
  /** Client must send all request headers within this (slowloris guard). */
  requestHeaderMs: number;
  /** Whole request, headers and body, from the client. */
  requestMs: number;
  /** Idle keep-alive connection from a client. */
  keepAliveMs: number;
  /** Connecting to a backend (TCP + TLS). */
  upstreamConnectMs: number;
  /** Time to the first response byte from a backend. */
  upstreamResponseMs: number;
  /** Idle time of pooled backend sockets; kept below typical backend keep-alive (nginx 75 s, Node 5 s). */
  upstreamIdleMs: number;
  /** How long a draining worker waits for in-flight requests. */
  drainMs: number;
}

export interface LogConfig {
  level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
  format: 'json' | 'pretty';
  /** Access log on or off. */
  accessLog: boolean;
}

/** Goma's `gateway.monitoring` switches for the endpoints on the traffic listeners. */
export interface MonitoringConfig {
  enableLiveness: boolean; // /healthz
  enableReadiness: boolean; // /readyz
  enableRouteHealthCheck: boolean; // /healthz/routes
  enableMetrics: boolean; // /metrics on traffic listeners (always on admin)
  metricsPath: string;
  /** Lower-cased; null: any Host may read `metricsPath` and /healthz/routes. */
  host: string | null;
}

export interface AdminConfig {
  /** null: admin TCP listener off. */
  address: ListenAddress | null;
  /** Unix socket for `gatehouse status|reload`; null: off. */
  socket: string | null;
  pidFile: string | null;
  /** Bearer token every admin endpoint but /healthz and /readyz requires; null: none. */
  token: string | null;
}

export interface LimitsConfig {
  maxHeaderBytes: number;
  maxHeaderCount: number;
  maxUrlLength: number;
  /** Default request body limit; a route may override. 0 = unlimited. */
  maxBodyBytes: number;
  maxConnectionsPerWorker: number;
  maxConcurrentStreams: number;
  /** HTTP/2 streams a client may reset within `h2ResetWindowMs` before the session is closed. */
  h2MaxResetsPerWindow: number;
  h2ResetWindowMs: number;
}

export interface ProxyConfig {
  /** CIDRs whose X-Forwarded-* headers are believed. Empty: trust nobody. */
  trustedProxies: string[];
  /** Pass request headers whose names contain `_` (except spellings of protected headers). */
  allowUnderscoresInHeaders: boolean;
}

export interface WatchConfig {
  enabled: boolean;
  /** Slow polling fallback that catches events the watcher missed. */
  pollIntervalMs: number;
  debounceMs: number;
  /** How long a mismatched certificate/key pair is waited for before a reload counts as rejected. */
  pairGraceMs: number;
}

export interface GatewaySection {
  entryPoints: {
    web: ListenAddress | null;
    webSecure: ListenAddress | null;
    /** Raw TCP/UDP forwarding (pass-through.ts). */
    passThrough: PassThroughConfig;
  };
  tls: TlsConfig;
  timeouts: TimeoutsConfig;
  log: LogConfig;
  monitoring: MonitoringConfig;
  admin: AdminConfig;
  limits: LimitsConfig;
  proxy: ProxyConfig;
  watch: WatchConfig;
  /** Worker count from the config; the CLI flag wins. 0 = one per core. */
  workers: number;
  /** Shared by instances (rate limits, ACME); null: each instance on its own. */
  redis: RedisConfig | null;
  /** Goma's `strictSlash`: redirect `/docs` to `/docs/` for a route written as `/docs/`. */
  strictSlash: boolean;
  /** The deprecated gateway `cors` block: CORS on routes without their own. */
  cors: CorsRule | null;
  /** `gateway.extraConfig` and an enabled `providers.file`: folders of more routes and middlewares. */
  extraConfig: ExtraConfigSource[];
}

export interface ExtraConfigSource {
  /** Absolute (relative paths are resolved against the config file's directory). */
  directory: string;
  watch: boolean;
  at: SourcePos;
}

export interface BackendConfig {
  /** As written: `https://api-example:8443`. */
  endpoint: string;
  protocol: 'http:' | 'https:';
  hostname: string; // without brackets for IPv6
  port: number;
  /** Path prefix of the endpoint URL (`/` when none); prepended to the forwarded path. */
  basePath: string;
  weight: number;
  /** Between exclusive canaries that match, the higher wins (Goma). */
  priority: number;
  /** Canary conditions, all of which must hold; empty: a stable backend. */
  match: CanaryCondition[];
  exclusive: boolean;
  at: SourcePos;
}

export type CanarySource = 'header' | 'query' | 'cookie' | 'ip';
export type CanaryOperator =
  | 'equals'
  | 'not_equals'
  | 'contains'
  | 'not_contains'
  | 'starts_with'
  | 'ends_with'
  | 'regex'
  | 'in';
export interface CanaryCondition {
  source: CanarySource;
  /** Lower-cased for headers; '' for `ip`. */
  name: string;
  operator: CanaryOperator;
  value: string;
}

export interface UpstreamTlsConfig {
  rootCAs: MaterialRef | null;
  clientCert: MaterialRef | null;
  clientKey: MaterialRef | null;
  insecureSkipVerify: boolean;
  /** SNI and name to verify; default: the backend endpoint's hostname. */
  serverName: string | null;
}

export interface HealthCheckConfig {
  path: string;
  intervalMs: number;
  timeoutMs: number;
  /** Inclusive ranges; default [[100, 399]]. */
  healthyStatuses: Array<[number, number]>;
  fall: number;
  rise: number;
  /** All backends down: send to all of them instead of 503. */
  panic: boolean;
  /** Count 5xx answers as passive failures. */
  passive5xx: boolean;
  /** Consecutive passive failures that eject a backend. */
  passiveFailures: number;
  passiveBaseEjectionMs: number;
  passiveMaxEjectionPercent: number;
}

export type ClientAuthMode = 'required' | 'optional' | 'off';
export interface RouteClientAuthConfig {
  mode: ClientAuthMode;
  /** Exact strings or globs (`*`), matched RDN by RDN against the RFC 4514 subject (`CN=x,O=y`). */
  allowedSubjects: string[];
  /** Exact or glob, with a type prefix (`DNS:`, `URI:`, `IP:`, `email:`); no prefix means `DNS:`. */
  allowedSANs: string[];
}

export type ClientIdentityField = 'Hash' | 'Subject' | 'URI' | 'DNS' | 'By' | 'Cert';
export interface ClientIdentityConfig {
  header: string; // lower-cased
  fields: ClientIdentityField[];
}

export type RetryCondition = 'connect-failure' | 'reset';
export interface RetryConfig {
  attempts: number; // extra attempts after the first; 0 = off
  on: RetryCondition[];
}

export interface RouteConfig {
  name: string;
  /** Normalised: leading `/`, no trailing `/` except the root. */
  path: string;
  /** Lower-cased; may hold a port (`api.example.com:8443`) or a leading `*.` wildcard. Empty = any host. */
  hosts: string[];
  /** Upper-cased; null = any method. */
  methods: string[] | null;
  priority: number;
  enabled: boolean;
  /** The path was written with a trailing slash (`/docs/`); `path` holds it without (`/docs`). */
  trailingSlash: boolean;
  /** Left out of the per-route metrics. */
  disableMetrics: boolean;
  /** Replaces the matched path prefix; null = forward the path unchanged. */
  rewrite: string | null;
  /** `target` is normalised into a single backend of weight 1. */
  backends: BackendConfig[];
  security: {
    forwardHostHeaders: boolean;
    /** `enableExploitProtection`: the URL pattern checks and the XML body check. */
    exploitProtection: boolean;
    tls: UpstreamTlsConfig | null;
  };
  healthCheck: HealthCheckConfig | null;
  /** null: the gateway's clientAuth applies. */
  clientAuth: RouteClientAuthConfig | null;
  /** null: forwarding off. */
  clientIdentity: ClientIdentityConfig | null;
  retry: RetryConfig;
  /** 0 = the gateway default. */
  maxBodyBytes: number;
  /** The certManager provider that issues certificates for the route's hosts; null: none. */
  tlsProvider: string | null;
  /** Names of `GatewayConfig.middlewares`, in run order, `gateway.defaults.middlewares` included. */
  middlewares: string[];
  /** null: off. */
  maintenance: MaintenanceConfig | null;
  /** The deprecated route `cors` block (or the gateway's); null: none. */
  cors: CorsRule | null;
  at: SourcePos;
}

/** One ACME account and what it is asked to certify (`certManager.providers.<name>`). */
export interface AcmeProviderConfig {
  name: string;
  email: string;
  directoryUrl: string;
  /** Absolute; the account key and certificates live in a folder beside it. */
  storageFile: string;
  challengeType: 'http-01' | 'tls-alpn-01';
  /** CA of the ACME server's own TLS; null: system roots. */
  caBundle: MaterialRef | null;
  termsAccepted: boolean;
  /** Host names of the enabled routes served by this provider: lower-case, sorted, without ports. */
  names: string[];
  at: SourcePos;
}

export interface CertManagerConfig {
  defaultProvider: string | null;
  providers: AcmeProviderConfig[];
}

export interface GatewayConfig {
  version: 2;
  /** Absolute path of the file this was loaded from, or `<inline>`. */
  file: string;
  gateway: GatewaySection;
  routes: RouteConfig[];
  /** null: no automatic certificates. */
  certManager: CertManagerConfig | null;
  /** Every middleware definition, validated; routes refer to them by name. */
  middlewares: MiddlewareConfig[];
}

export type Severity = 'error' | 'warning';
/** Config errors are values, not throws: every one found is reported at once. */
export interface ConfigDiagnostic {
  severity: Severity;
  file: string;
  line: number;
  col: number;
  /** Key path, `routes[1].backends[0].weight`. */
  path: string;
  message: string;
  hint: string | null;
  code: string; // stable: GH_CONFIG_UNKNOWN_KEY, GH_CONFIG_TYPE, ...
}

export type LoadResult =
  | { ok: true; config: GatewayConfig; warnings: ConfigDiagnostic[] }
  | { ok: false; errors: ConfigDiagnostic[]; warnings: ConfigDiagnostic[] };
