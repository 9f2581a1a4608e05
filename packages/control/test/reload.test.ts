// The primary's reload room against real files: a config on disk, certificates from a real CA, the
// real snapshot build, pair grace and rate-limit ledger, with no worker at all (a rollout to an
// empty set commits at once), so what is checked is the reload's own decisions and what it makes
// current.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { before, test } from 'node:test';
import type { Snapshot } from '@gatehouse/dataplane';
import { createCa, issueCertificate, type LeafHandle } from '@gatehouse/pki';
import pino from 'pino';
import { loadInitial } from '../src/initial-load.ts';
import { createPrimaryMetrics } from '../src/metrics.ts';
import { RateLimitLedger, rateLimitBuckets } from '../src/rate-limit-ledger.ts';
import { Reloader } from '../src/reload.ts';
import { SerialQueue } from '../src/rollout.ts';

let first: LeafHandle;
let second: LeafHandle;

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-reload-ca-'));
  const ca = await createCa(dir, { name: 'root' });
  first = await issueCertificate(ca, { name: 'one', cn: 'localhost', dns: ['localhost'], usage: 'server' });
  second = await issueCertificate(ca, { name: 'two', cn: 'localhost', dns: ['localhost'], usage: 'server' });
});

/** `limited`: routes that use the `limit` rate-limit middleware. */
function configText(options: { webPort?: number; routes?: string[]; limited?: string[] } = {}): string {
  const limited = options.limited ?? [];
  const routes = [...(options.routes ?? ['a']), ...limited].map((name) => {
    const uses = limited.includes(name) ? ', middlewares: [limit]' : '';
    return `  - { name: ${name}, path: /${name}, backends: [{ endpoint: "http://127.0.0.1:9000" }]${uses} }\n`;
  });
  return `version: 2
gateway:
  entryPoints:
    web: { address: "127.0.0.1:${options.webPort ?? 8080}" }
    webSecure: { address: "127.0.0.1:8443" }
  tls: { certificates: [{ cert: live.crt, key: live.key }] }
  watch: { enabled: false, pairGrace: 60s }
middlewares:
  - { name: limit, type: rateLimit, rule: { unit: second, requestsPerUnit: 10 } }
routes:
${routes.join('')}`;
}

interface Room {
  dir: string;
  configFile: string;
  reloader: Reloader;
  lines: Array<Record<string, unknown>>;
  accepted: Array<{ previous: Snapshot; next: Snapshot }>;
  ledger: RateLimitLedger;
  metrics: ReturnType<typeof createPrimaryMetrics>;
  blocked: { reason: string | null };
  tickets: { wire: string };
}

/** A config directory with the first certificate, loaded like `gatehouse run` does, and its reload room. */
async function room(text = configText()): Promise<Room> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-reload-'));
  copyFileSync(first.certPath, join(dir, 'live.crt'));
  copyFileSync(first.keyPath, join(dir, 'live.key'));
  const configFile = join(dir, 'gatehouse.yaml');
  writeFileSync(configFile, text);
  const initial = await loadInitial(configFile, {});
  assert.ok(initial.ok, JSON.stringify(initial));
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  const accepted: Room['accepted'] = [];
  const ledger = new RateLimitLedger(() => {});
  ledger.define(rateLimitBuckets(initial.candidate.snapshot.config));
  const metrics = createPrimaryMetrics();
  const blocked = { reason: null as string | null };
  const tickets = { wire: initial.candidate.snapshot.tls.ticketKeys };
  const reloader = new Reloader({
    configFile,
    env: {},
    logger: pino({ level: 'info' }, sink),
    initial: initial.candidate,
    queue: new SerialQueue(),
    rateLimits: ledger,
    blockedBy: () => blocked.reason,
    rolloutTargets: () => [],
    ticketKeys: () => tickets.wire,
    health: () => null,
    metrics: () => metrics,
    setLogLevel: () => {},
    accepted: (previous, next) => accepted.push({ previous, next }),
  });
  return { dir, configFile, reloader, lines, accepted, ledger, metrics, blocked, tickets };
}

function messages(r: Room): string[] {
  return r.lines.map((l) => String(l.msg));
}

async function reloadCount(r: Room, result: 'accepted' | 'rejected'): Promise<number> {
  const metric = await r.metrics.registry.getSingleMetric('gatehouse_config_reloads_total')?.get();
  return metric?.values.find((v) => v.labels.result === result)?.value ?? 0;
}

test('the same files again are unchanged: the generation stays and nothing is committed', async () => {
  const r = await room();
  writeFileSync(r.configFile, readFileSync(r.configFile)); // touched, same bytes
  const outcome = await r.reloader.reload('signal');
  assert.deepEqual(
    { accepted: outcome.accepted, unchanged: outcome.unchanged, generation: outcome.generation },
    { accepted: true, unchanged: true, generation: 1 },
  );
  assert.equal(r.reloader.current.generation, 1);
  assert.equal(r.accepted.length, 0);
  assert.ok(messages(r).includes('reload unchanged'));
});

