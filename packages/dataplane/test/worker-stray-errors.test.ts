// An error that nothing caught in a worker is written once and counted once, and the worker goes
// on: on stderr before the first snapshot configures the log, as a JSON log line after it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';

const src = (file: string) => JSON.stringify(fileURLToPath(new URL(`../src/${file}`, import.meta.url)));
const fixtures = JSON.stringify(fileURLToPath(new URL('./fixtures.ts', import.meta.url)));

const probe = `
import { WorkerRuntime } from ${src('worker.ts')};
import { promClient } from ${src('metrics.ts')};
import { flushLogs } from ${src('access-log.ts')};
import { gatewayConfig } from ${fixtures};
const runtime = new WorkerRuntime(() => {}, () => {});
runtime.reportStrayError('unhandled_rejection', new Error('before the log'));
// Whether or not a generation can be built from this snapshot, its log configuration is taken.
await runtime.onMessage({ type: 'gh:prepare', snapshot: { generation: 1, config: gatewayConfig([]) } });
runtime.reportStrayError('uncaught_exception', new Error('after the log'));
await new Promise((resolve) => setTimeout(resolve, 50));
flushLogs();
process.stdout.write('\\n' + (await promClient.register.getSingleMetricAsString('gatehouse_worker_stray_errors_total')) + '\\n');
process.exit(0);
`;

it('logs and counts each error nothing caught', () => {
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stderr, /gatehouse worker \d+: unhandled_rejection: Error: before the log\n/);
  const lines = run.stdout.split('\n').filter((line) => line.startsWith('{'));
  const logged = lines
    .map((line) => JSON.parse(line) as { level?: string; kind?: string; err?: { message?: string } })
    .filter((l) => l.kind !== undefined);
  assert.equal(logged.length, 1, run.stdout);
  assert.deepEqual(
    [logged[0]?.level, logged[0]?.kind, logged[0]?.err?.message],
    ['error', 'uncaught_exception', 'after the log'],
  );
  assert.match(run.stdout, /gatehouse_worker_stray_errors_total\{kind="unhandled_rejection"\} 1\n/);
  assert.match(run.stdout, /gatehouse_worker_stray_errors_total\{kind="uncaught_exception"\} 1\n/);
});
