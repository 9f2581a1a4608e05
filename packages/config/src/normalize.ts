// From the walked, type-checked plain data to the normalised GatewayConfig: applies the rules that
// span several keys (target vs backends, clientCert with clientKey, health-check timing, duplicate
// names, Goma's older spellings) and fills what depends on other keys (client identity defaults).
import { dirname, isAbsolute, resolve } from 'node:path';
import { isLoopbackAddress } from './admin.ts';
import { checkChallengeListeners, normalizeCertManager } from './cert-manager.ts';
import { parseCidr } from './cidr.ts';
import { asMaterialRef as ref } from './material-ref.ts';
import { normalizeRedis } from './redis.ts';
import { ConfigCode } from './diagnostics.ts';
import { formatDuration } from './duration.ts';
import { normalizePassThrough } from './pass-through.ts';
import {
  DEFAULT_CLIENT_IDENTITY_FIELDS,
  DEFAULT_CLIENT_IDENTITY_HEADER,
  DEFAULT_HEALTHY_STATUSES,
  backendSpec,
} from './schema.ts';
import type {
  BackendConfig,
  ClientAuthConfig,
  ClientIdentityConfig,
  CanaryCondition,
  CanaryOperator,
  CanarySource,
  ClientIdentityField,
  ExtraConfigSource,
  GatewayConfig,
  HealthCheckConfig,
  ListenAddress,
  RetryCondition,
  RouteClientAuthConfig,
  RouteConfig,
  ServerCertificateConfig,
  SourcePos,
  TlsConfig,
  UpstreamTlsConfig,
} from './types.ts';
import type { Plain, WalkContext } from './walk.ts';
import { applyCorsBlocks } from './cors-blocks.ts';
import { normalizeCors } from './middleware/limits-rules.ts';
import { maintenanceOf, normalizeMiddlewares, resolveRouteMiddlewares, ruleContext } from './middleware/normalize.ts';

/** `target: URL` and `- URL` in `backends` are a backend written without its keys. */
const STRING_BACKEND_WEIGHT = backendSpec.fields.weight?.default as number;

function section(value: unknown): Plain {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Plain) : {};
}
function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
// Defaults live in the spec table only: the walk has filled every key that has one, so a value is
// missing here only where the walk reported an error (the config is refused), or where the table
// gives no default. The neutral 0 and false below are never a second copy of a default.
function num(value: unknown): number {
  return typeof value === 'number' ? value : 0;
}
function bool(value: unknown): boolean {
  return value === true;
}
function text(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}
function address(value: unknown, fallback: ListenAddress | null): ListenAddress | null {
  if (value === null) return null;
  if (value !== undefined && typeof value === 'object' && 'port' in value) return value as ListenAddress;
  return fallback;
}

export class Normalizer {
  readonly ctx: WalkContext;

  constructor(ctx: WalkContext) {
    this.ctx = ctx;
  }

  /** Where `path` is in the file: the value, else its key, else the nearest enclosing key. */
  at(path: string): SourcePos {
    let probe = path;
    for (;;) {
      const found = this.ctx.values.get(probe) ?? this.ctx.keys.get(probe);
      if (found && found.line > 0) return { ...found, path };
      const cut = Math.max(probe.lastIndexOf('.'), probe.lastIndexOf('['));
      if (cut <= 0) return { file: this.ctx.file, line: 1, col: 1, path };
      probe = probe.slice(0, cut);
    }
  }

  keyAt(path: string): SourcePos {
    const found = this.ctx.keys.get(path);
    return found ? { ...found, path } : this.at(path);
  }

  present(path: string): boolean {
    return this.ctx.keys.has(path);
  }

