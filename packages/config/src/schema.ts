// The one source of truth for the config file: every key, its type, default and meaning. The
// validator walks this table; `gatehouse schema` prints it as JSON Schema. Keys from Goma Gateway v2
// that Gatehouse does not implement are listed too (`goma(...)`): a Goma file runs unchanged, and
// the operator is told what is ignored. Anything else is an unknown key and an error.
import { checkAdminToken } from './admin.ts';
import {
  checkCidr,
  checkEndpoint,
  checkHeaderName,
  checkHost,
  checkMethod,
  checkPath,
  checkServerName,
} from './checks.ts';
import { certManagerField, routeTlsField } from './cert-manager.ts';
import { redisField } from './redis.ts';
import { ConfigCode } from './diagnostics.ts';
import { passThroughField } from './pass-through.ts';
import { checkSanPattern } from './san-pattern.ts';
import {
  address,
  arr,
  bool,
  duration,
  type Field,
  goma,
  gomaRefused,
  int,
  literal,
  material,
  type ObjectSpec,
  obj,
  size,
  statusRange,
  str,
  union,
} from './spec.ts';
import { DEFAULT_CIPHERS, DEFAULT_ECDH_CURVE } from './tls-defaults.ts';
import { maintenanceDescription, maintenanceSpec, middlewareSpec } from './middleware/spec.ts';
import { corsSpec } from './middleware/limits-rules.ts';

export { DEFAULT_CIPHERS, DEFAULT_ECDH_CURVE };

export const DEFAULT_CLIENT_IDENTITY_HEADER = 'x-forwarded-client-cert';
export const DEFAULT_CLIENT_IDENTITY_FIELDS = ['Hash', 'Subject', 'URI', 'DNS'] as const;
/** `healthCheck.healthyStatuses` left out or empty: any status below 400. */
export const DEFAULT_HEALTHY_STATUSES: ReadonlyArray<[number, number]> = [[100, 399]];
export const CLIENT_IDENTITY_FIELDS = ['Hash', 'Subject', 'URI', 'DNS', 'By', 'Cert'] as const;

const endpoint = () =>
  str({
    emptyIsAbsent: true,
    check: checkEndpoint,
    code: ConfigCode.endpoint,
    pattern: '^[hH][tT][tT][pP][sS]?://',
    expected: 'an http:// or https:// URL',
    hint: 'write the backend as `http://HOST:PORT` or `https://HOST:PORT`',
  });
const urlPath = () =>
  str({ check: checkPath, code: ConfigCode.path, pattern: '^/', expected: 'a path', hint: 'start the path with `/`' });

const listener = (defaultAddress: string, what: string): Field => ({
  description: `The ${what} listener.`,
  spec: obj({
    address: {
      spec: address(),
      default: defaultAddress,
      description: `Listen address, \`HOST:PORT\` or \`:PORT\` (all interfaces). \`""\` or \`false\` turns the ${what} listener off.`,
    },
    enabled: { spec: bool(), default: true, description: `\`false\` turns the ${what} listener off.` },
    forwards: gomaRefused('Goma TCP/UDP forwarding rules; not supported by Gatehouse.'),
  }),
});

const serverCertificate = obj({
  cert: {
    spec: material('certificate'),
    required: true,
    description: 'Certificate chain, leaf first: a file path, inline PEM, or base64 of PEM.',
  },
  key: {
    spec: material('private-key'),
    required: true,
    description: 'Private key of `cert`: a file path, inline PEM, or base64 of PEM.',
  },
  passphrase: {
    spec: str({ emptyIsAbsent: true }),
    // biome-ignore lint/suspicious/noTemplateCurlyInString: describes the YAML `${ENV}` syntax
    description: 'Passphrase of an encrypted `key`. Write `${ENV_NAME}` to keep it out of the file.',
  },
});

const clientAuth = obj({
  clientCA: {
    spec: material('ca-bundle'),
    required: true,
    description: 'CA bundle that client certificates must chain to: file path, inline PEM, or base64 of PEM.',
  },
  required: {
    spec: bool(),
    default: false,
    description:
      '`true`: the TLS handshake fails without a valid client certificate. `false`: a certificate is optional but verified when presented.',
  },
  crl: {
    spec: material('crl'),
    description: 'Certificate revocation list (PEM) checked for every client certificate; reloaded when it changes.',
  },
});

