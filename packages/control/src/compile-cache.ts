// The workers' compile cache, for their memory. Node runs the .ts sources by type-stripping them
// with amaro, a WebAssembly build of swc that stays in the process once instantiated: about 30 MiB
// of each worker's RSS (measured: idle 116 → 86–99 MiB, peak at 200 connections 135–154 → 104–121
// MiB). Node's compile cache keeps the stripped JavaScript as well as V8's code cache, so a worker
// whose modules all hit the cache never loads amaro. The primary compiles the worker's modules once
// in a short-lived child, then forks every worker with NODE_COMPILE_CACHE pointing at the same place.
//
// The cache holds code the workers run, so it lives only in a directory this user owns and nobody
// else can write: systemd's CacheDirectory= ($CACHE_DIRECTORY) or a 0700 directory of our own under
// the temp dir. Never Node's default, a directory shared by every user of the machine.
import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { enableCompileCache, constants as moduleConstants } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export type CompileCacheResult = { directory: string; reason: null } | { directory: null; reason: string };

/** Where the cache may live: systemd's cache directory, else a private one under the temp dir. */
export function compileCacheDirectory(env: NodeJS.ProcessEnv = process.env): string {
  const systemd = env.CACHE_DIRECTORY?.split(':')[0];
  if (systemd) return join(systemd, 'compile-cache');
  const uid = typeof process.getuid === 'function' ? process.getuid() : 'user';
  return join(tmpdir(), `gatehouse-compile-cache-${uid}`);
}

/** Null when `directory` is private to this user (created 0700 if missing); otherwise why not. */
export function privateDirectoryProblem(directory: string): string | null {
  try {
    mkdirSync(directory, { recursive: true, mode: 0o700 });
    const stat = statSync(directory);
    if (!stat.isDirectory()) return `${directory} is not a directory`;
    if (typeof process.getuid === 'function' && stat.uid !== process.getuid()) {
      return `${directory} belongs to uid ${stat.uid}, not to this user`;
    }
    if ((stat.mode & 0o022) !== 0)
      return `${directory} is writable by others (mode ${(stat.mode & 0o777).toString(8)})`;
    return null;
  } catch (error) {
    return `${directory}: ${(error as Error).message}`;
  }
}

/**
 * Turns the compile cache on in this process and fills it with `modules` (evaluated in a child for
 * their compile only: the worker entry throws there without an IPC channel, which is caught). Never
 * throws: without a cache (NODE_DISABLE_COMPILE_CACHE, an unsafe or unwritable directory) workers
 * start as before, only larger. A warm cache costs one Node start-up; a cold one, the compile, once.
 */
export function prepareWorkerCompileCache(modules: readonly string[], execArgv: readonly string[]): CompileCacheResult {
  const directory = compileCacheDirectory();
  const problem = privateDirectoryProblem(directory);
  if (problem !== null) return { directory: null, reason: problem };
  const result = enableCompileCache(directory);
  const status = moduleConstants.compileCacheStatus;
  if (result.status !== status.ENABLED && result.status !== status.ALREADY_ENABLED) {
    return { directory: null, reason: result.message ?? 'Node did not enable the compile cache' };
  }
  const cacheDirectory = result.directory ?? directory;
  const urls = modules.map((path) => pathToFileURL(path).href);
  const script = `for (const url of ${JSON.stringify(urls)}) { try { await import(url); } catch {} }
(await import('node:module')).flushCompileCache(); process.exit(0);`;
  spawnSync(
    process.execPath,
    [...execArgv.filter((arg) => !arg.startsWith('--inspect')), '--input-type=module', '-e', script],
    { env: { ...process.env, NODE_COMPILE_CACHE: cacheDirectory }, stdio: 'ignore', timeout: 20_000 },
  );
  return { directory: cacheDirectory, reason: null };
}
