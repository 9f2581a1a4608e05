// A Node peer users pick instead of Gatehouse: fastify 5 with @fastify/http-proxy (reply-from on
// undici), as its README configures it, in 2 processes that each bind the ports with reusePort, as
// Gatehouse's workers do. It exists only to be measured beside Gatehouse and the Node floor in the
// anchors harness (see bench/README.md, "Node peers"). Never a product.
//
// An anchors CANDIDATE_CMD: reads CANDIDATE_HTTP_PORT, CANDIDATE_HTTPS_PORT, CANDIDATE_MTLS_PORT and
// the ANCHOR_* variables; FASTIFY_PROXY_WORKERS (2) changes the number of processes. Plain
// JavaScript, so that no process loads Node's type stripper.
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import proxy from '@fastify/http-proxy';
import Fastify from 'fastify';

const env = process.env;
const pki = env.ANCHOR_PKI_DIR ?? '';
const backendHttp = env.ANCHOR_BACKEND_HTTP ?? '127.0.0.1:18080';
const backendHttps = env.ANCHOR_BACKEND_HTTPS ?? '127.0.0.1:18443';

/** One fastify instance on its own node server, so that the server can listen with reusePort. */
async function serve(port, makeServer, upstream, undici) {
  if (!port) return;
  let server;
  const app = Fastify({
    logger: false,
    serverFactory: (handler) => {
      server = makeServer(handler);
      return server;
    },
  });
  await app.register(proxy, { upstream, prefix: '/', ...(undici ? { undici } : {}) });
  await app.ready();
  server.listen({ host: '127.0.0.1', port: Number(port), reusePort: true });
}

async function worker() {
  const front = {
    cert: readFileSync(`${pki}/server.crt`),
    key: readFileSync(`${pki}/server.key`),
    minVersion: 'TLSv1.3',
  };
  await serve(env.CANDIDATE_HTTP_PORT, (h) => http.createServer(h), `http://${backendHttp}`, null);
  await serve(env.CANDIDATE_HTTPS_PORT, (h) => https.createServer(front, h), `http://${backendHttp}`, null);
  await serve(env.CANDIDATE_MTLS_PORT, (h) => https.createServer(front, h), `https://${backendHttps}`, {
    tls: {
      ca: readFileSync(`${pki}/ca.crt`),
      cert: readFileSync(`${pki}/client.crt`),
      key: readFileSync(`${pki}/client.key`),
      servername: env.ANCHOR_BACKEND_SNI ?? 'backend.local',
      rejectUnauthorized: true,
    },
  });
}

if (process.argv[2] === 'worker') await worker();
else {
  const count = Number(env.FASTIFY_PROXY_WORKERS ?? 2);
  const workers = Array.from({ length: count }, () => fork(import.meta.filename, ['worker']));
  // The harness stops the whole process group; this only keeps the parent from outliving its workers.
  process.on('SIGTERM', () => {
    for (const w of workers) w.kill('SIGTERM');
    process.exit(0);
  });
}