function extraConfigFolder(what: string): ObjectSpec {
  return obj({
    directory: { spec: str({ emptyIsAbsent: true }), description: `Path of ${what}.` },
    watch: {
      spec: bool(),
      default: false,
      description:
        'Reload when a file in the folder is added, changed or removed (with `gateway.watch.enabled`); validated and rolled out like the main file.',
    },
  });
}

export const CANARY_SOURCES = ['header', 'query', 'cookie', 'ip'] as const;
export const CANARY_OPERATORS = [
  'equals',
  'not_equals',
  'contains',
  'not_contains',
  'starts_with',
  'ends_with',
  'regex',
  'in',
] as const;

const canaryCondition = obj({
  source: {
    spec: str({ enum: CANARY_SOURCES }),
    required: true,
    description: 'What is tested: a request header, a query parameter, a cookie, or the client address.',
  },
  name: {
    spec: str({ emptyIsAbsent: true }),
    description: 'Header, query parameter or cookie name (not for `ip`).',
  },
  operator: {
    spec: str({ enum: CANARY_OPERATORS }),
    default: 'equals',
    description:
      'How: `equals`, `not_equals`, `contains`, `not_contains`, `starts_with`, `ends_with`, `regex` (JavaScript syntax, compiled at load) or `in` (a comma-separated list). An absent header, parameter or cookie is the empty string, as in Goma.',
  },
  value: { spec: str(), required: true, description: 'The value compared with.' },
});

export const backendSpec = obj({
  endpoint: {
    spec: endpoint(),
    required: true,
    description: 'Backend URL, `http://` or `https://`, with port and an optional base path.',
  },
  weight: {
    spec: int(0, undefined, {
      code: ConfigCode.weight,
      hint: 'weights are relative shares: 80 and 20 send four times as many requests to the first',
    }),
    default: 1,
    description:
      'Share of requests relative to the other backends (smooth weighted round-robin). 0 takes it out of rotation.',
  },
  priority: {
    spec: int(),
    default: 0,
    description:
      'Between `exclusive` canaries whose `match` all hold, the higher number wins (as Goma); equal ones go to the first listed.',
  },
  match: {
    spec: arr(canaryCondition),
    description:
      'Canary: conditions on the request that must all hold for this backend to be picked. A backend with `match` takes no other traffic.',
  },
  exclusive: {
    spec: bool(),
    default: false,
    description:
      '`true`: a request this canary matches goes to it alone. `false`: it joins the backends without `match` in the weighted pool.',
  },
});

const healthCheck = obj({
  path: { spec: urlPath(), default: '/', description: 'Path probed on every backend.' },
  interval: { spec: duration(), default: '10s', description: 'Time between probes of one backend.' },
  timeout: { spec: duration(), default: '5s', description: 'Probe timeout; must be below `interval`.' },
  healthyStatuses: {
    spec: arr(statusRange()),
    description:
      'Statuses that count as healthy: numbers (`200`) or ranges (`"200-399"`). Default: any status below 400.',
  },
  fall: { spec: int(1, 100), default: 3, description: 'Consecutive failed probes that mark a backend down.' },
  rise: { spec: int(1, 100), default: 2, description: 'Consecutive good probes that mark a down backend up again.' },
  panic: {
    spec: bool(),
    default: false,
    description: 'When every backend is down, send traffic to all of them instead of answering 503.',
  },
  passive5xx: { spec: bool(), default: false, description: 'Count 5xx answers from a backend as passive failures.' },
  passiveFailures: {
    spec: int(1, 1000),
    default: 5,
    description: 'Consecutive passive failures (connect errors, resets, timeouts) that eject a backend.',
  },
  ejectionTime: { spec: duration(), default: '30s', description: 'Base time a passively ejected backend stays out.' },
  maxEjectionPercent: {
    spec: int(0, 100),
    default: 50,
    description: "At most this share of a route's backends is ejected passively at once.",
  },
});

