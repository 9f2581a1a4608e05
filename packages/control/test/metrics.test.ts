import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import cluster, { type Worker } from 'node:cluster';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { CertificateStatus } from '../src/gateway-api.ts';
import { createPrimaryMetrics, mergeExpositions, splitFamilies } from '../src/metrics.ts';

const here = dirname(fileURLToPath(import.meta.url));
const hasPromtool = spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0;

/** `promtool check metrics` on `text`; returns its output when it complains. */
function promtoolProblems(text: string): string {
  const result = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return result.status === 0 ? '' : `${result.stdout}${result.stderr}`;
}

/** `name{labels} value` lines of one family, as a map from the label part to the value. */
function samples(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^(\S+?)(\{.*\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    out.set(match[2] ?? '', Number(match[3]));
  }
  return out;
}

function familyNames(text: string): string[] {
  return [...text.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]!);
}

const cert = (over: Partial<CertificateStatus>): CertificateStatus => ({
  role: 'server',
  names: ['api.example.test'],
  subject: 'CN=api.example.test',
  serial: '0A1B',
  fingerprint256: 'AA:BB',
  issuer: 'CN=Test CA',
  sourceKind: 'file',
  notAfter: '2030-01-02T03:04:05.000Z',
  daysLeft: 100,
  source: '/etc/gatehouse/api.crt',
  ...over,
});

describe('splitFamilies / mergeExpositions', () => {
  it('keeps every sample with its family and lets the primary win a name clash', () => {
    const workers = [
      '# HELP a_total A',
      '# TYPE a_total counter',
      'a_total{x="1"} 3',
      '',
      '# HELP h_seconds H',
      '# TYPE h_seconds histogram',
      'h_seconds_bucket{le="0.1"} 1',
      'h_seconds_bucket{le="+Inf"} 2',
      'h_seconds_sum 0.3',
      'h_seconds_count 2',
      '',
      '# HELP shared S from workers',
      '# TYPE shared gauge',
      'shared 1',
      '',
    ].join('\n');
    const primary = ['# HELP shared S from primary', '# TYPE shared gauge', 'shared 7', ''].join('\n');
    const families = splitFamilies(workers);
    assert.deepEqual([...families.keys()], ['a_total', 'h_seconds', 'shared']);
    assert.match(families.get('h_seconds')!, /h_seconds_count 2/);
    const merged = mergeExpositions(workers, primary);
    assert.deepEqual(familyNames(merged), ['a_total', 'h_seconds', 'shared']);
    assert.deepEqual(samples(merged, 'shared'), new Map([['', 7]]));
    assert.equal(mergeExpositions('', primary).trim(), primary.trim());
    // A gauge named like a counter (prom-client's nodejs_active_handles_total) is left out.
    const misnamed = ['# HELP n_total N', '# TYPE n_total gauge', 'n_total 3', ''].join('\n');
    assert.deepEqual(familyNames(mergeExpositions(misnamed, primary)), ['shared']);
  });
});

