#!/usr/bin/env node
// Entry of every top-level npm script. It runs on whatever Node the machine has (20 included), so it
// is plain JavaScript with no dependency. It makes sure the locked dependencies are installed, which
// brings Node 24 itself (the registry's `node` package), then hands over to that Node 24 binary.
// This is what lets `npm test` and `npm run demo` be the first commands typed on a fresh clone.
import { spawnSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BuildFailedError, buildDist } from './build-dist.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const node24 = join(root, 'node_modules', 'node', 'bin', 'node');
const stampFile = join(root, 'node_modules', '.gatehouse-install-stamp');

function lockDigest() {
  const hash = createHash('sha256');
  for (const name of ['package.json', 'package-lock.json']) {
    const file = join(root, name);
    if (existsSync(file)) hash.update(readFileSync(file));
  }
  return hash.digest('hex');
}

function ensureInstalled() {
  const digest = lockDigest();
  const stamped = existsSync(stampFile) ? readFileSync(stampFile, 'utf8').trim() : '';
  if (stamped === digest && existsSync(node24)) return;
  const hasLock = existsSync(join(root, 'package-lock.json'));
  process.stderr.write(
    `gatehouse: installing dependencies (npm ${hasLock ? 'ci' : 'install'}), which brings Node 24...\n`,
  );
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, [hasLock ? 'ci' : 'install', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (result.status !== 0 || !existsSync(node24)) {
    process.stderr.write('gatehouse: dependency install failed; see the npm output above.\n');
    process.exit(result.status || 1);
  }
  writeFileSync(stampFile, `${digest}\n`);
}

// The gateway as installed: the compiled dist/ (packages/gatehouse/launcher/gatehouse.js), built first.
const BUILT = ['--conditions=gatehouse-built', 'packages/gatehouse/launcher/gatehouse.js'];
const needsBuild = new Set(['demo', 'gatehouse']);

const commands = {
  // The whole suite: unit tests beside each package, then end-to-end tests that start real processes.
  test: () => [
    '--test',
    '--test-concurrency=2',
    '--test-timeout=180000',
    'packages/*/test/**/*.test.ts',
    'test/e2e/**/*.test.ts',
  ],
  'test:unit': () => ['--test', '--test-concurrency=2', 'packages/*/test/**/*.test.ts'],
  'test:e2e': () => ['--test', '--test-concurrency=2', '--test-timeout=180000', 'test/e2e/**/*.test.ts'],
  demo: () => [...BUILT, 'demo'],
  bench: () => ['bench/run.ts'],
  'bench:metrics': () => ['bench/metrics-cost.ts'],
  gatehouse: () => BUILT,
};

const [command = 'gatehouse', ...rest] = process.argv.slice(2);
const build = commands[command];
if (!build) {
  process.stderr.write(`with-node24: unknown command "${command}"; one of ${Object.keys(commands).join(', ')}\n`);
  process.exit(2);
}
ensureInstalled();
if (needsBuild.has(command)) {
  try {
    buildDist(root, node24);
  } catch (error) {
    if (!(error instanceof BuildFailedError)) throw error;
    process.stderr.write(`${error.output}\ngatehouse: ${error.message}; see the output above.\n`);
    process.exit(1);
  }
}
let args = build();
// A test-file filter given after `npm test --` replaces the default globs.
if (command.startsWith('test') && rest.length > 0) args = args.filter((a) => a.startsWith('--')).concat(rest);
else args = args.concat(rest);

const child = spawn(node24, args, { cwd: root, stdio: 'inherit', env: { ...process.env, GATEHOUSE_NODE: node24 } });
// Signals reach the whole foreground process group from the terminal; forward the ones that come
// from elsewhere (systemd, kill) so that Ctrl-C and SIGTERM stop the child cleanly.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGUSR2']) {
  process.on(signal, () => child.kill(signal));
}
child.on('exit', (code, signal) => {
  const signalNumbers = { SIGINT: 2, SIGHUP: 1, SIGTERM: 15, SIGKILL: 9 };
  process.exit(signal ? 128 + (signalNumbers[signal] ?? 1) : (code ?? 1));
});