const routeClientAuth = obj({
  mode: {
    spec: str({ enum: ['required', 'optional', 'off'] }),
    description:
      '`required`: no valid client certificate, no access (401; a certificate outside `allowedSubjects`/`allowedSANs` gets 403). `optional`: verified when presented. `off`: not asked for. Default `required` (or from `required`).',
  },
  required: {
    spec: bool(),
    description: 'Goma-style switch: `true` is `mode: required`, `false` is `mode: optional`.',
  },
  allowedSubjects: {
    spec: arr(str()),
    default: [],
    description:
      'Client subject DNs allowed, RFC 4514 order (`CN=x,O=y`). Matched RDN by RDN: the same number of RDNs, and a `*` in one RDN never crosses a `,` (nor an escaped `\\,`). Empty: any verified client.',
  },
  allowedSANs: {
    spec: arr(str({ check: checkSanPattern, code: ConfigCode.clientAuth, expected: 'a SAN pattern' })),
    default: [],
    description:
      'Client SANs allowed: `DNS:name`, `URI:uri`, `IP:address` or `email:address`; an entry without a prefix matches DNS names only. `*` globs. Empty: any verified client.',
  },
});

const clientIdentity = obj({
  header: {
    spec: str({ check: checkHeaderName, expected: 'a header name' }),
    default: DEFAULT_CLIENT_IDENTITY_HEADER,
    description:
      'Request header that carries the verified client identity to the backend; a client-sent one is removed first.',
  },
  fields: {
    spec: arr(str({ enum: CLIENT_IDENTITY_FIELDS })),
    default: [...DEFAULT_CLIENT_IDENTITY_FIELDS],
    description: 'Fields of the identity, in Envoy XFCC style.',
  },
});

