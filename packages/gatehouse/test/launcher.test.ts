// The launcher (launcher/gatehouse.js) in a small workspace of its own: two packages whose exports
// map the gatehouse-built condition to dist/, as the real ones do. Without the condition it runs the
// sources; with it, dist/, and only while every package's dist/ was built from its current sources.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const launcherDir = join(import.meta.dirname, '..', 'launcher');

function writeFiles(root: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
}

function workspace(): string {
  const root = mkdtempSync(join(tmpdir(), 'gatehouse-launcher-'));
  const exports = JSON.stringify({ '.': { 'gatehouse-built': './dist/index.js', default: './src/index.ts' } });
  writeFiles(root, {
    'packages/control/package.json': `{ "name": "@gatehouse/control", "type": "module", "exports": ${exports} }`,
    'packages/control/src/index.ts': 'export const side: string = "sources";\n',
    'packages/control/dist/index.js': 'export const side = "dist";\n',
    'packages/gatehouse/package.json': '{ "name": "@gatehouse/gatehouse", "type": "module" }',
    'packages/gatehouse/src/bin.ts': "import { side } from '@gatehouse/control';\nconsole.log('ran', side);\n",
    'packages/gatehouse/dist/bin.js': "import { side } from '@gatehouse/control';\nconsole.log('ran', side);\n",
  });
  mkdirSync(join(root, 'node_modules', '@gatehouse'), { recursive: true });
  symlinkSync(join(root, 'packages', 'control'), join(root, 'node_modules', '@gatehouse', 'control'));
  mkdirSync(join(root, 'packages', 'gatehouse', 'launcher'));
  for (const file of ['gatehouse.js', 'build-stamp.js', 'write-build-stamp.js']) {
    copyFileSync(join(launcherDir, file), join(root, 'packages', 'gatehouse', 'launcher', file));
  }
  return root;
}

/** What each package's `build` script runs after tsc, in that package's directory. */
function stamp(root: string, name: string): void {
  const dir = join(root, 'packages', name);
  const result = spawnSync(process.execPath, [join(dir, '..', 'gatehouse', 'launcher', 'write-build-stamp.js')], {
    cwd: dir,
  });
  assert.equal(result.status, 0, String(result.stderr));
}

function launch(root: string, built: boolean) {
  const launcher = join(root, 'packages', 'gatehouse', 'launcher', 'gatehouse.js');
  const args = built ? ['--conditions=gatehouse-built', launcher] : [launcher];
  return spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 30_000 });
}

test('without the condition the launcher runs the sources, stamped or not', () => {
  const root = workspace();
  const result = launch(root, false);
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout, 'ran sources\n');
});

test('with the condition it runs dist/ once every package is stamped with its current sources', () => {
  const root = workspace();
  const unbuilt = launch(root, true);
  assert.equal(unbuilt.status, 1);
  assert.equal(unbuilt.stdout, '');
  assert.match(
    unbuilt.stderr,
    /packages\/control, packages\/gatehouse: dist\/ is missing or was built from other sources/,
  );

  stamp(root, 'control');
  stamp(root, 'gatehouse');
  const built = launch(root, true);
  assert.equal(built.status, 0, built.stderr);
  assert.equal(built.stdout, 'ran dist\n');
});

test('an edited, added or renamed source file makes its package stale', () => {
  const root = workspace();
  stamp(root, 'control');
  stamp(root, 'gatehouse');
  const src = join(root, 'packages', 'control', 'src');
  const changes: Array<() => void> = [
    () => writeFileSync(join(src, 'index.ts'), 'export const side: string = "edited";\n'),
    () => writeFileSync(join(src, 'more.ts'), 'export {};\n'),
    () => renameSync(join(src, 'more.ts'), join(src, 'renamed.ts')),
  ];
  for (const change of changes) {
    change();
    const stale = launch(root, true);
    assert.equal(stale.status, 1, stale.stdout);
    assert.match(stale.stderr, /^gatehouse: packages\/control: dist\/ is missing or was built from other sources/);
    stamp(root, 'control');
    assert.equal(launch(root, true).status, 0);
  }
});

test('a package directory without src/ has nothing to build: it neither blocks dist/ nor stops the launcher', () => {
  const root = workspace();
  writeFiles(root, { 'packages/docs/README.md': 'no sources here\n' });
  stamp(root, 'control');
  stamp(root, 'gatehouse');
  const built = launch(root, true);
  assert.equal(built.status, 0, built.stderr);
  assert.equal(built.stdout, 'ran dist\n');
});

test('a source file reached through a symbolic link is in the digest: editing its target makes the package stale', () => {
  const root = workspace();
  const target = join(root, 'shared.ts');
  writeFileSync(target, 'export const shared = 1;\n');
  symlinkSync(target, join(root, 'packages', 'control', 'src', 'shared.ts'));
  stamp(root, 'control');
  stamp(root, 'gatehouse');
  assert.equal(launch(root, true).status, 0);
  writeFileSync(target, 'export const shared = 2;\n');
  const stale = launch(root, true);
  assert.equal(stale.status, 1, stale.stdout);
  assert.match(stale.stderr, /^gatehouse: packages\/control: dist\/ is missing or was built from other sources/);
});