  config(raw: Plain): GatewayConfig {
    const gateway = section(raw.gateway);
    const tls = this.tls(section(gateway.tls));
    const entryPoints = section(gateway.entryPoints);
    const listener = (name: 'web' | 'webSecure'): ListenAddress | null => {
      const entry = section(entryPoints[name]);
      if (entry.enabled === false) return null;
      return address(entry.address, null);
    };
    const timeouts = section(gateway.timeouts);
    const timeout = (key: string, gomaKey: string | null): number => {
      if (gomaKey && !this.present(`gateway.timeouts.${key}`) && typeof gateway[gomaKey] === 'number') {
        return gateway[gomaKey] as number;
      }
      return num(timeouts[key]);
    };
    const log = section(gateway.log);
    const monitoring = section(gateway.monitoring);
    const admin = section(gateway.admin);
    const limits = section(gateway.limits);
    const watch = section(gateway.watch);
    const socket = admin.socket;

    const config: GatewayConfig = {
      version: 2,
      file: this.ctx.file,
      gateway: {
        entryPoints: {
          web: listener('web'),
          webSecure: listener('webSecure'),
          passThrough: { forwards: [], udpSessionIdleMs: 0, udpMaxSessions: 0 },
        },
        tls,
        timeouts: {
          requestHeaderMs: timeout('requestHeader', null),
          requestMs: timeout('request', 'readTimeout'),
          keepAliveMs: timeout('keepAlive', 'idleTimeout'),
          upstreamConnectMs: timeout('upstreamConnect', null),
          upstreamResponseMs: timeout('upstreamResponse', null),
          upstreamIdleMs: timeout('upstreamIdle', null),
          drainMs: timeout('drain', null),
        },
        log: {
          level: (text(log.level) ?? '') as GatewayConfig['gateway']['log']['level'],
          format: (text(log.format) ?? '') as 'json' | 'pretty',
          accessLog: bool(log.accessLog),
        },
        monitoring: {
          enableLiveness: bool(monitoring.enableLiveness),
          enableReadiness: bool(monitoring.enableReadiness),
          enableRouteHealthCheck: bool(monitoring.enableRouteHealthCheck),
          enableMetrics: bool(monitoring.enableMetrics),
          metricsPath: text(monitoring.metricsPath) ?? '',
          host: text(monitoring.host)?.toLowerCase().replace(/\.$/, '') ?? null,
        },
        admin: {
          address: address(admin.address, null),
          socket: typeof socket === 'string' && socket !== '' ? this.besideConfig(socket) : null,
          pidFile: this.besideConfig(text(admin.pidFile)),
          token: text(admin.token),
        },
        limits: {
          maxHeaderBytes: num(limits.maxHeaderBytes),
          maxHeaderCount: num(limits.maxHeaderCount),
          maxUrlLength: num(limits.maxUrlLength),
          maxBodyBytes: num(limits.maxBodySize),
          maxConnectionsPerWorker: num(limits.maxConnectionsPerWorker),
          maxConcurrentStreams: num(limits.maxConcurrentStreams),
          h2MaxResetsPerWindow: num(limits.h2MaxResetsPerWindow),
          h2ResetWindowMs: num(limits.h2ResetWindow),
        },
        proxy: {
          // Goma's `enabled: false` turns the trust off whatever the list says.
          trustedProxies: (section(gateway.proxy).enabled === false ? [] : list(section(gateway.proxy).trustedProxies))
            .map((c) => (typeof c === 'string' ? parseCidr(c) : null))
            .flatMap((p) => (p && 'cidr' in p ? [p.cidr] : [])),
          allowUnderscoresInHeaders: bool(section(gateway.proxy).allowUnderscoresInHeaders),
        },
        watch: {
          enabled: bool(watch.enabled),
          pollIntervalMs: num(watch.pollInterval),
          debounceMs: num(watch.debounce),
          pairGraceMs: num(watch.pairGrace),
        },
        workers: num(gateway.workers),
        redis: normalizeRedis(gateway.redis),
        strictSlash: bool(gateway.strictSlash),
        extraConfig: this.extraConfig(gateway),
        cors:
          gateway.cors === undefined
            ? null
            : normalizeCors(
                section(gateway.cors),
                ruleContext(this, 'gateway.cors', this.ctx.configDir),
                'gateway.cors',
                true,
              ),
      },
      routes: [],
      certManager: null,
      middlewares: [],
    };
    const middlewares = normalizeMiddlewares(this, raw);
    config.middlewares = middlewares.list;
    if (config.gateway.redis?.tls) this.clientPair('gateway.redis.tls');
    const listenerAsksForCerts = tls.clientAuth !== null;
    const routes: RouteConfig[] = [];
    list(gateway.routes).forEach((r, i) => {
      routes.push(this.route(section(r), `gateway.routes[${i}]`, listenerAsksForCerts, tls.clientAuth));
    });
    list(raw.routes).forEach((r, i) => {
      routes.push(this.route(section(r), `routes[${i}]`, listenerAsksForCerts, tls.clientAuth));
    });
    const firstByName = new Map<string, RouteConfig>();
    for (const route of routes) {
      if (route.name === '') continue;
      const first = firstByName.get(route.name);
      if (first) {
        const namePath = `${route.at.path}.name`;
        this.ctx.diags.error(
          ConfigCode.duplicateRoute,
          this.at(namePath),
          `${namePath}: route name "${route.name}" is already used by ${first.at.path} (${first.at.file === route.at.file ? `line ${first.at.line}` : `${first.at.file}:${first.at.line}`})`,
          'give every route a unique `name`; it keys logs, metrics and health state',
        );
      } else {
        firstByName.set(route.name, route);
      }
    }
    resolveRouteMiddlewares(this, raw, routes, middlewares.names);
    // Routes were built from gateway.routes, then routes, in that order.
    const writtenCors = [...list(gateway.routes), ...list(raw.routes)].map((r) => section(r).cors);
    const corsWarning = (path: string, message: string, hint: string) =>
      this.ctx.diags.warning(ConfigCode.corsReplaced, this.at(path), `${path}: ${message}`, hint);
    applyCorsBlocks({ warning: corsWarning }, writtenCors, routes, config.gateway.cors, middlewares.list);
    config.routes = routes;
    config.certManager = normalizeCertManager(this, raw.certManager, routes);
    this.listeners(config);
    config.gateway.entryPoints.passThrough = normalizePassThrough(this, entryPoints.passThrough, config);
    checkChallengeListeners(this, config);
    return config;
  }

