// One backend of a compiled route: its health record, labels and the http-proxy-3 options built once
// per generation and passed by reference to every request it forwards.
import type { Agent } from 'node:http';
import type { Stream } from 'node:stream';
import type { BackendConfig, TimeoutsConfig } from '@gatehouse/config';
import { accessLabels } from '../access-log.ts';
import type { CompiledRoute } from '../generation.ts';
import { type BackendHealth, backendKey, type ResolvedUpstreamTls } from '../messages.ts';
import type { RouteMetrics } from '../metrics.ts';
import { backendHostHeader } from '../request/headers.ts';

/** The options object http-proxy-3 gets for one backend; built once, passed by reference per request. */
export interface BackendProxyOptions {
  target: { protocol: 'http:' | 'https:'; host: string; hostname: string; port: number };
  agent: Agent;
  /** Use `req.url` as the upstream path (we set it), skipping http-proxy-3's URL parsing. */
  toProxy: true;
  prependPath: false;
  xfwd: false;
  ws: true;
  secure: boolean;
  connectTimeout: number;
  /** HTTP/1 clients: the forwarder writes the response head itself from the raw header list. */
  selfHandleResponse: boolean;
  /** What http-proxy-3 pipes into the upstream request instead of the client request (see NO_BODY). */
  buffer?: Stream;
}

/**
 * The request body source of HTTP/1 requests that have none (no Content-Length or 0, no
 * Transfer-Encoding: RFC 9112 §6.3): http-proxy-3 pipes `options.buffer` when given, so the upstream
 * request is just ended instead of wiring a stream pipe (six listeners added and removed) from a
 * client request that carries nothing. Node's server still drains the client request after the
 * response, as for every request nobody read. Only `pipe` is ever called on it, so it stands in for
 * the whole Stream that the option's type asks for.
 */
export const NO_BODY = Object.freeze({
  pipe<T extends { end(): unknown }>(destination: T): T {
    destination.end();
    return destination;
  },
}) as unknown as Stream;

export class CompiledBackend {
  readonly route: CompiledRoute;
  readonly config: BackendConfig;
  /** As configured (never a resolved address): the label in logs and metrics. */
  readonly endpoint: string;
  readonly key: string;
  readonly health: BackendHealth;
  /** Host header when the route does not forward the client's. */
  readonly hostHeader: string;
  readonly basePath: string;
  readonly tls: boolean;
  /** The route presents a client certificate to this backend (for error classification). */
  readonly clientCert: boolean;
  /** For HTTP/1.x clients (and WebSocket upgrades). */
  readonly proxyOptions: BackendProxyOptions;
  /** For HTTP/2 clients: http-proxy-3 writes the response through the compat API. */
  readonly proxyOptionsH2: BackendProxyOptions;
  /** For HTTP/1.x requests without a body. */
  readonly proxyOptionsNoBody: BackendProxyOptions;
  readonly upstreamDuration: ReturnType<RouteMetrics['upstreamDuration']>;
  /** Its route's name and its endpoint as the access line writes them. */
  readonly accessLabels: string;

  constructor(
    route: CompiledRoute,
    config: BackendConfig,
    health: BackendHealth,
    agent: Agent,
    tls: ResolvedUpstreamTls | null,
    timeouts: TimeoutsConfig,
  ) {
    this.route = route;
    this.config = config;
    this.endpoint = config.endpoint;
    this.key = backendKey(route.name, config.endpoint);
    this.health = health;
    this.hostHeader = backendHostHeader(config.protocol, config.hostname, config.port);
    this.basePath = config.basePath;
    this.tls = config.protocol === 'https:';
    this.clientCert = this.tls && tls !== null && tls.cert !== null;
    this.proxyOptions = {
      target: { protocol: config.protocol, host: config.hostname, hostname: config.hostname, port: config.port },
      agent,
      toProxy: true,
      prependPath: false,
      xfwd: false,
      ws: true,
      secure: tls?.rejectUnauthorized ?? true,
      connectTimeout: timeouts.upstreamConnectMs,
      selfHandleResponse: true,
    };
    this.proxyOptionsH2 = { ...this.proxyOptions, selfHandleResponse: false };
    this.proxyOptionsNoBody = { ...this.proxyOptions, buffer: NO_BODY };
    this.upstreamDuration = route.metrics.upstreamDuration(config.endpoint);
    this.accessLabels = accessLabels(route.name, config.endpoint);
  }
}
