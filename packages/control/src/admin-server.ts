// The admin surface of the primary: one small HTTP handler served on the admin TCP address (loopback
// by default, never a traffic listener) and on a unix socket for the local CLI. It only translates
// HTTP to the GatewayApi and back; every decision stays in the primary. Who may call it is decided
// first, in admin-access.ts.
import { mkdirSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import type { ListenAddress } from '@gatehouse/config';
import type { Logger } from 'pino';
import { type AdminToken, adminToken, checkAdminAccess } from './admin-access.ts';
import { ControlError, errorMessage } from './errors.ts';
import type { GatewayApi, RouteStatus } from './gateway-api.ts';
import type { PrimaryMetrics } from './metrics.ts';
import type { StatusFeed } from './status-feed.ts';
import { loadStatusPage, STATUS_PAGE_HEADERS } from './status-page.ts';

export interface AdminServerOptions {
  /** TCP admin listener; null: off. */
  address: ListenAddress | null;
  /** Unix socket path; null: off. */
  socket: string | null;
  /** `gateway.admin.token`; null: no token asked. */
  token: string | null;
  /** The live /status document for the status page; null: no /status/stream. */
  feed?: StatusFeed | null;
  api: GatewayApi;
  metrics: PrimaryMetrics;
  logger: Logger;
}

export interface AdminServer {
  /** Where it listens, for logs: `127.0.0.1:9180`, `unix:/run/gatehouse/admin.sock`. */
  readonly addresses: string[];
  /** A reloaded `gateway.admin.token` (the listeners stay bound). */
  setToken(token: string | null): void;
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;
interface Route {
  methods: string[];
  handle: Handler;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = `${JSON.stringify(body, null, 2)}\n`;
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...STATUS_PAGE_HEADERS,
    ...headers,
  });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}

function sendError(res: ServerResponse, status: number, code: string, message: string, headers = {}): void {
  sendJson(res, status, { error: message, code }, headers);
}

/** A backend serves traffic when its probes say up and no passive ejection is in force. */
function backendServes(backend: RouteStatus['backends'][number], now: number): boolean {
  return backend.up && backend.ejectedUntil <= now;
}

/** Routes without a serving backend: what makes /healthz/routes answer 503. */
export function routesWithoutHealthyBackend(routes: RouteStatus[], now = Date.now()): string[] {
  return routes.filter((r) => !r.backends.some((b) => backendServes(b, now))).map((r) => r.name);
}

function buildRoutes(opts: AdminServerOptions): Map<string, Route> {
  const { api, metrics } = opts;
  const feed = opts.feed ?? null;
  const page = loadStatusPage();
  const pageRoutes: Array<[string, Route]> = page.map((file) => [
    file.path,
    {
      methods: ['GET', 'HEAD'],
      handle: async (req, res) => {
        res.writeHead(200, {
          'content-type': file.contentType,
          'content-length': file.body.length,
          'cache-control': 'no-store',
          ...STATUS_PAGE_HEADERS,
        });
        res.end(req.method === 'HEAD' ? undefined : file.body);
      },
    },
  ]);
  return new Map<string, Route>([
    ...pageRoutes,
    [
      '/favicon.ico',
      {
        methods: ['GET', 'HEAD'],
        handle: async (_req, res) => {
          res.writeHead(204, { 'cache-control': 'max-age=86400', ...STATUS_PAGE_HEADERS });
          res.end();
        },
      },
    ],
    [
      '/status/stream',
      {
        methods: ['GET'],
        handle: async (_req, res) => {
          if (feed === null) {
            sendError(res, 404, 'GH_ADMIN_NOT_FOUND', 'no live status feed on this listener');
            return;
          }
          if (!feed.subscribe(res)) {
            sendError(res, 503, 'GH_ADMIN_BUSY', 'too many status page viewers; close one', { 'retry-after': '5' });
          }
        },
      },
    ],
    [
      '/metrics',
      {
        methods: ['GET', 'HEAD'],
        handle: async (_req, res) => {
          let scraped: Awaited<ReturnType<PrimaryMetrics['scrape']>>;
          try {
            scraped = await metrics.scrape();
          } catch (error) {
            // prom-client gives up when a worker does not answer within 5 s (one busy or exiting).
            opts.logger.warn({ err: error }, 'metrics scrape failed');
            sendError(res, 503, 'GH_METRICS_UNAVAILABLE', `metrics unavailable: ${errorMessage(error)}`);
            return;
          }
          const { contentType, body } = scraped;
          res.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
          res.end(res.req.method === 'HEAD' ? undefined : body);
        },
      },
    ],
    ['/status', { methods: ['GET', 'HEAD'], handle: async (_req, res) => sendJson(res, 200, await api.status()) }],
    [
      '/reload',
      {
        methods: ['POST'],
        handle: async (_req, res) => {
          const outcome = await api.reload('admin');
          sendJson(res, outcome.accepted ? 200 : 422, outcome);
        },
      },
    ],
    [
      '/restart',
      {
        methods: ['POST'],
        handle: async (_req, res) => {
          const started = Date.now();
          await api.restart();
          sendJson(res, 200, { restarted: true, durationMs: Date.now() - started });
        },
      },
    ],
    ['/healthz', { methods: ['GET', 'HEAD'], handle: async (_req, res) => sendJson(res, 200, { status: 'alive' }) }],
    [
      '/readyz',
      {
        methods: ['GET', 'HEAD'],
        handle: async (_req, res) => {
          const readiness = api.readiness();
          sendJson(res, readiness.ready ? 200 : 503, {
            status: readiness.ready ? 'ready' : 'not ready',
            reason: readiness.reason,
          });
        },
      },
    ],
    [
      '/healthz/routes',
      {
        methods: ['GET', 'HEAD'],
        handle: async (_req, res) => {
          const routes = api.routeHealth();
          const down = routesWithoutHealthyBackend(routes);
          sendJson(res, down.length === 0 ? 200 : 503, {
            status: down.length === 0 ? 'healthy' : 'unhealthy',
            routesWithoutHealthyBackend: down,
            routes,
          });
        },
      },
    ],
  ]);
}