export const routeSpec: ObjectSpec = obj(
  {
    name: { spec: str(), required: true, description: 'Unique route name; used in logs, metrics and /status.' },
    path: { spec: urlPath(), required: true, description: 'Path prefix the route matches.' },
    hosts: {
      spec: arr(str({ check: checkHost, code: ConfigCode.host, expected: 'a host name' })),
      default: [],
      description: 'Hosts the route matches (`api.example.com`, `*.example.com`, optional `:port`). Empty: any host.',
    },
    methods: {
      spec: arr(str({ check: checkMethod, code: ConfigCode.method, expected: 'an HTTP method' })),
      description: 'Methods the route matches. Absent or empty: any method.',
    },
    priority: {
      spec: int(),
      default: 0,
      description:
        'Match order, as in Goma: a route with a priority is tried before routes without one (0), and the lower number wins; it outranks host specificity and path length.',
    },
    enabled: { spec: bool(), default: true, description: '`false` keeps the route in the file but out of the router.' },
    disabled: {
      spec: bool(),
      deprecated: 'write `enabled: false`',
      description: 'Goma v1: `true` disables the route.',
    },
    rewrite: {
      spec: { ...urlPath(), emptyIsAbsent: true },
      description: 'Replaces the matched path prefix before forwarding (`/api` → `/`). `""`: no rewrite.',
    },
    target: { spec: endpoint(), description: 'A single backend URL. Ignored (with a warning) when `backends` is set.' },
    destination: {
      spec: endpoint(),
      alias: 'target',
      deprecated: 'write `target`',
      description: 'Goma v1 name of `target`.',
    },
    backends: {
      spec: arr(union('a backend ({endpoint, weight}) or an endpoint URL', backendSpec, endpoint())),
      description: 'Backends, balanced by weight.',
    },
    security: {
      description: 'Forwarding and backend TLS.',
      spec: obj({
        forwardHostHeaders: {
          spec: bool(),
          default: true,
          description:
            "Forward the client's Host and set X-Forwarded-Host/-Proto/-For. `false`: Host is the backend's.",
        },
        enableExploitProtection: {
          spec: bool(),
          default: false,
          description:
            'Refuse (403) query values with common SQL-injection and XSS patterns and paths with encoded traversal, and (400) malformed XML bodies or any DOCTYPE/ENTITY declaration. Pattern matching, not a WAF: see the README.',
        },
        tls: {
          optional: true,
          description: 'TLS towards the backends (and their health checks).',
          spec: obj({
            insecureSkipVerify: {
              spec: bool(),
              default: false,
              description: 'Do not verify the backend certificate. For development only.',
            },
            skipVerification: {
              spec: bool(),
              alias: 'insecureSkipVerify',
              description: 'Another Goma name of `insecureSkipVerify`.',
            },
            SkipVerification: {
              spec: bool(),
              alias: 'insecureSkipVerify',
              description: 'Older Goma name of `insecureSkipVerify`.',
            },
            rootCAs: {
              spec: material('ca-bundle'),
              description: 'CA bundle that backend certificates must chain to. Default: system roots.',
            },
            clientCert: {
              spec: material('certificate'),
              description: 'Client certificate presented to backends (needs `clientKey`).',
            },
            clientKey: { spec: material('private-key'), description: 'Private key of `clientCert`.' },
            serverName: {
              spec: str({ check: checkServerName, expected: 'a DNS name', emptyIsAbsent: true }),
              description: 'SNI sent to, and name verified in, the backend certificate. Default: the endpoint host.',
            },
          }),
        },
      }),
    },
    healthCheck: {
      spec: healthCheck,
      optional: true,
      offIsAbsent: true,
      description: "Active health checks of the route's backends. `{}` (Goma: no checks) is the same as absent.",
    },
    clientAuth: {
      spec: routeClientAuth,
      optional: true,
      description:
        "Per-route client-certificate policy, enforced after the handshake. Absent: the gateway's `tls.clientAuth` applies.",
    },
    clientIdentity: {
      spec: union('`false`, `true` or {header, fields}', bool(), clientIdentity),
      description:
        'Forward the verified client identity to the backend. Default: on (header x-forwarded-client-cert, fields Hash, Subject, URI, DNS) when client certificates are asked for.',
    },
    retry: {
      description:
        'Retries of a failed forward on another backend (only when nothing reached the backend or it reset).',
      spec: obj({
        attempts: { spec: int(0, 10), default: 1, description: 'Extra attempts after the first; 0 turns retries off.' },
        on: {
          spec: arr(str({ enum: ['connect-failure', 'reset'] })),
          default: ['connect-failure', 'reset'],
          description: 'Failures that are retried.',
        },
      }),
    },
    maxBodySize: {
      spec: size(),
      default: 0,
      description: "Request body limit for this route; 0 = the gateway's `limits.maxBodySize`.",
    },
    disableHostForwarding: {
      spec: bool(),
      deprecated: 'write `security.forwardHostHeaders: false`',
      description: 'Goma v1: `true` stops forwarding host headers.',
    },
    middlewares: {
      spec: arr(str()),
      default: [],
      description:
        'Names of `middlewares[]` run in order before the backend (after `gateway.defaults.middlewares`). An unknown name is an error.',
    },
    cors: {
      spec: corsSpec(true),
      optional: true,
      description:
        "Goma's route CORS block (deprecated in Goma; prefer a `responseHeaders` middleware): answered like `responseHeaders.cors`; replaces `gateway.cors`. `{}`: none.",
    },
    disableMetrics: {
      spec: bool(),
      default: false,
      description:
        "`true`: the route's requests are left out of the per-route metrics (they still count in the totals).",
    },
    errorInterceptor: gomaRefused('Goma error interception; not supported by Gatehouse.'),
    interceptErrors: gomaRefused('Goma v1 error interception; not supported by Gatehouse.'),
    blockCommonExploits: {
      spec: bool(),
      deprecated: 'write `security.enableExploitProtection`',
      description: 'Goma v1 name of `security.enableExploitProtection` (`true` turns it on).',
    },
    enableBotDetection: gomaRefused('Goma bot detection; not supported by Gatehouse.'),
    rateLimit: gomaRefused('Goma v1 rate limit; not supported by Gatehouse.'),
    insecureSkipVerify: {
      spec: bool(),
      deprecated: 'write `security.tls.insecureSkipVerify`',
      description: 'Goma v1: do not verify the backend certificate.',
    },
    tls: routeTlsField,
    maintenance: { spec: maintenanceSpec, optional: true, description: maintenanceDescription },
  },
  { defName: 'route' },
);