test('a changed config becomes the next generation, and the primary is told what replaced what', async () => {
  const r = await room();
  writeFileSync(r.configFile, configText({ routes: ['a', 'b'] }));
  const outcome = await r.reloader.reload('admin');
  assert.equal(outcome.accepted, true, outcome.message);
  assert.equal(outcome.unchanged, false);
  assert.equal(outcome.generation, 2);
  assert.equal(r.reloader.current.generation, 2);
  assert.deepEqual(
    r.reloader.current.config.routes.map((route) => route.name),
    ['a', 'b'],
  );
  assert.equal(r.accepted.length, 1);
  assert.equal(r.accepted[0]?.previous.generation, 1);
  assert.equal(r.accepted[0]?.next, r.reloader.current);
  assert.equal(r.reloader.lastReload?.accepted, true);
  assert.equal(r.reloader.lastReload?.message, outcome.message);
  assert.equal(await reloadCount(r, 'accepted'), 1);
  const line = r.lines.find((l) => l.msg === 'reload accepted');
  assert.equal(line?.trigger, 'admin');
  assert.equal(line?.generation, 2);
});

test('a broken config is rejected naming file and line; the running generation stays current', async () => {
  const r = await room();
  const before = r.reloader.current;
  writeFileSync(r.configFile, `${configText()}  - [broken\n`);
  const outcome = await r.reloader.reload('signal');
  assert.equal(outcome.accepted, false);
  assert.equal(outcome.generation, 1);
  assert.equal(outcome.errors[0]?.file, r.configFile);
  assert.ok((outcome.errors[0]?.line ?? 0) > 0);
  assert.ok(outcome.message.includes(r.configFile), outcome.message);
  assert.equal(r.reloader.current, before);
  assert.equal(r.accepted.length, 0);
  assert.equal(r.reloader.lastReload?.accepted, false);
  assert.equal(await reloadCount(r, 'rejected'), 1);
  const line = r.lines.find((l) => l.msg === 'reload rejected');
  assert.equal(line?.level, 50);
  assert.deepEqual(line?.files, [r.configFile]);
  // Fixed again: the next reload is judged on its own.
  writeFileSync(r.configFile, configText({ routes: ['a', 'c'] }));
  const fixed = await r.reloader.reload('signal');
  assert.equal(fixed.accepted, true, fixed.message);
  assert.equal(fixed.generation, 2);
});

test('a moved listener is pinned to the bound address, with a warning that it needs a restart', async () => {
  const r = await room();
  writeFileSync(r.configFile, configText({ webPort: 8081 }));
  const outcome = await r.reloader.reload('signal');
  assert.equal(outcome.accepted, true, outcome.message);
  assert.equal(r.reloader.current.config.gateway.entryPoints.web?.port, 8080);
  const warning = r.lines.find((l) => l.msg === 'listener address changed; needs restart');
  assert.deepEqual(warning?.bound, ['127.0.0.1:8080', '127.0.0.1:8443']);
  assert.deepEqual(warning?.configured, ['127.0.0.1:8081', '127.0.0.1:8443']);
});

test('a new certificate before its key: a file change waits for the key, a signal is rejected at once', async () => {
  const r = await room();
  copyFileSync(second.certPath, join(r.dir, 'live.crt'));
  const waiting = await r.reloader.reload('file');
  assert.equal(waiting.accepted, false);
  assert.equal(waiting.message, 'waiting for the matching key');
  assert.equal(await reloadCount(r, 'rejected'), 0, 'waiting is not a rejection');
  assert.ok(messages(r).includes('waiting for the matching key'));
  assert.ok(!messages(r).includes('reload rejected'));

  const signalled = await r.reloader.reload('signal');
  assert.equal(signalled.accepted, false);
  assert.notEqual(signalled.message, 'waiting for the matching key');
  assert.equal(await reloadCount(r, 'rejected'), 1);

  copyFileSync(second.keyPath, join(r.dir, 'live.key'));
  const healed = await r.reloader.reload('file');
  assert.equal(healed.accepted, true, healed.message);
  assert.equal(r.reloader.current.tls.certificates[0]?.serial, second.serial);
  r.reloader.stop();
});

test('while the primary cannot reload (starting, draining), a reload is refused with its reason', async () => {
  const r = await room();
  r.blocked.reason = 'the gateway is still starting';
  writeFileSync(r.configFile, configText({ routes: ['a', 'b'] }));
  const outcome = await r.reloader.reload('admin');
  assert.equal(outcome.accepted, false);
  assert.equal(outcome.message, 'the gateway is still starting');
  assert.equal(r.reloader.current.generation, 1);
  r.blocked.reason = null;
  assert.equal((await r.reloader.reload('admin')).generation, 2);
});

test('a new generation carries the ticket keys of its moment; a rotation keeps the generation', async () => {
  const r = await room();
  const rotated = Buffer.alloc(96, 7).toString('base64');
  r.reloader.setTicketKeys(rotated);
  assert.equal(r.reloader.current.generation, 1);
  assert.equal(r.reloader.current.tls.ticketKeys, rotated);
  const fresh = Buffer.alloc(96, 9).toString('base64');
  r.tickets.wire = fresh;
  writeFileSync(r.configFile, configText({ routes: ['a', 'b'] }));
  assert.equal((await r.reloader.reload('signal')).accepted, true);
  assert.equal(r.reloader.current.tls.ticketKeys, fresh);
});

test('rate-limit buckets follow the generation: a dropped route loses its bucket once the next one commits', async () => {
  const r = await room(configText({ limited: ['x', 'y'] }));
  assert.equal(r.ledger.bucketCount(), 2);
  writeFileSync(r.configFile, configText({ limited: ['x'] }));
  const outcome = await r.reloader.reload('signal');
  assert.equal(outcome.accepted, true, outcome.message);
  assert.equal(r.ledger.bucketCount(), 1);
});