/** What both listeners share: the endpoints and the token, which a reload may change. */
interface AdminContext {
  routes: Map<string, Route>;
  token: AdminToken | null;
}

function createAdminHandler(
  opts: AdminServerOptions,
  context: AdminContext,
  listener: 'tcp' | 'socket',
): (req: IncomingMessage, res: ServerResponse) => void {
  const { routes } = context;
  return (req, res) => {
    // Admin requests carry no body we read; drain whatever was sent so keep-alive stays usable.
    req.resume();
    const method = req.method ?? 'GET';
    let path: string;
    try {
      path = new URL(req.url ?? '/', 'http://admin').pathname.replace(/\/+$/, '') || '/';
    } catch {
      sendError(res, 400, 'GH_ADMIN_BAD_REQUEST', 'the request target is not a path');
      return;
    }
    const refusal = checkAdminAccess(
      { headers: req.headers, listener, localAddress: req.socket.localAddress, path },
      context.token,
    );
    if (refusal) {
      opts.logger.warn({ method, path, code: refusal.code, listener }, 'admin request refused');
      opts.metrics.adminRefused(refusal.code);
      sendError(res, refusal.status, refusal.code, refusal.message, refusal.headers);
      return;
    }
    const route = routes.get(path);
    if (!route) {
      const endpoints = [...routes.keys()].filter((p) => !p.startsWith('/ui/') && p !== '/favicon.ico');
      sendError(res, 404, 'GH_ADMIN_NOT_FOUND', `no admin endpoint ${path}; try ${endpoints.join(', ')}`);
      return;
    }
    if (!route.methods.includes(method)) {
      sendError(res, 405, 'GH_ADMIN_METHOD', `${path} accepts ${route.methods.join(', ')}, not ${method}`, {
        allow: route.methods.join(', '),
      });
      return;
    }
    opts.logger.debug({ method, path }, 'admin request');
    route.handle(req, res).catch((error: unknown) => {
      const code = error instanceof ControlError ? error.code : 'GH_ADMIN_INTERNAL';
      opts.logger.error({ err: error, method, path }, 'admin request failed');
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendError(res, code === 'GH_SHUTTING_DOWN' ? 503 : 500, code, errorMessage(error));
    });
  };
}

/** True when something accepts connections on the unix socket `path`. */
function socketInUse(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

/**
 * Whoever can connect to the socket can reload or restart the gateway, so it must be owner-only from
 * the moment it exists: a chmod after listen() leaves a window in which anyone may connect. The
 * socket file takes its mode from the umask when bind() creates it, and in the primary (the main
 * thread of a cluster primary) Node binds synchronously inside listen(), so the owner-only umask is in
 * force for exactly that call.
 */
function listenOwnerOnly(server: Server, path: string, done: () => void): void {
  const previous = process.umask(0o177);
  try {
    server.listen(path, done);
  } finally {
    process.umask(previous);
  }
}

function listen(server: Server, target: ListenAddress | string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    const done = () => {
      server.off('error', onError);
      resolve();
    };
    if (typeof target === 'string') listenOwnerOnly(server, target, done);
    else server.listen(target.port, target.host === '' ? undefined : target.host, done);
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export async function startAdminServer(opts: AdminServerOptions): Promise<AdminServer> {
  const context: AdminContext = { routes: buildRoutes(opts), token: adminToken(opts.token) };
  const servers: Server[] = [];
  const addresses: string[] = [];
  let socketPath: string | null = null;

  const closeAll = async () => {
    await Promise.all(servers.map(closeServer));
    if (socketPath) await unlink(socketPath).catch(() => {});
  };

  try {
    if (opts.address) {
      const server = createServer(createAdminHandler(opts, context, 'tcp'));
      try {
        await listen(server, opts.address);
      } catch (error) {
        throw new ControlError(
          'GH_ADMIN_BIND',
          `cannot listen on admin address ${opts.address.raw}: ${errorMessage(error)}`,
          {
            cause: error,
          },
        );
      }
      servers.push(server);
      const bound = server.address();
      addresses.push(
        bound && typeof bound === 'object'
          ? `${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`
          : opts.address.raw,
      );
    }
    if (opts.socket) {
      const path = opts.socket;
      if (await socketInUse(path)) {
        throw new ControlError('GH_ADMIN_BIND', `admin socket ${path} is in use: is another gatehouse running?`);
      }
      // A socket file left by a process that died is in the way of listen(): remove it.
      await unlink(path).catch(() => {});
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      const server = createServer(createAdminHandler(opts, context, 'socket'));
      try {
        await listen(server, path);
      } catch (error) {
        throw new ControlError('GH_ADMIN_BIND', `cannot listen on admin socket ${path}: ${errorMessage(error)}`, {
          cause: error,
        });
      }
      servers.push(server);
      socketPath = path;
      addresses.push(`unix:${path}`);
    }
  } catch (error) {
    await closeAll();
    throw error;
  }

  if (addresses.length > 0) opts.logger.info({ addresses }, 'admin listening');
  return {
    addresses,
    setToken: (token) => {
      context.token = adminToken(token);
    },
    close: closeAll,
  };
}