const gatewaySpec = obj({
  entryPoints: {
    description: 'Traffic listeners.',
    spec: obj({
      web: listener(':8080', 'plain HTTP'),
      webSecure: {
        ...listener(':8443', 'HTTPS'),
        description: 'The HTTPS listener. On by default only when `gateway.tls.certificates` is not empty.',
      },
      passThrough: passThroughField,
    }),
  },
  tls: {
    description: 'Server certificates and client-certificate authentication on the HTTPS listener.',
    spec: obj({
      certificates: { spec: arr(serverCertificate), default: [], description: 'Server certificates, chosen by SNI.' },
      keys: {
        spec: arr(serverCertificate),
        alias: 'certificates',
        deprecated: 'write `certificates`',
        description: 'Goma v1 name of `certificates`.',
      },
      default: {
        offIsAbsent: true,
        spec: union('a server name or {cert, key}', str(), serverCertificate),
        description:
          'Certificate for clients whose SNI matches none: a name served by one of `certificates`, or (Goma) a {cert, key} pair. Default: the first certificate.',
      },
      certsDir: {
        spec: str({ emptyIsAbsent: true }),
        description:
          'A folder of certificates, as Goma reads it: `NAME.crt`, `NAME.cert` or `NAME.pem` with `NAME.key`, chosen by SNI beside `certificates`. Watched: a pair added, replaced or removed rolls out like any certificate change. A key without its certificate gets a warning.',
      },
      minVersion: {
        spec: str({ enum: ['TLSv1.2', 'TLSv1.3'], aliases: { '1.2': 'TLSv1.2', '1.3': 'TLSv1.3' } }),
        default: 'TLSv1.2',
        description: 'Lowest TLS version accepted.',
      },
      ciphers: { spec: str(), default: DEFAULT_CIPHERS, description: 'OpenSSL cipher list for TLS 1.2.' },
      ecdhCurve: { spec: str(), default: DEFAULT_ECDH_CURVE, description: 'ECDHE groups, in preference order.' },
      sessionTicketRotation: {
        spec: duration(),
        default: '12h',
        description:
          'How often the session-ticket keys (shared by all workers) are rotated; tickets sealed with the previous key are still accepted until they expire (sessionTimeout) or the next rotation, whichever comes first.',
      },
      sessionTimeout: {
        spec: duration(),
        default: '300s',
        description:
          'How long a TLS session (TLS 1.2 session id or TLS 1.3 ticket) may be resumed. Any change of the client CA, CRL or client-auth mode ends every earlier session at once, whatever this says.',
      },
      expiryWarningDays: {
        spec: int(0, 3650),
        default: 14,
        description: 'Warn (log and metric) this many days before a certificate expires.',
      },
      clientAuth: {
        spec: clientAuth,
        optional: true,
        offIsAbsent: true,
        description: 'Mutual TLS: ask clients for certificates. `{}` (Goma: not set) is the same as absent.',
      },
    }),
  },
  timeouts: {
    description: 'Client and backend timeouts. Durations (`10s`, `1m30s`) or Goma integers (seconds).',
    spec: obj({
      requestHeader: {
        spec: duration(),
        default: '10s',
        description: 'All request headers must arrive within this (slowloris guard).',
      },
      readHeaderTimeout: { spec: duration(), alias: 'requestHeader', description: 'Another name of `requestHeader`.' },
      request: { spec: duration(), default: '60s', description: 'Whole request from the client, headers and body.' },
      readTimeout: { spec: duration(), alias: 'request', description: 'Another name of `request`.' },
      read: { spec: duration(), alias: 'request', description: 'Goma name of `request` (seconds).' },
      keepAlive: { spec: duration(), default: '60s', description: 'Idle keep-alive connection from a client.' },
      idleTimeout: { spec: duration(), alias: 'keepAlive', description: 'Another name of `keepAlive`.' },
      idle: { spec: duration(), alias: 'keepAlive', description: 'Goma name of `keepAlive` (seconds).' },
      write: goma('Goma response write timeout; Gatehouse bounds backends with `upstreamResponse` instead.'),
      writeTimeout: goma('Goma response write timeout; Gatehouse bounds backends with `upstreamResponse` instead.'),
      upstreamConnect: { spec: duration(), default: '5s', description: 'Connecting to a backend, TCP and TLS.' },
      upstreamResponse: {
        spec: duration(),
        default: '60s',
        description: 'Time to the first response byte from a backend.',
      },
      upstreamIdle: {
        spec: duration(),
        default: '4s',
        description:
          "Idle pooled backend connections are closed after this; keep it below the backends' keep-alive (Node: 5s).",
      },
      drain: {
        spec: duration(),
        default: '30s',
        description: 'How long a stopping worker waits for in-flight requests.',
      },
    }),
  },
  writeTimeout: goma('Goma v1 response write timeout; not supported by Gatehouse.'),
  readTimeout: {
    spec: duration(),
    deprecated: 'write `gateway.timeouts.request`',
    description: 'Goma v1: request timeout (seconds).',
  },
  idleTimeout: {
    spec: duration(),
    deprecated: 'write `gateway.timeouts.keepAlive`',
    description: 'Goma v1: keep-alive timeout (seconds).',
  },
  log: {
    description: 'Logging (pino).',
    spec: obj({
      level: {
        spec: str({
          enum: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'],
          aliases: { off: 'silent', warning: 'warn' },
        }),
        default: 'info',
        description: "Lowest level logged. Goma's `off` is `silent`.",
      },
      format: {
        spec: str({ enum: ['json', 'pretty'], aliases: { text: 'pretty' } }),
        default: 'json',
        description: "`json`: one JSON object per line. `pretty`: for humans (Goma's `text`).",
      },
      accessLog: { spec: bool(), default: true, description: 'One access-log line per request.' },
      filePath: goma('Goma log file; Gatehouse logs to stdout (use systemd/journald or a shipper).'),
      maxAgeDays: goma('Goma log rotation; not supported by Gatehouse.'),
      maxBackups: goma('Goma log rotation; not supported by Gatehouse.'),
      maxSizeMB: goma('Goma log rotation; not supported by Gatehouse.'),
    }),
  },
  monitoring: {
    description: 'Health and metrics endpoints on the traffic listeners (the admin listener always has them).',
    spec: obj({
      enableMetrics: {
        spec: bool(),
        default: false,
        description: 'Serve Prometheus metrics on the traffic listeners.',
      },
      metricsPath: { spec: urlPath(), default: '/metrics', description: 'Path of the metrics endpoint.' },
      enableReadiness: { spec: bool(), default: true, description: 'Serve `/readyz`.' },
      enableLiveness: { spec: bool(), default: true, description: 'Serve `/healthz`.' },
      enableRouteHealthCheck: { spec: bool(), default: false, description: 'Serve `/healthz/routes`.' },
      includeRouteHealthErrors: goma('Goma route-health error detail; not supported by Gatehouse.'),
      host: {
        spec: str({ emptyIsAbsent: true, check: checkHost, code: ConfigCode.host, expected: 'a host name' }),
        description:
          '`/metrics` and `/healthz/routes` on the traffic listeners answer only requests for this Host (others go to the routes). Absent: any Host.',
      },
      middleware: gomaRefused('Goma monitoring middlewares; use the admin listener instead.'),
      visitorTTL: goma('Goma visitor gauge; not supported by Gatehouse.'),
    }),
  },
  admin: {
    description: 'The admin listener (/metrics, /status, /healthz, /readyz, reload) and control socket.',
    spec: obj({
      address: {
        spec: address(),
        default: '127.0.0.1:9180',
        description: 'Admin HTTP listen address. `""` or `false` turns it off. Never expose it publicly.',
      },
      socket: {
        spec: union('a socket path or `false`', bool(), str()),
        description: 'Unix socket for `gatehouse status|reload`. Absent or `false`: off.',
      },
      pidFile: { spec: str({ emptyIsAbsent: true }), description: "Write the primary's PID here." },
      token: {
        spec: str({
          check: checkAdminToken,
          code: ConfigCode.admin,
          expected: 'a token of at least 16 printable characters',
          // biome-ignore lint/suspicious/noTemplateCurlyInString: describes the YAML `${ENV}` syntax
          hint: 'generate one with `openssl rand -hex 32`; write `${ADMIN_TOKEN}` to keep it out of the file',
        }),
        description:
          'Admin bearer token: every admin endpoint but `/healthz` and `/readyz` then needs `Authorization: Bearer TOKEN` (the CLI sends it). 16+ characters; required when `address` is not loopback.',
      },
    }),
  },
  limits: {
    description: 'Request limits that protect the gateway.',
    spec: obj({
      maxHeaderBytes: { spec: size(), default: '16KiB', description: 'Largest request head (line and headers).' },
      maxHeaderCount: { spec: int(1, 10_000), default: 100, description: 'Most request headers.' },
      maxUrlLength: { spec: size(), default: '8KiB', description: 'Longest request target (answered 414).' },
      maxBodySize: {
        spec: size(),
        default: '10MiB',
        description: 'Largest request body (answered 413); 0 = unlimited.',
      },
      maxConnectionsPerWorker: {
        spec: int(0),
        default: 10_000,
        description: 'Open client connections per worker; 0 = unlimited.',
      },
      maxConcurrentStreams: { spec: int(1, 10_000), default: 100, description: 'HTTP/2 streams per connection.' },
      h2MaxResetsPerWindow: {
        spec: int(1),
        default: 200,
        description:
          'HTTP/2 stream resets a client may send within `h2ResetWindow` before its session is closed (rapid-reset guard).',
      },
      h2ResetWindow: { spec: duration(), default: '10s', description: 'Window of `h2MaxResetsPerWindow`.' },
    }),
  },
  proxy: {
    description: 'Client address handling behind other proxies.',
    spec: obj({
      trustedProxies: {
        spec: arr(str({ check: checkCidr, code: ConfigCode.cidr, expected: 'an IP address or CIDR' })),
        default: [],
        description: "Addresses or CIDRs (IPv4 and IPv6) whose X-Forwarded-* headers are believed. Empty: nobody's.",
      },
      allowUnderscoresInHeaders: {
        spec: bool(),
        default: false,
        description:
          'Pass request headers with `_` in their names (dropped by default, as by nginx). Even then, a name that reads as a header Gatehouse sets once `_` is `-` is dropped.',
      },
      enabled: {
        spec: bool(),
        description:
          "Goma's switch. `false`: nobody's forwarded headers are believed, whatever `trustedProxies` says. Absent: `trustedProxies` decides.",
      },
      ipHeaders: {
        spec: arr(
          str({
            enum: ['X-Forwarded-For'],
            hint: 'Gatehouse takes the client address only from X-Forwarded-For sent by `trustedProxies`: have the proxy in front set it, and list only `X-Forwarded-For` here',
          }),
        ),
        description:
          'Goma: headers that carry the client address. Gatehouse reads only `X-Forwarded-For` (from `trustedProxies`); any other header is refused.',
      },
    }),
  },
  watch: {
    description: 'Hot reload of the config and certificate files.',
    spec: obj({
      enabled: {
        spec: bool(),
        default: true,
        description: 'Watch the config and every certificate file; reload on change.',
      },
      pollInterval: {
        spec: duration(),
        default: '10s',
        description: 'Slow polling that catches changes the watcher missed (network file systems).',
      },
      debounce: {
        spec: duration(),
        default: '200ms',
        description: 'Wait this long after the last change before reloading.',
      },
      pairGrace: {
        spec: duration(),
        default: '5s',
        description:
          'A certificate and its key that do not match yet (one written before the other during a rotation) are waited for this long, logged at info; only a pair still mismatched after it is a rejected reload.',
      },
    }),
  },
  workers: { spec: int(0, 1024), default: 0, description: 'Worker processes; 0 = one per CPU core. `--workers` wins.' },
  routes: { spec: arr(routeSpec), default: [], description: 'Routes (Goma also allows them here, under `gateway`).' },
  redis: redisField,
  networking: goma('Goma outbound transport tuning; Gatehouse uses `timeouts` and per-route TLS.'),
  disableHealthCheckStatus: goma('Goma switch; not supported by Gatehouse.'),
  disableRouteHealthCheckError: goma('Goma switch; not supported by Gatehouse.'),
  disableDisplayRouteOnStart: goma('Goma switch; not supported by Gatehouse.'),
  disableKeepAlive: goma('Goma switch; not supported by Gatehouse.'),
  strictSlash: {
    spec: bool(),
    default: true,
    description:
      'As Goma: a request for a route path written with a trailing slash (`/docs/`) but sent without it (`/docs`) is redirected (301) to the slash form. `false`: it is served as is.',
  },
  enableStrictSlash: { spec: bool(), alias: 'strictSlash', description: 'Goma name of `strictSlash`.' },
  enableMetrics: goma('Goma v1 metrics switch; use `gateway.monitoring.enableMetrics`.'),
  enableExploitProtection: gomaRefused('Goma exploit blocking; not supported by Gatehouse.'),
  blockCommonExploits: gomaRefused('Goma exploit blocking; not supported by Gatehouse.'),
  rateLimit: gomaRefused('Goma v1 rate limit; not supported by Gatehouse.'),
  interceptErrors: gomaRefused('Goma v1 error interception; not supported by Gatehouse.'),
  errorInterceptor: gomaRefused('Goma error interception; not supported by Gatehouse.'),
  cors: {
    spec: corsSpec(true),
    optional: true,
    description:
      "Goma's gateway CORS block (deprecated in Goma; prefer a `responseHeaders` middleware): CORS on every route without its own `cors`. `{}`: none.",
  },
  extraConfig: {
    optional: true,
    offIsAbsent: true,
    description:
      'A folder of more config files (`*.yaml`, `*.yml`, `*.json`, sub-folders included), each holding `routes:` and/or `middlewares:`, merged into this one.',
    spec: extraConfigFolder('the folder, relative to this file'),
  },
  middlewares: {
    spec: arr(middlewareSpec),
    default: [],
    description: 'Middleware definitions (Goma also allows them here, under `gateway`).',
  },
  defaults: {
    description: 'Defaults applied to every route.',
    spec: obj({
      middlewares: {
        spec: arr(str()),
        default: [],
        description:
          'Middleware names prepended to every route, except a name the route lists itself (which keeps its place in the route).',
      },
    }),
  },
  debug: goma('Goma debug mode; use `gateway.log.level: debug`.'),
  reload: goma('Goma reload endpoint; Gatehouse reloads on SIGHUP, file change, or the admin listener.'),
  providers: {
    optional: true,
    offIsAbsent: true,
    description: 'Goma providers of more routes and middlewares. Gatehouse reads the `file` provider.',
    spec: obj({
      file: {
        optional: true,
        offIsAbsent: true,
        description: 'A folder read exactly as `gateway.extraConfig`, when `enabled`.',
        spec: obj({
          enabled: { spec: bool(), default: false, description: '`true` reads the folder.' },
          ...extraConfigFolder('the folder, relative to this file').fields,
        }),
      },
      http: gomaRefused('Goma HTTP provider; not supported by Gatehouse: put the files in a `file` provider folder.'),
      git: gomaRefused(
        'Goma Git provider; not supported by Gatehouse: check the repository out into a `file` provider folder.',
      ),
    }),
  },
  analytics: goma('Goma analytics; not supported by Gatehouse.'),
  geoip: goma('Goma GeoIP; not supported by Gatehouse.'),
});

/** The whole file. */
export const configSpec: ObjectSpec = obj(
  {
    version: {
      spec: {
        ...literal(2, '2'),
        code: ConfigCode.version,
        hint: 'Gatehouse reads the Goma Gateway v2 format; write `version: 2` or leave it out',
      },
      default: 2,
      description: 'Config format version. Gatehouse reads the Goma Gateway v2 format: 2 (the default).',
    },
    gateway: { spec: gatewaySpec, description: 'Listeners, TLS, timeouts, logging and limits.' },
    routes: { spec: arr(routeSpec), default: [], description: 'Routes: which requests go to which backends.' },
    middlewares: {
      spec: arr(middlewareSpec),
      default: [],
      description: 'Middleware definitions: `{name, type, paths, rule}`; routes name them in `middlewares`.',
    },
    certManager: certManagerField,
    certificateManager: {
      ...certManagerField,
      alias: 'certManager',
      deprecated: 'write `certManager`',
    },
    plugins: gomaRefused(
      'Goma Go plugins (`.so` modules); Gatehouse cannot load Go code: put the logic in a backend or a forward-auth service.',
    ),
  },
  { extensions: true },
);
