// Brings every package's dist/ up to date with its sources: `turbo run build`, which replays a cached
// build in well under a second and compiles only the packages whose sources changed. Whatever runs
// the built gateway from a checkout (`npm run gatehouse`, `npm run demo`, the bench, the built-gateway
// test) calls this first, so that it never runs dist/ older than src/ (the launcher would refuse to).
// Builds of one checkout take turns (a lock directory in node_modules/): two test files building
// at once would otherwise rewrite dist/ while a gateway of the other reads it.
//
// Plain JavaScript with no dependency: scripts/with-node24.mjs imports it under the machine's Node.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';

export class BuildFailedError extends Error {
  code = 'GH_BUILD_FAILED';
  /** turbo's and tsc's output, for the operator. */
  output;
  constructor(message, output) {
    super(message);
    this.name = 'BuildFailedError';
    this.output = output;
  }
}

/** The longest one build may run (spawnSync's timeout), and so hold the lock. */
const BUILD_TIMEOUT_MS = 300_000;
const LOCK_WAIT_MS = 300_000;
/** A lock directory without its pid file this long after it was made was left by a crash. */
const LOCK_PID_GRACE_MS = 10_000;

/** Whether the process that made `lock` may still hold it. */
function holderAlive(lock) {
  let age;
  try {
    age = Date.now() - statSync(lock).mtimeMs;
  } catch {
    return false;
  }
  // No build outlives its timeout: an older lock was left by a crash, whatever process now has its
  // pid (pids are reused).
  if (age > BUILD_TIMEOUT_MS + LOCK_PID_GRACE_MS) return false;
  let pid;
  try {
    pid = Number(readFileSync(join(lock, 'pid'), 'utf8'));
  } catch {
    return age < LOCK_PID_GRACE_MS;
  }
  // An empty or torn pid file (a crash while writing it) reads as 0 or NaN; kill(0, 0) would signal
  // our own process group and always succeed.
  if (!Number.isInteger(pid) || pid <= 0) return age < LOCK_PID_GRACE_MS;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

function withBuildLock(root, run) {
  const lock = join(root, 'node_modules', '.gatehouse-build-lock');
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
    }
    if (!holderAlive(lock)) rmSync(lock, { recursive: true, force: true });
    else if (Date.now() > deadline) throw new BuildFailedError(`another build still holds ${lock}`, '');
    else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
  }
  try {
    writeFileSync(join(lock, 'pid'), String(process.pid));
    return run();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * Runs the build in `root` (the repository), quietly; throws BuildFailedError with the build's output
 * when it fails. `node` is the Node that runs the build's own scripts (Node 24 from node_modules).
 */
export function buildDist(root, node = join(root, 'node_modules', 'node', 'bin', 'node')) {
  const turbo = join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'turbo.cmd' : 'turbo');
  const result = withBuildLock(root, () =>
    spawnSync(turbo, ['run', 'build', '--output-logs=errors-only'], {
      cwd: root,
      encoding: 'utf8',
      env: {
        ...process.env,
        PATH: `${dirname(node)}${delimiter}${process.env.PATH ?? ''}`,
        TURBO_TELEMETRY_DISABLED: '1',
      },
      timeout: BUILD_TIMEOUT_MS,
    }),
  );
  if (result.status === 0) return;
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? `\n${result.error.message}` : ''}`;
  throw new BuildFailedError(`npm run build failed (turbo exit ${result.status ?? result.signal})`, output);
}
