// The workers' compile cache: only in a directory private to this user, and a worker module graph
// loaded through it never instantiates Node's type stripper (amaro), which is what saves the memory.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, test } from 'node:test';
import { workerWarmupPaths } from '@gatehouse/dataplane';
import { compileCacheDirectory, privateDirectoryProblem } from '../src/compile-cache.ts';

describe('where the compile cache may live', () => {
  test("systemd's CacheDirectory first, else a per-user directory under the temp dir", () => {
    assert.equal(
      compileCacheDirectory({ CACHE_DIRECTORY: '/var/cache/gatehouse' }),
      '/var/cache/gatehouse/compile-cache',
    );
    assert.equal(compileCacheDirectory({ CACHE_DIRECTORY: '/a:/b' }), '/a/compile-cache');
    assert.equal(compileCacheDirectory({}), join(tmpdir(), `gatehouse-compile-cache-${process.getuid?.()}`));
  });

  test('a new directory is created 0700; one that others may write is refused', () => {
    const root = mkdtempSync(join(tmpdir(), 'gh-cc-'));
    const fresh = join(root, 'fresh');
    assert.equal(privateDirectoryProblem(fresh), null);
    assert.equal(statSync(fresh).mode & 0o777, 0o700);
    const open = join(root, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    assert.match(privateDirectoryProblem(open) ?? '', /writable by others \(mode 777\)/);
  });
});

test('the worker modules, loaded through the prepared cache, never load the type stripper', () => {
  const root = mkdtempSync(join(tmpdir(), 'gh-cc-'));
  // A child with its own temp dir, so that this test neither uses nor fills the real cache.
  const prepare = `const { prepareWorkerCompileCache } = await import(${JSON.stringify(pathToFileURL(join(import.meta.dirname, '..', 'src', 'compile-cache.ts')).href)});
const r = prepareWorkerCompileCache(${JSON.stringify(workerWarmupPaths)}, []);
process.stdout.write(JSON.stringify(r));`;
  const prepared = spawnSync(process.execPath, ['--input-type=module', '-e', prepare], {
    env: { ...process.env, TMPDIR: root, CACHE_DIRECTORY: '' },
    encoding: 'utf8',
  });
  assert.equal(prepared.status, 0, prepared.stderr);
  const result = JSON.parse(prepared.stdout) as { directory: string | null; reason: string | null };
  assert.equal(result.reason, null);
  assert.ok(result.directory?.startsWith(root), `${result.directory} is under the child's temp dir`);
  assert.ok(readdirSync(result.directory as string).length > 0, 'the cache was filled');

  const load = `for (const u of ${JSON.stringify(workerWarmupPaths.map((p) => pathToFileURL(p).href))}) { try { await import(u); } catch {} }
process.stdout.write(JSON.stringify(process.moduleLoadList.filter((m) => m.includes('amaro'))));`;
  const run = (env: NodeJS.ProcessEnv) =>
    JSON.parse(
      spawnSync(process.execPath, ['--input-type=module', '-e', load], {
        env: { ...process.env, ...env },
        encoding: 'utf8',
      }).stdout,
    ) as string[];
  assert.deepEqual(run({ NODE_COMPILE_CACHE: result.directory as string }), [], 'with the cache: no amaro');
  assert.notDeepEqual(
    run({ NODE_COMPILE_CACHE: join(root, 'empty') }),
    [],
    'without it, amaro is loaded (the test can tell)',
  );
});
