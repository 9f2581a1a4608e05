// The scheduler with its real piscina pool against real loopback backends.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import type { RouteConfig } from '@gatehouse/config';
import { createCa, issueCertificate, type ResolvedUpstreamTls } from '@gatehouse/pki';
import { backendKey } from '@gatehouse/config/backend-health';
import { HealthScheduler, type HealthTransition, joinPath } from '../src/scheduler.ts';
import { type Backend, captureLogger, healthCheck, route, sleep, startBackend, until } from './helpers.ts';

interface Harness {
  scheduler: HealthScheduler;
  transitions: HealthTransition[];
  lines: Array<Record<string, unknown>>;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

function harness(): Harness {
  const { logger, lines } = captureLogger();
  const transitions: HealthTransition[] = [];
  const scheduler = new HealthScheduler({ logger, onTransition: (t) => transitions.push(t) });
  cleanups.push(() => scheduler.close());
  return { scheduler, transitions, lines };
}

async function backend(opts: Parameters<typeof startBackend>[0] = {}): Promise<Backend> {
  const b = await startBackend(opts);
  cleanups.push(() => b.stop());
  return b;
}

const config = (...routes: RouteConfig[]) => ({ routes });
const transitionsOf = (h: Harness, endpoint: string) => h.transitions.filter((t) => t.endpoint === endpoint);

describe('active checks', () => {
  test('the first probe runs at once; a healthy backend stays up without a transition', async () => {
    const h = harness();
    const a = await backend();
    const started = Date.now();
    h.scheduler.apply(config(route('api', [a.endpoint], healthCheck({ intervalMs: 60_000 }))), {});
    await until(() => a.probes === 1, 10_000, 'the first probe');
    assert.ok(Date.now() - started < 30_000, 'the first probe did not wait for the 60 s interval');
    await until(() => h.scheduler.details()[0]?.backends[0]?.lastProbe !== null, 10_000, 'the result');
    const detail = h.scheduler.details()[0]?.backends[0];
    assert.equal(detail?.up, true);
    assert.equal(detail?.lastProbe?.ok, true);
    assert.equal(detail?.lastProbe?.status, 200);
    assert.ok(typeof detail?.lastProbe?.latencyMs === 'number');
    assert.equal(h.transitions.length, 0);
    assert.deepEqual(h.scheduler.health(), { [backendKey('api', a.endpoint)]: { up: true, ejectedUntil: 0 } });
  });

  test('a dead backend is marked down by its first probe', async () => {
    const h = harness();
    const dead = await backend();
    await dead.stop();
    h.scheduler.apply(config(route('api', [dead.endpoint], healthCheck({ intervalMs: 60_000, fall: 3 }))), {});
    await until(() => h.transitions.length === 1, 10_000, 'the down transition');
    const t = h.transitions[0];
    assert.equal(t?.kind, 'down');
    assert.deepEqual([t?.from, t?.to], ['up', 'down']);
    assert.equal(t?.reason, 'first probe failed: connection refused');
    assert.deepEqual(t?.health, { up: false, ejectedUntil: 0 });
    assert.equal(h.scheduler.health()[backendKey('api', dead.endpoint)]?.up, false);
  });

  test('fall failures take it down, rise successes bring it up; one log line each', async () => {
    const h = harness();
    const a = await backend();
    const hc = healthCheck({ intervalMs: 150, fall: 3, rise: 2 });
    h.scheduler.apply(config(route('api', [a.endpoint], hc)), {});
    await until(() => a.probes >= 2, 10_000, 'two good probes');

    a.mode = 503;
    const flipped = Date.now();
    const probesAtFlip = a.probes;
    await until(() => h.transitions.length === 1, 10_000, 'down');
    const down = h.transitions[0];
    assert.equal(down?.kind, 'down');
    assert.equal(down?.reason, '3 consecutive failed probes: status 503 is not healthy (healthy: 200-399)');
    assert.equal(down?.probe?.status, 503);
    assert.ok(a.probes - probesAtFlip >= 3, 'it took three failed probes');
    // interval × fall plus one interval of slack for where in the cycle the flip fell (+ jitter).
    assert.ok(Date.now() - flipped < hc.intervalMs * (hc.fall + 1) * 1.1 + hc.timeoutMs + 3000, 'mark-down in time');

    a.mode = 200;
    const probesAtRecover = a.probes;
    await until(() => h.transitions.length === 2, 10_000, 'up');
    const up = h.transitions[1];
    assert.equal(up?.kind, 'up');
    assert.deepEqual([up?.from, up?.to], ['down', 'up']);
    assert.equal(up?.reason, '2 consecutive successful probes');
    assert.ok(a.probes - probesAtRecover >= 2);
    assert.deepEqual(up?.health, { up: true, ejectedUntil: 0 });

    const logged = h.lines.filter((l) => typeof l.msg === 'string' && /^backend (down|up)$/.test(l.msg));
    assert.deepEqual(
      logged.map((l) => [l.msg, l.route, l.backend, l.from, l.to]),
      [
        ['backend down', 'api', a.endpoint, 'up', 'down'],
        ['backend up', 'api', a.endpoint, 'down', 'up'],
      ],
    );
    assert.equal((logged[0]?.probe as { status: number } | undefined)?.status, 503);
    assert.equal(logged[0]?.level, 40);
    const detail = h.scheduler.details()[0]?.backends[0];
    assert.equal(detail?.transitions, 2);
    assert.deepEqual(
      detail?.recentTransitions.map((r) => r.kind),
      ['down', 'up'],
    );
  });

  test('a hanging backend is marked down by timeout while the others keep their schedule', async () => {
    const h = harness();
    const hanging = await backend({ mode: 'hang' });
    const steady = await backend();
    const hc = healthCheck({ intervalMs: 1000, timeoutMs: 800, fall: 2, rise: 2 });
    const steadyHc = healthCheck({ intervalMs: 150 });
    h.scheduler.apply(config(route('api', [hanging.endpoint], hc), route('other', [steady.endpoint], steadyHc)), {});
    await until(() => steady.probes >= 1, 10_000, 'the first probes');
    const since = Date.now();
    const steadyBefore = steady.probes;
    await until(() => h.transitions.length === 1, 10_000, 'the hanging backend down');
    const t = h.transitions[0];
    assert.equal(t?.endpoint, hanging.endpoint);
    assert.equal(t?.reason, 'first probe failed: timeout after 800 ms');
    // While each hanging probe waits 800 ms, the steady backend is still probed every ~150 ms;
    // probes queued behind the hanging one would come about once per 800 ms.
    await sleep(1500);
    const elapsed = Date.now() - since;
    const steadyProbes = steady.probes - steadyBefore;
    assert.ok(steadyProbes >= elapsed / 400, `${steadyProbes} probes of the steady backend in ${elapsed} ms`);
    assert.ok(hanging.probes <= Math.ceil(elapsed / hc.intervalMs) + 2, 'no overlapping probes of the hanging one');
    assert.equal(transitionsOf(h, steady.endpoint).length, 0);
  });

  test('one probe per interval per backend, never overlapping, with jitter', async () => {
    const h = harness();
    const a = await backend();
    h.scheduler.apply(config(route('api', [a.endpoint], healthCheck({ intervalMs: 200 }))), {});
    await until(() => a.probes >= 2, 10_000, 'the first probes');
    const from = a.probeTimes.length;
    const start = Date.now();
    await sleep(2000);
    const elapsed = Date.now() - start;
    const times = a.probeTimes.slice(from - 1);
    const gaps = times.slice(1).map((t, i) => t - (times[i] ?? 0));
    // Never more than one per interval (less 10 % jitter); fewer only when the machine is slow.
    assert.ok(gaps.length <= elapsed / 180 + 1, `${gaps.length} probes in ${elapsed} ms at a 200 ms interval`);
    assert.ok(gaps.length >= 3, `${gaps.length} probes in ${elapsed} ms at a 200 ms interval`);
    // Arrival times carry scheduling noise; a second probe within the same interval would be ~0 ms.
    for (const gap of gaps) assert.ok(gap >= 60, `gap ${gap} ms`);
    assert.ok(new Set(gaps).size > 1, 'the gaps vary (jitter)');
  });

  test('a route without a health check is never probed and is always up', async () => {
    const h = harness();
    const a = await backend();
    h.scheduler.apply(config(route('plain', [a.endpoint], null)), {});
    await sleep(400);
    assert.equal(a.probes, 0);
    assert.deepEqual(h.scheduler.health(), { [backendKey('plain', a.endpoint)]: { up: true, ejectedUntil: 0 } });
    assert.equal(h.scheduler.details()[0]?.checked, false);
  });

  test('joinPath puts the health path under the endpoint base path', () => {
    assert.equal(joinPath('/', '/healthz'), '/healthz');
    assert.equal(joinPath('/api', '/healthz'), '/api/healthz');
    assert.equal(joinPath('/api/', 'healthz'), '/api/healthz');
  });
});

describe('mTLS probes', () => {
  test('pass with the route client certificate and fail without it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-health-sched-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const ca = await createCa(dir, { name: 'ca' });
    const server = await issueCertificate(ca, { name: 'srv', cn: 'srv', ips: ['127.0.0.1'], usage: 'server' });
    const client = await issueCertificate(ca, { name: 'cli', cn: 'gatehouse', usage: 'client' });
    const b = await backend({
      tls: { cert: server.certPem, key: server.keyPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: true },
    });
    const withCert: ResolvedUpstreamTls = {
      ca: ca.certPem,
      cert: client.certPem,
      key: client.keyPem,
      rejectUnauthorized: true,
      servername: null,
      identity: 'with',
    };
    const withoutCert: ResolvedUpstreamTls = { ...withCert, cert: null, key: null, identity: 'without' };
    const h = harness();
    const hc = healthCheck({ intervalMs: 150 });
    h.scheduler.apply(config(route('mtls', [b.endpoint], hc), route('nocert', [b.endpoint], hc)), {
      mtls: withCert,
      nocert: withoutCert,
    });
    await until(() => h.transitions.length === 1 && b.probes >= 3, 10_000, 'probes of both routes');
    assert.equal(h.transitions[0]?.route, 'nocert');
    assert.match(h.transitions[0]?.reason ?? '', /client certificate|connection (reset|closed)/);
    const health = h.scheduler.health();
    assert.equal(health[backendKey('mtls', b.endpoint)]?.up, true);
    assert.equal(health[backendKey('nocert', b.endpoint)]?.up, false);
    const mtlsDetail = h.scheduler.details().find((r) => r.name === 'mtls')?.backends[0];
    assert.equal(mtlsDetail?.lastProbe?.ok, true);
  });
});