  private extraConfig(gateway: Plain): ExtraConfigSource[] {
    const out: ExtraConfigSource[] = [];
    const add = (raw: Plain, path: string) => {
      const directory = this.besideConfig(text(raw.directory));
      if (directory === null) {
        this.ctx.diags.error(
          ConfigCode.required,
          this.at(path),
          `${path}: \`directory\` is required`,
          'add `directory:` with the folder that holds the extra route and middleware files',
        );
        return;
      }
      out.push({ directory, watch: bool(raw.watch), at: this.at(`${path}.directory`) });
    };
    if (gateway.extraConfig !== undefined) add(section(gateway.extraConfig), 'gateway.extraConfig');
    const file = section(section(gateway.providers).file);
    if (file.enabled === true) add(file, 'gateway.providers.file');
    return out;
  }

  /** Paths in the config are relative to the config file, as certificate paths are (material-ref.ts). */
  private besideConfig(path: string | null): string | null {
    if (path === null || isAbsolute(path) || !isAbsolute(this.ctx.file)) return path;
    return resolve(dirname(this.ctx.file), path);
  }

  private listeners(config: GatewayConfig): void {
    const entryPoints = config.gateway.entryPoints;
    const { tls } = config.gateway;
    // A certificate manager brings certificates (and the default one until they come): HTTPS stays on.
    const automatic = (config.certManager?.providers.length ?? 0) > 0 || tls.certsDir !== null;
    if (entryPoints.webSecure !== null && tls.certificates.length === 0 && !automatic) {
      // HTTPS is on by default only when there is a certificate to serve (Goma would generate a
      // self-signed one; we would rather not serve a certificate nobody trusts).
      const explicit = ['gateway.entryPoints.webSecure.address', 'gateway.entryPoints.webSecure.enabled'].find((p) =>
        this.present(p),
      );
      // Asked for explicitly: a warning, not an error, so that a Goma file that relied on Goma's
      // generated certificate still runs (HTTP only) and says why HTTPS is off.
      const certificatesInvalid = this.ctx.diags.errors.some((e) => e.path.startsWith('gateway.tls.certificates'));
      if (explicit && !certificatesInvalid) {
        this.ctx.diags.warning(
          ConfigCode.noCertificate,
          this.keyAt(explicit),
          `${explicit}: the HTTPS listener is off because \`gateway.tls.certificates\` is empty`,
          'add a certificate under `gateway.tls.certificates` (`- cert: ...` and `key: ...`), or set `address: ""` to silence this',
        );
      }
      entryPoints.webSecure = null;
    }
    if (tls.clientAuth !== null && entryPoints.webSecure === null && tls.certificates.length === 0) {
      this.ctx.diags.warning(
        ConfigCode.clientAuth,
        this.keyAt('gateway.tls.clientAuth'),
        'gateway.tls.clientAuth: has no effect: there is no HTTPS listener without `gateway.tls.certificates`',
        'add the server certificate under `gateway.tls.certificates`',
      );
    }
    const { web, webSecure } = entryPoints;
    const admin = config.gateway.admin.address;
    // A listener whose address was refused is unknown here, not off: that error is the one to read.
    const addressRefused = this.ctx.diags.errors.some((e) => e.path.startsWith('gateway.entryPoints.'));
    if (web === null && webSecure === null && !addressRefused) {
      this.ctx.diags.error(
        ConfigCode.address,
        this.at('gateway.entryPoints'),
        'gateway.entryPoints: both the web and the webSecure listener are off',
        'give `gateway.entryPoints.web.address` or `webSecure.address` a value such as `":8080"`',
      );
    }
    const clash = (a: ListenAddress | null, b: ListenAddress | null) =>
      a !== null && b !== null && a.port === b.port && (a.host === b.host || a.host === '' || b.host === '');
    if (clash(web, webSecure)) {
      this.ctx.diags.error(
        ConfigCode.address,
        this.at('gateway.entryPoints.webSecure.address'),
        `gateway.entryPoints.webSecure.address: port ${webSecure?.port} is also the web listener's port`,
        'give each listener its own port',
      );
    }
    if (admin !== null && !isLoopbackAddress(admin) && config.gateway.admin.token === null) {
      const tokenInvalid = this.ctx.diags.errors.some((e) => e.path === 'gateway.admin.token');
      if (!tokenInvalid) {
        this.ctx.diags.error(
          ConfigCode.admin,
          this.at('gateway.admin.address'),
          `gateway.admin.address: "${admin.raw}" can be reached from other machines, and \`gateway.admin.token\` is not set`,
          // biome-ignore lint/suspicious/noTemplateCurlyInString: describes the YAML `${ENV}` syntax
          'set `gateway.admin.token` (e.g. `${ADMIN_TOKEN}`), or listen on loopback: `"127.0.0.1:9180"`',
        );
      }
    }
    for (const [name, other] of [
      ['web', web],
      ['webSecure', webSecure],
    ] as const) {
      if (clash(admin, other)) {
        this.ctx.diags.error(
          ConfigCode.address,
          this.at('gateway.admin.address'),
          `gateway.admin.address: port ${admin?.port} is also the ${name} listener's port`,
          'give the admin listener its own port, e.g. `"127.0.0.1:9180"`',
        );
      }
    }
  }

