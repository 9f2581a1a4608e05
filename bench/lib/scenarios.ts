// What each scenario sends, where, and what the origin-only ("direct") run of it is.

export const SCENARIO_NAMES = [
  'http',
  'https',
  'mtls',
  'handshake',
  'h2',
  'large',
  'rotation',
  'ratelimit',
  'ratelimit-redis',
  'shaping',
] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

/** Which Gatehouse listener the client talks to. */
export type Front = 'http' | 'https';
/** Which origin port Gatehouse forwards to: plain HTTP, or HTTPS that requires Gatehouse's client certificate. */
export type Upstream = 'http' | 'mtls';
/** Which origin port the direct run hits: wrk cannot present a client certificate, so TLS rows use the no-client-auth port. */
export type DirectPort = 'http' | 'https' | 'h2' | null;

export interface Scenario {
  name: ScenarioName;
  what: string;
  front: Front;
  upstream: Upstream;
  path: string;
  /** A new connection (and TLS handshake) for every request. */
  closeEachRequest: boolean;
  h2: boolean;
  rotateCertificates: boolean;
  direct: DirectPort;
  /** Middlewares on the route (gateway-config.ts); `none` for the plain proxy. */
  middlewares?: RouteMiddlewares;
}

/**
 * `ratelimit`: a rateLimit far above the load (per instance, leased to the workers); `ratelimit-redis`:
 * the same in Redis (a redis-server the bench starts); `shaping`: requestHeaders, responseHeaders
 * with CORS, and rewriteRegex.
 */
export type RouteMiddlewares = 'none' | 'ratelimit' | 'ratelimit-redis' | 'shaping';

/** The plain HTTP proxy run with no direct counterpart; each scenario names how it differs. */
const PLAIN = {
  front: 'http',
  upstream: 'http',
  path: '/',
  closeEachRequest: false,
  h2: false,
  rotateCertificates: false,
  direct: null,
} as const satisfies Omit<Scenario, 'name' | 'what'>;

function scenario(name: ScenarioName, what: string, differs: Partial<Omit<Scenario, 'name' | 'what'>> = {}): Scenario {
  return { name, what, ...PLAIN, ...differs };
}

export const SCENARIOS: Record<ScenarioName, Scenario> = {
  http: scenario('http', 'HTTP/1.1 keep-alive → Gatehouse → HTTP keep-alive pool → origin (1 KiB)', { direct: 'http' }),
  https: scenario('https', 'HTTPS keep-alive → Gatehouse → HTTP keep-alive pool → origin (1 KiB)', {
    front: 'https',
    direct: 'https',
  }),
  mtls: scenario(
    'mtls',
    'HTTPS keep-alive → Gatehouse → HTTPS with client certificate (origin requires it) → origin (1 KiB)',
    { front: 'https', upstream: 'mtls', direct: 'https' },
  ),
  handshake: scenario(
    'handshake',
    'HTTPS, Connection: close: one full TLS handshake per request → Gatehouse → HTTP pool → origin',
    { front: 'https', closeEachRequest: true, direct: 'https' },
  ),
  h2: scenario('h2', 'HTTP/2 over TLS (h2load) → Gatehouse → HTTP/1.1 keep-alive pool → origin (1 KiB)', {
    front: 'https',
    h2: true,
    direct: 'h2',
  }),
  large: scenario('large', 'HTTP/1.1 keep-alive, 1 MiB responses streamed through Gatehouse', {
    path: '/large',
    direct: 'http',
  }),
  rotation: scenario(
    'rotation',
    'HTTPS, one handshake per request, while the server certificate is replaced by atomic renames',
    { front: 'https', closeEachRequest: true, rotateCertificates: true },
  ),
  ratelimit: scenario(
    'ratelimit',
    'as http, with a rateLimit far above the load (per instance, leases from the primary)',
    { middlewares: 'ratelimit' },
  ),
  'ratelimit-redis': scenario(
    'ratelimit-redis',
    'as http, with a rateLimit far above the load kept in Redis (one Lua script per request)',
    { middlewares: 'ratelimit-redis' },
  ),
  shaping: scenario('shaping', 'as http, with requestHeaders, responseHeaders (+CORS) and rewriteRegex on the route', {
    middlewares: 'shaping',
  }),
};
