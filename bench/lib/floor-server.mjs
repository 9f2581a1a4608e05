// What the two floors (bench/node-floor.mjs, bench/http-proxy-3-floor.mjs) share: the ports and
// agents the anchors harness asks for, and 2 processes that bind them with reusePort, as Gatehouse's
// workers do. Only the per-request forward differs between the floors: `makeHandler(agent, port,
// secure)` returns the request listener for one front.
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';

const env = process.env;

export const pki = env.ANCHOR_PKI_DIR ?? '';
export const [backendHost, backendHttpPort = '18080'] = (env.ANCHOR_BACKEND_HTTP ?? '127.0.0.1:18080').split(':');
const [, backendHttpsPort = '18443'] = (env.ANCHOR_BACKEND_HTTPS ?? '127.0.0.1:18443').split(':');

/** Hop-by-hop fields (RFC 9110 §7.6.1) that a forwarder must not pass on. */
export const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'transfer-encoding', 'upgrade'];

function pool(make, extra) {
  return make({ keepAlive: true, scheduling: 'lifo', maxSockets: 1024, maxFreeSockets: 1024, ...extra });
}

function serve(makeHandler) {
  const plain = pool((o) => new http.Agent(o), {});
  const tlsFront = { cert: readFileSync(`${pki}/server.crt`), key: readFileSync(`${pki}/server.key`) };
  const listen = (server, port) => {
    if (port) server.listen({ host: '127.0.0.1', port: Number(port), reusePort: true });
  };
  listen(http.createServer(makeHandler(plain, backendHttpPort, false)), env.CANDIDATE_HTTP_PORT);
  listen(
    https.createServer({ ...tlsFront, minVersion: 'TLSv1.3' }, makeHandler(plain, backendHttpPort, false)),
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
      https.createServer({ ...tlsFront, minVersion: 'TLSv1.3' }, makeHandler(mtls, backendHttpsPort, true)),
      env.CANDIDATE_MTLS_PORT,
    );
  }
}

/**
 * Runs `script` as the floor: the parent forks NODE_FLOOR_WORKERS (2) copies of it with the argument
 * `worker`, and each of those serves with `makeHandler`.
 */
export function runFloor(script, makeHandler) {
  if (process.argv[2] === 'worker') {
    serve(makeHandler);
    // An orderly exit on SIGTERM, so that a worker run with --cpu-prof writes its profile.
    process.on('SIGTERM', () => process.exit(0));
    return;
  }
  const count = Number(env.NODE_FLOOR_WORKERS ?? 2);
  const workers = Array.from({ length: count }, () => fork(script, ['worker']));
  // The harness stops the whole process group; this only keeps the parent from outliving its workers.
  process.on('SIGTERM', () => {
    for (const worker of workers) worker.kill('SIGTERM');
    process.exit(0);
  });
}