  private certificate(raw: Plain): ServerCertificateConfig | null {
    const cert = ref(raw.cert);
    const key = ref(raw.key);
    if (!cert || !key) return null;
    return { cert, key, passphrase: text(raw.passphrase) };
  }

  private tls(raw: Plain): TlsConfig {
    const certificates = list(raw.certificates).flatMap((c) => {
      const cert = this.certificate(section(c));
      return cert ? [cert] : [];
    });
    let defaultName: string | null = null;
    if (typeof raw.default === 'string') defaultName = raw.default.toLowerCase();
    else if (raw.default && typeof raw.default === 'object') {
      // Goma's `default: {cert, key}`: served first, so it is the default when nothing matches.
      const cert = this.certificate(section(raw.default));
      if (cert) certificates.unshift(cert);
    }
    const clientAuthRaw = raw.clientAuth === undefined ? null : section(raw.clientAuth);
    let clientAuth: ClientAuthConfig | null = null;
    if (clientAuthRaw) {
      clientAuth = {
        clientCA: ref(clientAuthRaw.clientCA),
        required: bool(clientAuthRaw.required),
        crl: ref(clientAuthRaw.crl),
      };
    }
    return {
      certificates,
      certsDir: this.besideConfig(text(raw.certsDir)),
      defaultName,
      clientAuth,
      minVersion: (text(raw.minVersion) ?? '') as 'TLSv1.2' | 'TLSv1.3',
      ciphers: text(raw.ciphers) ?? '',
      ecdhCurve: text(raw.ecdhCurve) ?? '',
      sessionTicketRotationMs: num(raw.sessionTicketRotation),
      sessionTimeoutMs: num(raw.sessionTimeout),
      expiryWarningDays: num(raw.expiryWarningDays),
    };
  }

