// How exactly a rate limit holds: 20 requests per second on one route, driven far above that by
// closed-loop keep-alive clients for a fixed time, through one instance with 1, 2 and 4 workers and
// through two instances sharing a redis-server. Prints, per setup, the requests allowed per second
// after the initial bucket, against the configured 20. Loopback only; bounded in time.
//
//   node bench/rate-limit-accuracy.ts [--seconds 10] [--connections 16]
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startGateway, stopProcess } from './lib/processes.ts';
import { startRedis } from './lib/redis.ts';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const SECONDS = arg('seconds', 10);
const CONNECTIONS = arg('connections', 16);
const RATE = 20;

const origin = http.createServer((req, res) => {
  req.resume();
  res.end('ok');
});
origin.listen(0, '127.0.0.1');
await new Promise((r) => origin.once('listening', r));
const originPort = (origin.address() as AddressInfo).port;
const dir = mkdtempSync(join(tmpdir(), 'gh-rl-accuracy-'));

function config(port: number, redisPort: number | null): string {
  return `version: 2
gateway:
  entryPoints: { web: { address: "127.0.0.1:${port}" } }
  admin: { address: "" }
  log: { accessLog: false }
${redisPort === null ? '' : `  redis: { addr: "127.0.0.1:${redisPort}" }\n`}middlewares:
  - name: limit
    type: rateLimit
    rule: { unit: second, requestsPerUnit: ${RATE} }
routes:
  - name: limited
    path: /
    backends: [{ endpoint: "http://127.0.0.1:${originPort}" }]
    middlewares: [limit]
`;
}

/** Closed-loop clients over keep-alive connections for `seconds`; counts answers by status. */
async function drive(ports: number[], seconds: number): Promise<{ ok: number; refused: number; other: number }> {
  const agents = ports.map((p) => ({ p, agent: new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS }) }));
  const counts = { ok: 0, refused: 0, other: 0 };
  const end = Date.now() + seconds * 1000;
  const one = (i: number) =>
    new Promise<void>((resolve) => {
      const { p, agent } = agents[i % agents.length] as { p: number; agent: http.Agent };
      const req = http.get({ host: '127.0.0.1', port: p, path: '/', agent }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) counts.ok++;
          else if (res.statusCode === 429) counts.refused++;
          else counts.other++;
          resolve();
        });
      });
      req.on('error', () => {
        counts.other++;
        resolve();
      });
    });
  await Promise.all(
    Array.from({ length: CONNECTIONS * agents.length }, async (_, i) => {
      while (Date.now() < end) await one(i);
    }),
  );
  for (const { agent } of agents) agent.destroy();
  return counts;
}

const rows: string[] = [];
async function setup(label: string, instances: number, workers: number, redis: boolean): Promise<void> {
  const server = redis ? await startRedis() : null;
  const gateways = [];
  const ports: number[] = [];
  try {
    for (let i = 0; i < instances; i++) {
      const port = await freePort();
      const path = join(dir, `${label.replace(/\W+/g, '-')}-${i}.yaml`);
      writeFileSync(path, config(port, server?.port ?? null));
      gateways.push(await startGateway(path, workers, `${path}.log`));
      ports.push(port);
    }
    const started = Date.now();
    const counts = await drive(ports, SECONDS);
    const elapsed = (Date.now() - started) / 1000;
    // The bucket starts full (RATE tokens); what the refill allowed is the rest.
    const perSecond = (counts.ok - RATE) / elapsed;
    rows.push(
      `| ${label} | ${counts.ok + counts.refused + counts.other} | ${counts.ok} | ${perSecond.toFixed(2)} | ${((perSecond / RATE - 1) * 100).toFixed(1)} % | ${counts.other} |`,
    );
    process.stdout.write(`${rows.at(-1)}\n`);
  } finally {
    for (const g of gateways) await stopProcess(g.child);
    await server?.stop();
  }
}

process.stdout.write(
  `rateLimit ${RATE}/s, ${SECONDS} s of closed-loop load, ${CONNECTIONS} keep-alive connections per instance\n\n| setup | requests | allowed | allowed/s after the bucket | vs ${RATE}/s | errors |\n|---|---|---|---|---|---|\n`,
);
for (const workers of [1, 2, 4]) await setup(`1 instance, ${workers} worker(s)`, 1, workers, false);
await setup('2 instances × 2 workers, Redis', 2, 2, true);
origin.close();
