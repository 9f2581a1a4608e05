// The two demo backends of `gatehouse demo`, in the demo's own process: "blue" speaks plain HTTP;
// "green" speaks HTTPS and accepts only clients whose certificate the backend CA signed, which is
// Gatehouse's upstream client certificate and nobody else's. Each answers with a few lines that show
// what reached it, so the curl output explains the hop it took.
import { readFileSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';

export interface DemoBackendOptions {
  host: string;
  bluePort: number;
  greenPort: number;
  /** green's serving certificate and key. */
  greenCert: string;
  greenKey: string;
  /** The only CA green accepts client certificates from. */
  greenClientCa: string;
}

export interface DemoBackends {
  close(): Promise<void>;
}

export class DemoPortInUseError extends Error {
  readonly code = 'GH_DEMO_PORT_IN_USE';
  readonly port: number;
  constructor(what: string, port: number, reason: string) {
    super(`cannot listen on port ${port} for ${what}: ${reason}`);
    this.port = port;
  }
}

function header(req: IncomingMessage, name: string): string {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(', ') : (value ?? '');
}

function describeRequest(req: IncomingMessage): string[] {
  const lines = [`You asked for ${req.method} ${req.url}.`];
  const forwardedFor = header(req, 'x-forwarded-for');
  if (forwardedFor) {
    lines.push(
      `Gatehouse forwarded it: x-forwarded-for ${forwardedFor}, x-forwarded-proto ${header(req, 'x-forwarded-proto') || '-'}, x-request-id ${header(req, 'x-request-id') || '-'}.`,
    );
  }
  const clientCert = header(req, 'x-forwarded-client-cert');
  if (clientCert) lines.push(`Your verified client certificate, as Gatehouse passed it on: ${clientCert}`);
  return lines;
}

function reply(res: ServerResponse, lines: string[]): void {
  const body = `${lines.join('\n')}\n`;
  res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function listen(server: http.Server, port: number, host: string, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) =>
      reject(
        new DemoPortInUseError(
          what,
          port,
          error.code === 'EADDRINUSE' ? `the port is in use (${error.message})` : error.message,
        ),
      );
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function close(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export async function startDemoBackends(options: DemoBackendOptions): Promise<DemoBackends> {
  const { host } = options;
  const blue = http.createServer((req, res) => {
    req.resume();
    if (req.url === '/healthz') return reply(res, ['ok']);
    reply(res, [
      `Hello from the demo backend "blue" (plain HTTP, ${host}:${options.bluePort}).`,
      ...describeRequest(req),
    ]);
  });
  const green = https.createServer(
    {
      cert: readFileSync(options.greenCert),
      key: readFileSync(options.greenKey),
      ca: readFileSync(options.greenClientCa),
      // The handshake fails for any client without a certificate from the backend CA.
      requestCert: true,
      rejectUnauthorized: true,
    },
    (req, res) => {
      req.resume();
      if (req.url === '/healthz') return reply(res, ['ok']);
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      reply(res, [
        `Hello from the demo backend "green" (HTTPS with required client certificates, ${host}:${options.greenPort}).`,
        `It let the caller in because it presented CN=${peer.subject?.CN ?? '?'}, issued by "${peer.issuer?.CN ?? '?'}": Gatehouse's upstream client certificate.`,
        ...describeRequest(req),
      ]);
    },
  );
  for (const server of [blue, green]) {
    server.keepAliveTimeout = 75_000;
    server.headersTimeout = 80_000;
  }
  try {
    await listen(blue, options.bluePort, host, 'demo backend "blue"');
    await listen(green, options.greenPort, host, 'demo backend "green"');
  } catch (error) {
    await Promise.all([close(blue), close(green)]);
    throw error;
  }
  return {
    close: async () => {
      await Promise.all([close(blue), close(green)]);
    },
  };
}