  private route(
    raw: Plain,
    path: string,
    listenerAsksForCerts: boolean,
    gatewayClientAuth: ClientAuthConfig | null,
  ): RouteConfig {
    // Built even when name or path is invalid, so that every later check still runs and reports.
    const name = text(raw.name) ?? '';
    const routePath = text(raw.path) ?? '';
    const at = this.at(path);
    const backends = this.backends(raw, path);
    const security = section(raw.security);
    const clientAuth = this.routeClientAuth(raw, path, gatewayClientAuth);
    const asksForCerts = clientAuth ? clientAuth.mode !== 'off' : listenerAsksForCerts;
    const methods = raw.methods === undefined ? null : list(raw.methods).map((m) => String(m).toUpperCase());
    let forwardHostHeaders = bool(security.forwardHostHeaders);
    if (!this.present(`${path}.security.forwardHostHeaders`) && raw.disableHostForwarding === true) {
      forwardHostHeaders = false;
    }
    const retry = section(raw.retry);
    return {
      name,
      path: routePath.length > 1 ? routePath.replace(/\/+$/, '') || '/' : routePath,
      hosts: list(raw.hosts).map((h) => String(h).toLowerCase().replace(/\.$/, '')),
      methods: methods && methods.length > 0 ? [...new Set(methods)] : null,
      priority: num(raw.priority),
      enabled: this.present(`${path}.enabled`) ? bool(raw.enabled) : raw.disabled !== true,
      trailingSlash: routePath.length > 1 && routePath.endsWith('/'),
      disableMetrics: bool(raw.disableMetrics),
      rewrite: text(raw.rewrite),
      backends,
      security: {
        forwardHostHeaders,
        // Goma v1's route-level switch turns it on whatever security says, as in Goma.
        exploitProtection: bool(security.enableExploitProtection) || raw.blockCommonExploits === true,
        tls: this.upstreamTls(
          // Goma v1's route-level switch, when security.tls does not say otherwise.
          raw.insecureSkipVerify === true && !this.present(`${path}.security.tls.insecureSkipVerify`)
            ? { ...section(security.tls), insecureSkipVerify: true }
            : security.tls,
          `${path}.security.tls`,
        ),
      },
      healthCheck: this.healthCheck(raw.healthCheck, `${path}.healthCheck`),
      clientAuth,
      clientIdentity: this.clientIdentity(raw.clientIdentity, asksForCerts),
      retry: {
        attempts: num(retry.attempts),
        on: list(retry.on).filter((c): c is RetryCondition => c === 'connect-failure' || c === 'reset'),
      },
      maxBodyBytes: num(raw.maxBodySize),
      tlsProvider: raw.tls === undefined ? null : text(section(raw.tls).provider),
      middlewares: list(raw.middlewares).map(String),
      maintenance: maintenanceOf(raw.maintenance),
      cors:
        raw.cors === undefined
          ? null
          : normalizeCors(
              section(raw.cors),
              ruleContext(this, `${path}.cors`, this.ctx.configDir),
              `${path}.cors`,
              true,
            ),
      at,
    };
  }