describe('createPrimaryMetrics', () => {
  it('records reloads, generation, restarts, ticket-key changes, backends and certificates under the public names', async () => {
    const metrics = createPrimaryMetrics();
    let text = (await metrics.scrape()).body;
    assert.deepEqual(
      samples(text, 'gatehouse_config_reloads_total'),
      new Map([
        ['{result="accepted"}', 0],
        ['{result="rejected"}', 0],
      ]),
    );
    assert.deepEqual(
      samples(text, 'gatehouse_tls_ticket_key_changes_total'),
      new Map([
        ['{change="rotated"}', 0],
        ['{change="retired"}', 0],
      ]),
    );
    metrics.generation(4);
    metrics.reloadResult(true);
    metrics.reloadResult(false);
    metrics.reloadResult(false);
    metrics.workerRestart();
    metrics.ticketKeyChange('rotated');
    metrics.ticketKeyChange('rotated');
    metrics.ticketKeyChange('retired');
    metrics.backendUp('api', 'http://127.0.0.1:1', true);
    metrics.backendUp('api', 'http://127.0.0.1:2', false);
    metrics.backendEjected('api', 'http://127.0.0.1:2');
    metrics.certificates([
      cert({ names: ['api.example.test', 'www.example.test'] }),
      cert({ role: 'client-ca', names: [], subject: 'CN=Clients CA', serial: '01', notAfter: '2031-01-01T00:00:00Z' }),
    ]);
    const scraped = await metrics.scrape();
    assert.match(scraped.contentType, /^text\/plain; version=0\.0\.4/);
    text = scraped.body;
    assert.deepEqual(samples(text, 'gatehouse_config_generation'), new Map([['', 4]]));
    assert.deepEqual(samples(text, 'gatehouse_config_last_reload_success'), new Map([['', 0]]));
    assert.deepEqual(
      samples(text, 'gatehouse_config_reloads_total'),
      new Map([
        ['{result="accepted"}', 1],
        ['{result="rejected"}', 2],
      ]),
    );
    assert.deepEqual(samples(text, 'gatehouse_worker_restarts_total'), new Map([['', 1]]));
    assert.deepEqual(
      samples(text, 'gatehouse_tls_ticket_key_changes_total'),
      new Map([
        ['{change="rotated"}', 2],
        ['{change="retired"}', 1],
      ]),
    );
    assert.deepEqual(
      samples(text, 'gatehouse_backend_up'),
      new Map([
        ['{route="api",backend="http://127.0.0.1:1"}', 1],
        ['{route="api",backend="http://127.0.0.1:2"}', 0],
      ]),
    );
    assert.deepEqual(
      samples(text, 'gatehouse_backend_ejections_total'),
      new Map([['{route="api",backend="http://127.0.0.1:2"}', 1]]),
    );
    const api = Date.parse('2030-01-02T03:04:05Z') / 1000;
    assert.deepEqual(
      samples(text, 'gatehouse_certificate_not_after_seconds'),
      new Map([
        ['{name="api.example.test",serial="0A1B",role="server"}', api],
        ['{name="www.example.test",serial="0A1B",role="server"}', api],
        ['{name="CN=Clients CA",serial="01",role="client-ca"}', Date.parse('2031-01-01T00:00:00Z') / 1000],
      ]),
    );
    assert.ok(familyNames(text).includes('gatehouse_primary_process_cpu_user_seconds_total'), 'primary defaults');

    // A reload replaces the certificate list and drops removed backends.
    metrics.certificates([cert({ serial: '0C0D' })]);
    metrics.retainBackends([{ route: 'api', backend: 'http://127.0.0.1:1' }]);
    text = (await metrics.scrape()).body;
    assert.deepEqual(
      [...samples(text, 'gatehouse_certificate_not_after_seconds').keys()],
      ['{name="api.example.test",serial="0C0D",role="server"}'],
    );
    assert.deepEqual([...samples(text, 'gatehouse_backend_up').keys()], ['{route="api",backend="http://127.0.0.1:1"}']);
    assert.deepEqual(samples(text, 'gatehouse_backend_ejections_total'), new Map());
  });

  describe('with two cluster workers', () => {
    const workers: Worker[] = [];
    let dir = '';
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'gatehouse-metrics-'));
      cluster.setupPrimary({ exec: join(here, 'fixtures', 'metrics-worker.ts'), silent: true });
      for (const count of [5, 7]) {
        const worker = cluster.fork({ REQUESTS: String(count) });
        workers.push(worker);
        await once(worker, 'message');
      }
    });
    after(async () => {
      for (const worker of workers) {
        const exited = once(worker, 'exit');
        worker.process.kill('SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    });

    it('sums the workers counters and keeps each family once', async () => {
      const metrics = createPrimaryMetrics();
      metrics.backendUp('api', 'http://primary-view', true);
      const { body } = await metrics.scrape();
      assert.deepEqual(
        samples(body, 'gatehouse_requests_total'),
        new Map([
          ['{route="api",method="GET",code="200"}', 12],
          ['{route="api",method="POST",code="502"}', 2],
        ]),
      );
      // The primary owns gatehouse_backend_up; the workers' family of that name is dropped.
      assert.deepEqual(
        samples(body, 'gatehouse_backend_up'),
        new Map([['{route="api",backend="http://primary-view"}', 1]]),
      );
      const names = familyNames(body);
      assert.equal(new Set(names).size, names.length, `duplicate families: ${names.join(' ')}`);
      assert.ok(names.includes('process_cpu_user_seconds_total'), 'workers defaults');
      assert.ok(names.includes('gatehouse_primary_process_cpu_user_seconds_total'), 'primary defaults');
      writeFileSync(join(dir, 'scrape.txt'), body);
    });

    it('passes promtool check metrics', { skip: hasPromtool ? false : 'promtool not on PATH' }, async () => {
      const metrics = createPrimaryMetrics();
      metrics.generation(1);
      metrics.certificates([cert({})]);
      const { body } = await metrics.scrape();
      assert.equal(promtoolProblems(body), '');
    });
  });
});
