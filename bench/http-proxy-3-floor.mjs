// The floor of any forwarder built on http-proxy-3: bench/node-floor.mjs, but each request goes through
// http-proxy-3's `stream` pass, the step that makes and sends the upstream request, called directly
// with one precompiled options object, as Gatehouse's worker calls it (no ProxyServer.web() copy, no
// X-Forwarded fields, no router, health, metrics or access log). The response head goes out from
// the backend's raw header list in one writeHead, as Gatehouse's does.
//
// Beside the Node floor it answers one question: how much of Gatehouse's distance to the floor is the
// cost of forwarding through http-proxy-3 at all, which no work inside Gatehouse can remove. It is an
// anchors CANDIDATE_CMD like the floor (bench/anchors-alternate.sh, candidate `http-proxy-3-floor`).
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { createProxyServer } from 'http-proxy-3';
import { stream } from 'http-proxy-3/dist/lib/http-proxy/passes/web-incoming.js';

const env = process.env;
const pki = env.ANCHOR_PKI_DIR ?? '';
const [backendHost, backendHttpPort] = (env.ANCHOR_BACKEND_HTTP ?? '127.0.0.1:18080').split(':');
const [, backendHttpsPort] = (env.ANCHOR_BACKEND_HTTPS ?? '127.0.0.1:18443').split(':');

/** Hop-by-hop fields (RFC 9110 §7.6.1) that a forwarder must not pass on. */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'transfer-encoding', 'upgrade'];
const HOP_BY_HOP_SET = new Set(HOP_BY_HOP);

function pool(make, extra) {
  return make({ keepAlive: true, scheduling: 'lifo', maxSockets: 1024, maxFreeSockets: 1024, ...extra });
}

function onProxyRes(proxyRes, _req, res) {
  const raw = proxyRes.rawHeaders;
  const head = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (!HOP_BY_HOP_SET.has(raw[i].toLowerCase())) head.push(raw[i], raw[i + 1]);
  }
  res.writeHead(proxyRes.statusCode ?? 502, proxyRes.statusMessage, head);
  proxyRes.pipe(res);
}

function onError(_error, _req, res) {
  if (typeof res.writeHead === 'function' && !res.headersSent) res.writeHead(502);
  res.end();
}

function forwarder(agent, port, secure) {
  const proxy = createProxyServer({});
  proxy.on('proxyRes', onProxyRes);
  proxy.on('error', onError);
  const options = {
    target: { protocol: secure ? 'https:' : 'http:', host: backendHost, hostname: backendHost, port: Number(port) },
    agent,
    toProxy: true,
    prependPath: false,
    xfwd: false,
    secure: true,
    selfHandleResponse: true,
  };
  return (req, res) => {
    const headers = req.headers;
    for (const name of HOP_BY_HOP) delete headers[name];
    stream(req, res, options, undefined, proxy, undefined);
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
  process.on('SIGTERM', () => process.exit(0));
} else {
  const count = Number(env.NODE_FLOOR_WORKERS ?? 2);
  const workers = Array.from({ length: count }, () => fork(import.meta.filename, ['worker']));
  process.on('SIGTERM', () => {
    for (const worker of workers) worker.kill('SIGTERM');
    process.exit(0);
  });
}