  private backends(raw: Plain, path: string): BackendConfig[] {
    const hasBackends = this.present(`${path}.backends`);
    const hasTarget = this.present(`${path}.target`);
    if (hasBackends && hasTarget) {
      this.ctx.diags.warning(
        ConfigCode.targetAndBackends,
        this.keyAt(`${path}.target`),
        `${path}.target: both \`target\` and \`backends\` are set; \`target\` is ignored`,
        'remove `target`, or list it under `backends`',
      );
    }
    const out: BackendConfig[] = [];
    if (hasBackends) {
      list(raw.backends).forEach((b, i) => {
        const itemPath = `${path}.backends[${i}]`;
        if (typeof b === 'string') {
          const backend = this.backend(b, STRING_BACKEND_WEIGHT, 0, this.at(itemPath));
          if (backend) out.push(backend);
          return;
        }
        const item = section(b);
        if (typeof item.endpoint !== 'string') return;
        const backend = this.backend(item.endpoint, num(item.weight), num(item.priority), this.at(itemPath));
        if (backend) {
          backend.match = this.canaryConditions(item.match, `${itemPath}.match`);
          backend.exclusive = bool(item.exclusive);
          out.push(backend);
        }
      });
      if (Array.isArray(raw.backends) && raw.backends.length === 0) {
        this.ctx.diags.error(
          ConfigCode.noBackend,
          this.keyAt(`${path}.backends`),
          `${path}.backends: the list is empty`,
          'list at least one backend: `- endpoint: http://HOST:PORT`',
        );
      }
    } else if (typeof raw.target === 'string') {
      const backend = this.backend(raw.target, STRING_BACKEND_WEIGHT, 0, this.at(`${path}.target`));
      if (backend) out.push(backend);
    } else if (!hasTarget) {
      this.ctx.diags.error(
        ConfigCode.noBackend,
        this.at(path),
        `${path}: route${typeof raw.name === 'string' ? ` "${raw.name}"` : ''} has neither \`target\` nor \`backends\``,
        'add `target: http://HOST:PORT`, or `backends:` with one `- endpoint: ...` per backend',
      );
    }
    // Health state and metrics are keyed by (route, endpoint): one endpoint twice would share them.
    const seen = new Map<string, BackendConfig>();
    for (const backend of out) {
      const first = seen.get(backend.endpoint);
      if (first) {
        this.ctx.diags.error(
          ConfigCode.duplicateBackend,
          backend.at,
          `${backend.at.path}: endpoint ${backend.endpoint} is already listed (line ${first.at.line})`,
          'list each endpoint once; give it a larger `weight` to send it more traffic',
        );
      } else {
        seen.set(backend.endpoint, backend);
      }
    }
    return out;
  }