describe('reload', () => {
  test('kept backends keep their state, removed ones stop, added ones are probed at once', async () => {
    const h = harness();
    const kept = await backend({ mode: 500 });
    const removed = await backend();
    const added = await backend();
    const hc = healthCheck({ intervalMs: 150 });
    h.scheduler.apply(config(route('api', [kept.endpoint, removed.endpoint], hc)), {});
    await until(() => transitionsOf(h, kept.endpoint).length === 1 && removed.probes >= 1, 10_000, 'kept down');

    h.scheduler.apply(
      config(route('api', [kept.endpoint, added.endpoint], healthCheck({ intervalMs: 150, rise: 3 }))),
      {},
    );
    await until(() => added.probes >= 1, 10_000, 'the added backend probed at once');
    await sleep(hc.timeoutMs + 50); // a probe already in flight may still land
    const removedProbes = removed.probes;
    await sleep(600);
    assert.equal(removed.probes, removedProbes, 'no probes for a removed backend');
    assert.equal(transitionsOf(h, kept.endpoint).length, 1, 'the kept backend was not reset');
    const health = h.scheduler.health();
    assert.deepEqual(
      Object.keys(health).sort(),
      [backendKey('api', added.endpoint), backendKey('api', kept.endpoint)].sort(),
    );
    assert.equal(health[backendKey('api', kept.endpoint)]?.up, false);
    assert.equal(health[backendKey('api', added.endpoint)]?.up, true);

    // The new thresholds apply to kept state: rise is 3 now.
    kept.mode = 200;
    const before = kept.probes;
    await until(() => transitionsOf(h, kept.endpoint).length === 2, 10_000, 'kept back up');
    assert.ok(kept.probes - before >= 3);
    assert.equal(transitionsOf(h, kept.endpoint)[1]?.reason, '3 consecutive successful probes');
  });

  test('removing the health check brings a down backend up; removing the route stops everything', async () => {
    const h = harness();
    const a = await backend({ mode: 503 });
    h.scheduler.apply(config(route('api', [a.endpoint], healthCheck({ intervalMs: 150 }))), {});
    await until(() => h.transitions.length === 1, 10_000, 'down');
    h.scheduler.apply(config(route('api', [a.endpoint], null)), {});
    assert.equal(h.transitions.length, 2);
    assert.deepEqual([h.transitions[1]?.kind, h.transitions[1]?.reason], ['up', 'health check removed from the route']);
    assert.equal(h.transitions[1]?.health.up, true);
    await sleep(500); // a probe already in flight may still land
    const probes = a.probes;
    await sleep(400);
    assert.equal(a.probes, probes);

    h.scheduler.apply(config(), {});
    assert.deepEqual(h.scheduler.health(), {});
    assert.deepEqual(h.scheduler.details(), []);
  });
});

