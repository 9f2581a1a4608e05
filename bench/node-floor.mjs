// The floor Node allows: the smallest correct keep-alive forwarder on node:http, with none of
// Gatehouse (no router, balancer, health, metrics, access log, timeouts, header policy) and no
// http-proxy-3. It exists only to be measured beside Gatehouse, so that "how much of a request's CPU
// is Node's own HTTP server and client" is a number from the same run.
//
// It is an anchors CANDIDATE_CMD (see bench/README.md, "The Node floor"): it reads CANDIDATE_HTTP_PORT,
// CANDIDATE_HTTPS_PORT, CANDIDATE_MTLS_PORT and the ANCHOR_* variables, and runs NODE_FLOOR_WORKERS
// (2) processes that each bind the ports with reusePort, as Gatehouse's workers do. Never a product.
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';

const env = process.env;
const pki = env.ANCHOR_PKI_DIR ?? '';
const [backendHost, backendHttpPort] = (env.ANCHOR_BACKEND_HTTP ?? '127.0.0.1:18080').split(':');
const [, backendHttpsPort] = (env.ANCHOR_BACKEND_HTTPS ?? '127.0.0.1:18443').split(':');

/** Hop-by-hop fields (RFC 9110 §7.6.1) that a forwarder must not pass on. */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'transfer-encoding', 'upgrade'];

function pool(make, extra) {
  return make({ keepAlive: true, scheduling: 'lifo', maxSockets: 1024, maxFreeSockets: 1024, ...extra });
}

function forwarder(agent, port, secure) {
  const request = secure ? https.request : http.request;
  return (req, res) => {
    const headers = req.headers;
    for (const name of HOP_BY_HOP) delete headers[name];
    const upstream = request(
      { host: backendHost, port, method: req.method, path: req.url, headers, agent },
      (upstreamRes) => {
        const out = upstreamRes.headers;
        for (const name of HOP_BY_HOP) delete out[name];
        res.writeHead(upstreamRes.statusCode ?? 502, out);
        upstreamRes.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  };
}

function serve() {
  const plain = pool((o) => new http.Agent(o), {});
  const tlsFront = { cert: readFileSync(`${pki}/server.crt`), key: readFileSync(`${pki}/server.key`) };
  const listen = (server, port) => {
    if (port) server.listen({ host: '127.0.0.1', port: Number(port), reusePort: true });
  };
  listen(http.createServer(forwarder(plain, backendHttpPort ?? '18080', false)), env.CANDIDATE_HTTP_PORT);
  listen(
    https.createServer({ ...tlsFront, minVersion: 'TLSv1.3' }, forwarder(plain, backendHttpPort ?? '18080', false)),
    env.CANDIDATE_HTTPS_PORT,
  );
  if (env.CANDIDATE_MTLS_PORT) {
    const mtls = pool((o) => new https.Agent(o), {
      ca: readFileSync(`${pki}/ca.crt`),
      cert: readFileSync(`${pki}/client.crt`),
      key: readFileSync(`${pki}/client.key`),
      servername: env.ANCHOR_BACKEND_SNI ?? 'backend.local',
    });
    listen(
      https.createServer({ ...tlsFront, minVersion: 'TLSv1.3' }, forwarder(mtls, backendHttpsPort ?? '18443', true)),
      env.CANDIDATE_MTLS_PORT,
    );
  }
}

if (process.argv[2] === 'worker') {
  serve();
  // An orderly exit on SIGTERM, so that a worker run with --cpu-prof writes its profile.
  process.on('SIGTERM', () => process.exit(0));
} else {
  const count = Number(env.NODE_FLOOR_WORKERS ?? 2);
  const workers = Array.from({ length: count }, () => fork(import.meta.filename, ['worker']));
  // The harness stops the whole process group; this only keeps the parent from outliving its workers.
  process.on('SIGTERM', () => {
    for (const worker of workers) worker.kill('SIGTERM');
    process.exit(0);
  });
}
