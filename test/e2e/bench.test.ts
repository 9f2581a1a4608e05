// `npm run bench -- --quick` end to end: origin, Gatehouse and a real load generator, one short http
// scenario. It asserts that the bench works (0 errors, requests answered), never how fast.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot, tempDir } from '../support/gateway.ts';

interface Run {
  target: string;
  requests: number;
  rps: number;
  errors: number;
  failure: string | null;
  proxy: { cpuPerRequestUs: number; peakRssBytes: number; workerPeakRssBytes: number[] } | null;
}

test('bench --quick runs one http scenario through Gatehouse with 0 errors', async () => {
  const dir = tempDir('gatehouse-bench-test-');
  const json = join(dir, 'results.json');
  const child = spawn(process.execPath, [join(repoRoot, 'bench', 'run.ts'), '--quick', '--json', json], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    output += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    output += d;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 110_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  assert.equal(code, 0, output);

  const report = JSON.parse(readFileSync(json, 'utf8')) as {
    results: Array<{ name: string; direct: Run; gatehouse: Run }>;
  };
  assert.equal(report.results.length, 1);
  const result = report.results[0];
  assert.ok(result, output);
  assert.equal(result.name, 'http');
  for (const run of [result.direct, result.gatehouse]) {
    assert.equal(run.failure, null, output);
    assert.equal(run.errors, 0, output);
    assert.ok(run.requests > 0 && run.rps > 0, output);
  }
  const proxy = result.gatehouse.proxy;
  assert.ok(proxy, output);
  assert.ok(proxy.cpuPerRequestUs > 0, output);
  assert.equal(proxy.workerPeakRssBytes.length, 2, 'two workers measured');
  assert.ok(proxy.peakRssBytes > 0, output);
  // the human report says the same
  assert.match(output, /── http:/);
  assert.match(output, /gatehouse\/direct\s+[\d.]+×/);
});
