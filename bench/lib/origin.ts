// The origin of every bench scenario: a fixed-response server, as small as Node allows, so that the
// figures measure the proxy and not the backend. Run as its own process (its CPU is not the proxy's):
//   node bench/lib/origin.ts '{"certDir": ".../pki", ...}'
// Listens on ephemeral 127.0.0.1 ports and prints one JSON line with them, then serves until SIGTERM.
//   GET /        1024 bytes        GET /large   1 MiB        GET /healthz   "ok"
//   GET /__bench/connections   TCP connections accepted so far, per port (the pooling check)
// Ports: http (plain), https (TLS, no client auth: the direct TLS baseline), mtls (TLS that requires a
// client certificate signed by the bench CA: Gatehouse's upstream in the mtls scenario), h2 (HTTP/2 +
// HTTP/1.1 over TLS: the direct h2 baseline).
import { readFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

interface OriginOptions {
  cert: string;
  key: string;
  ca: string;
}

const SMALL = Buffer.alloc(1024, 'x');
const LARGE = Buffer.alloc(1024 * 1024, 'y');
const OK = Buffer.from('ok\n');
const SMALL_HEADERS = { 'content-type': 'text/plain', 'content-length': String(SMALL.length) };
const LARGE_HEADERS = { 'content-type': 'application/octet-stream', 'content-length': String(LARGE.length) };
const OK_HEADERS = { 'content-type': 'text/plain', 'content-length': String(OK.length) };

/** The part of a response that both node:http and the node:http2 compatibility API have. */
interface Reply {
  writeHead(status: number, headers: Record<string, string>): unknown;
  end(body: Buffer): unknown;
}

/** Connections accepted per port: a proxy that pools opens a handful, one that does not opens one per request. */
const accepted = { http: 0, https: 0, mtls: 0, h2: 0 };

function handle(req: { url?: string; resume(): unknown }, res: Reply): void {
  const url = req.url ?? '/';
  // Drain any request body so that keep-alive holds.
  req.resume();
  if (url === '/__bench/connections') {
    const body = Buffer.from(JSON.stringify(accepted));
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(body.length) });
    res.end(body);
  } else if (url.startsWith('/large')) {
    res.writeHead(200, LARGE_HEADERS);
    res.end(LARGE);
  } else if (url.startsWith('/healthz')) {
    res.writeHead(200, OK_HEADERS);
    res.end(OK);
  } else {
    res.writeHead(200, SMALL_HEADERS);
    res.end(SMALL);
  }
}

/** Idle keep-alive above any proxy's pool idle timeout, as nginx's 75 s, so the origin never closes a pooled socket first. */
function keepAlive<T extends http.Server | https.Server>(server: T): T {
  server.keepAliveTimeout = 75_000;
  server.headersTimeout = 80_000;
  server.requestTimeout = 0;
  return server;
}

async function listen(server: http.Server | https.Server | http2.Http2SecureServer): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as OriginOptions;
  const tls = {
    cert: readFileSync(options.cert),
    key: readFileSync(options.key),
    minVersion: 'TLSv1.2' as const,
  };
  const ca = readFileSync(options.ca);
  const servers = {
    http: keepAlive(http.createServer(handle)),
    https: keepAlive(https.createServer(tls, handle)),
    mtls: keepAlive(https.createServer({ ...tls, ca, requestCert: true, rejectUnauthorized: true }, handle)),
    h2: http2.createSecureServer({ ...tls, allowHTTP1: true, settings: { maxConcurrentStreams: 1000 } }, handle),
  };
  for (const name of Object.keys(servers) as Array<keyof typeof servers>) {
    servers[name].on('connection', () => {
      accepted[name]++;
    });
  }
  const ports = {
    http: await listen(servers.http),
    https: await listen(servers.https),
    mtls: await listen(servers.mtls),
    h2: await listen(servers.h2),
  };
  process.stdout.write(`${JSON.stringify({ msg: 'origin ready', pid: process.pid, ports })}\n`);
  const stop = () => {
    for (const server of Object.values(servers)) {
      server.close();
      if ('closeAllConnections' in server) server.closeAllConnections();
    }
    setTimeout(() => process.exit(0), 500).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // The bench runner owns this process: if it goes away, so does the origin.
  process.stdin.on('end', stop).resume();
}

main().catch((error: unknown) => {
  process.stderr.write(`origin: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
