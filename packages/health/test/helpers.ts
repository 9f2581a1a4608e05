// Real loopback backends and config fragments for the health tests. Nothing here stands in for a
// Gatehouse component: the backends are plain node:http / node:https servers.
import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type ServerOptions } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { Writable } from 'node:stream';
import type { HealthCheckConfig, RouteConfig } from '@gatehouse/config';
import { testBackend, testRoute } from '@gatehouse/config/testing';
import { pino } from 'pino';

export interface Backend {
  server: Server;
  port: number;
  endpoint: string;
  /** Status to answer with; 'hang' accepts and never answers. */
  mode: number | 'hang';
  /** Health probes received (requests to /healthz). */
  probes: number;
  /** Arrival times of the probes (epoch ms). */
  probeTimes: number[];
  /** Closes the listener and every open connection; `start()` binds the same port again. */
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function startBackend(
  opts: { tls?: ServerOptions; mode?: number | 'hang'; port?: number } = {},
): Promise<Backend> {
  const sockets = new Set<Socket>();
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    if (req.url?.startsWith('/healthz')) {
      backend.probes++;
      backend.probeTimes.push(Date.now());
    }
    if (backend.mode === 'hang') return;
    res.writeHead(backend.mode, { 'content-type': 'text/plain' });
    res.end(`status ${backend.mode}\n`);
  };
  const make = (): Server => {
    const server = opts.tls ? createHttpsServer(opts.tls, handler) : createHttpServer(handler);
    server.on('connection', (s: Socket) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    server.on('secureConnection', (s: Socket) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    // TLS handshake failures on the backend side are expected in the mTLS tests.
    server.on('tlsClientError', () => {});
    return server;
  };
  const scheme = opts.tls ? 'https' : 'http';
  const backend: Backend = {
    server: make(),
    port: opts.port ?? 0,
    endpoint: '',
    mode: opts.mode ?? 200,
    probes: 0,
    probeTimes: [],
    async stop() {
      for (const s of sockets) s.destroy();
      if (backend.server.listening) {
        backend.server.close();
        await once(backend.server, 'close');
      }
    },
    async start() {
      if (backend.server.listening) return;
      backend.server = make();
      backend.server.listen(backend.port, '127.0.0.1');
      await once(backend.server, 'listening');
      backend.port = (backend.server.address() as AddressInfo).port;
      backend.endpoint = `${scheme}://127.0.0.1:${backend.port}`;
    },
  };
  backend.server.listen(backend.port, '127.0.0.1');
  await once(backend.server, 'listening');
  backend.port = (backend.server.address() as AddressInfo).port;
  backend.endpoint = `${scheme}://127.0.0.1:${backend.port}`;
  return backend;
}

export function healthCheck(overrides: Partial<HealthCheckConfig> = {}): HealthCheckConfig {
  return {
    path: '/healthz',
    intervalMs: 200,
    timeoutMs: 1000,
    healthyStatuses: [[200, 399]],
    fall: 2,
    rise: 2,
    panic: false,
    passive5xx: false,
    passiveFailures: 5,
    passiveBaseEjectionMs: 30_000,
    passiveMaxEjectionPercent: 50,
    ...overrides,
  };
}

export function route(name: string, endpoints: string[], hc: HealthCheckConfig | null): RouteConfig {
  return testRoute({
    name,
    path: `/${name}`,
    backends: endpoints.map((endpoint) => testBackend(endpoint)),
    healthCheck: hc,
  });
}

/** A real pino logger whose JSON lines are kept for assertions. */
export function captureLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const text of chunk.toString('utf8').split('\n')) if (text) lines.push(JSON.parse(text));
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

/** Polls `check` until it is true, failing after `timeoutMs` with `what`. */
export async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