  private backend(endpoint: string, weight: number, priority: number, at: SourcePos): BackendConfig | null {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      return null; // reported by the spec check
    }
    const protocol = url.protocol as 'http:' | 'https:';
    const basePath = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') || '/' : '/';
    return {
      endpoint,
      protocol,
      hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port === '' ? (protocol === 'https:' ? 443 : 80) : Number(url.port),
      basePath,
      weight,
      priority,
      match: [],
      exclusive: false,
      at,
    };
  }

  /** Goma's canary conditions; a regex that does not compile is an error here, never per request. */
  private canaryConditions(value: unknown, path: string): CanaryCondition[] {
    const out: CanaryCondition[] = [];
    list(value).forEach((c, i) => {
      const raw = section(c);
      const at = `${path}[${i}]`;
      const source = text(raw.source) as CanarySource | null;
      const operator = (text(raw.operator) ?? '') as CanaryOperator;
      const conditionValue = raw.value === undefined || raw.value === null ? null : String(raw.value);
      if (source === null || conditionValue === null) return; // reported by the spec walk
      const name = text(raw.name) ?? '';
      if (source !== 'ip' && name === '') {
        this.ctx.diags.error(
          ConfigCode.required,
          this.at(at),
          `${at}: a \`${source}\` condition needs \`name\``,
          `add \`name:\` with the ${source} to test`,
        );
        return;
      }
      if (operator === 'regex') {
        try {
          new RegExp(conditionValue);
        } catch (error) {
          this.ctx.diags.error(
            ConfigCode.type,
            this.at(`${at}.value`),
            `${at}.value: not a regular expression: ${(error as Error).message}`,
            'write a JavaScript regular expression, without surrounding slashes',
          );
          return;
        }
      }
      out.push({ source, name: source === 'header' ? name.toLowerCase() : name, operator, value: conditionValue });
    });
    return out;
  }

  private upstreamTls(value: unknown, path: string): UpstreamTlsConfig | null {
    if (value === undefined || value === null) return null;
    const raw = section(value);
    this.clientPair(path);
    return {
      rootCAs: ref(raw.rootCAs),
      clientCert: ref(raw.clientCert),
      clientKey: ref(raw.clientKey),
      insecureSkipVerify: bool(raw.insecureSkipVerify),
      serverName: text(raw.serverName)?.toLowerCase() ?? null,
    };
  }

  /** A TLS client identity (`path`.clientCert and `path`.clientKey) is given whole or not at all. */
  private clientPair(path: string): void {
    if (this.present(`${path}.clientCert`) && !this.present(`${path}.clientKey`)) {
      this.ctx.diags.error(
        ConfigCode.clientKeyMissing,
        this.keyAt(`${path}.clientCert`),
        `${path}.clientCert: \`clientCert\` is set but \`clientKey\` is not`,
        'add `clientKey:` with the private key of the client certificate',
      );
    }
    if (this.present(`${path}.clientKey`) && !this.present(`${path}.clientCert`)) {
      this.ctx.diags.error(
        ConfigCode.clientCertMissing,
        this.keyAt(`${path}.clientKey`),
        `${path}.clientKey: \`clientKey\` is set but \`clientCert\` is not`,
        'add `clientCert:` with the client certificate that belongs to this key',
      );
    }
  }

  private healthCheck(value: unknown, path: string): HealthCheckConfig | null {
    if (value === undefined || value === null) return null;
    const raw = section(value);
    const intervalMs = num(raw.interval);
    const timeoutMs = num(raw.timeout);
    if (typeof raw.interval === 'number' && typeof raw.timeout === 'number' && timeoutMs >= intervalMs) {
      const blame = this.present(`${path}.timeout`) ? `${path}.timeout` : `${path}.interval`;
      this.ctx.diags.error(
        ConfigCode.healthTimeout,
        this.at(blame),
        `${blame}: health-check timeout ${formatDuration(timeoutMs)} must be below its interval ${formatDuration(intervalMs)}`,
        'lower `timeout` or raise `interval`, so that one probe ends before the next begins',
      );
    }
    const statuses = list(raw.healthyStatuses).filter((s): s is [number, number] => Array.isArray(s));
    return {
      path: text(raw.path) ?? '',
      intervalMs,
      timeoutMs,
      healthyStatuses:
        raw.healthyStatuses === undefined || statuses.length === 0
          ? DEFAULT_HEALTHY_STATUSES.map((r): [number, number] => [r[0], r[1]])
          : statuses,
      fall: num(raw.fall),
      rise: num(raw.rise),
      panic: bool(raw.panic),
      passive5xx: bool(raw.passive5xx),
      passiveFailures: num(raw.passiveFailures),
      passiveBaseEjectionMs: num(raw.ejectionTime),
      passiveMaxEjectionPercent: num(raw.maxEjectionPercent),
    };
  }

  private routeClientAuth(
    route: Plain,
    routePath: string,
    gatewayClientAuth: ClientAuthConfig | null,
  ): RouteClientAuthConfig | null {
    if (route.clientAuth === undefined || route.clientAuth === null) return null;
    const raw = section(route.clientAuth);
    const path = `${routePath}.clientAuth`;
    const fromRequired = raw.required === true ? 'required' : raw.required === false ? 'optional' : null;
    const mode = (text(raw.mode) ?? fromRequired ?? 'required') as RouteClientAuthConfig['mode'];
    if (text(raw.mode) !== null && fromRequired !== null && fromRequired !== mode) {
      this.ctx.diags.error(
        ConfigCode.clientAuth,
        this.keyAt(`${path}.required`),
        `${path}.required: \`required: ${raw.required}\` contradicts \`mode: ${mode}\``,
        'keep only `mode`',
      );
    }
    if (mode !== 'off' && gatewayClientAuth === null) {
      this.ctx.diags.error(
        ConfigCode.clientAuth,
        this.at(path),
        `${path}: the route asks for client certificates but \`gateway.tls.clientAuth\` is not set`,
        'add `gateway.tls.clientAuth.clientCA` (the CA that client certificates must chain to), with `required: false` to leave other routes open',
      );
    }
    return {
      mode,
      allowedSubjects: list(raw.allowedSubjects).map(String),
      allowedSANs: list(raw.allowedSANs).map(String),
    };
  }

  private clientIdentity(value: unknown, asksForCerts: boolean): ClientIdentityConfig | null {
    const defaults: ClientIdentityConfig = {
      header: DEFAULT_CLIENT_IDENTITY_HEADER,
      fields: [...DEFAULT_CLIENT_IDENTITY_FIELDS],
    };
    if (value === false) return null;
    if (value === true) return defaults;
    if (value === undefined || value === null) return asksForCerts ? defaults : null;
    const raw = section(value);
    return {
      header: (text(raw.header) ?? defaults.header).toLowerCase(),
      fields: list(raw.fields).filter((f): f is ClientIdentityField => typeof f === 'string') as ClientIdentityField[],
    };
  }
}