describe('passive ejection', () => {
  const failure = (routeName: string, endpoint: string) => ({
    route: routeName,
    endpoint,
    ok: false,
    reason: 'connection reset',
  });

  test('consecutive failures across reports eject; the cap keeps half of the route', async () => {
    const h = harness();
    const a = await backend();
    const b = await backend();
    h.scheduler.apply(config(route('api', [a.endpoint, b.endpoint], null)), {});
    // Two workers' batches, interleaved: the count is across all of them.
    h.scheduler.reportPassive([failure('api', a.endpoint), failure('api', a.endpoint)]);
    h.scheduler.reportPassive([failure('api', a.endpoint), failure('api', a.endpoint)]);
    assert.equal(h.transitions.length, 0);
    const before = Date.now();
    h.scheduler.reportPassive([failure('api', a.endpoint)]);
    assert.equal(h.transitions.length, 1);
    const t = h.transitions[0];
    assert.equal(t?.kind, 'ejected');
    assert.deepEqual([t?.from, t?.to], ['up', 'ejected']);
    assert.equal(t?.probe, null);
    assert.ok((t?.health.ejectedUntil ?? 0) >= before + 30_000, 'default base ejection is 30 s');
    assert.equal(t?.health.up, true, 'active state is independent of the ejection');
    assert.equal(h.scheduler.health()[backendKey('api', a.endpoint)]?.ejectedUntil, t?.health.ejectedUntil);
    assert.ok(h.lines.some((l) => l.msg === 'backend ejected' && l.backend === a.endpoint));

    h.scheduler.reportPassive(Array.from({ length: 8 }, () => failure('api', b.endpoint)));
    assert.equal(h.transitions.length, 1, 'the second of two backends is not ejected at 50 %');
    assert.ok(h.lines.some((l) => l.msg === 'backend ejection skipped: route at its ejection cap'));
    h.scheduler.reportPassive([{ route: 'nope', endpoint: a.endpoint, ok: false, reason: null }]);
    assert.equal(h.transitions.length, 1, 'unknown backends are ignored');
  });

  test('an ejection ends by itself and doubles on repeat', async () => {
    const h = harness();
    const a = await backend();
    const b = await backend();
    const hc = healthCheck({ intervalMs: 60_000, passiveFailures: 2, passiveBaseEjectionMs: 200 });
    h.scheduler.apply(config(route('api', [a.endpoint, b.endpoint], hc)), {});
    // Let the first probes finish: a good probe after the ejection would end it early.
    await until(() => h.scheduler.details()[0]?.backends.every((x) => x.lastProbe !== null) === true, 10_000, 'probes');
    h.scheduler.reportPassive([failure('api', a.endpoint), failure('api', a.endpoint)]);
    const first = h.transitions.find((t) => t.kind === 'ejected');
    assert.ok(first);
    await until(() => h.transitions.some((t) => t.kind === 'restored'), 10_000, 'restored');
    const restored = h.transitions.find((t) => t.kind === 'restored');
    assert.deepEqual([restored?.from, restored?.to, restored?.reason], ['ejected', 'up', 'ejection of 200 ms elapsed']);
    assert.equal(restored?.health.ejectedUntil, 0);
    assert.ok(h.lines.some((l) => l.msg === 'backend restored'));

    const now = Date.now();
    h.scheduler.reportPassive([failure('api', a.endpoint), failure('api', a.endpoint)]);
    const second = h.transitions.filter((t) => t.kind === 'ejected')[1];
    assert.ok(second && second.health.ejectedUntil - now >= 400, 'the repeat ejection lasts twice as long');
  });

  test('a successful active probe ends an ejection early', async () => {
    const h = harness();
    const a = await backend();
    const b = await backend();
    const hc = healthCheck({ intervalMs: 200, passiveFailures: 2, passiveBaseEjectionMs: 60_000 });
    h.scheduler.apply(config(route('api', [a.endpoint, b.endpoint], hc)), {});
    await until(() => a.probes >= 1, 10_000, 'first probe');
    h.scheduler.reportPassive([failure('api', a.endpoint), failure('api', a.endpoint)]);
    assert.equal(h.transitions.at(-1)?.kind, 'ejected');
    await until(() => h.transitions.at(-1)?.kind === 'restored', 10_000, 'restored by a probe');
    const t = h.transitions.at(-1);
    assert.equal(t?.reason, 'active probe succeeded during ejection');
    assert.equal(t?.probe?.ok, true);
    assert.equal(h.scheduler.health()[backendKey('api', a.endpoint)]?.ejectedUntil, 0);
  });
});

describe('close', () => {
  test('stops probing and ignores further input', async () => {
    const h = harness();
    const a = await backend({ mode: 'hang' });
    h.scheduler.apply(config(route('api', [a.endpoint], healthCheck({ intervalMs: 100, timeoutMs: 2000 }))), {});
    await until(() => a.probes >= 1, 10_000, 'a probe in flight');
    await h.scheduler.close();
    const probes = a.probes;
    h.scheduler.reportPassive([failure('api', a.endpoint)]);
    h.scheduler.apply(config(route('api', [a.endpoint], healthCheck({ intervalMs: 100 }))), {});
    await sleep(300);
    assert.equal(a.probes, probes);
    assert.equal(h.transitions.length, 0);
  });
});

function failure(routeName: string, endpoint: string) {
  return { route: routeName, endpoint, ok: false, reason: 'connection reset' };
}
