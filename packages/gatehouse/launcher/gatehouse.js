#!/usr/bin/env -S node --conditions=gatehouse-built
// The `gatehouse` command as installed: runs the compiled JavaScript in dist/ when Node was started
// with `--conditions=gatehouse-built` (this shebang, deploy/README.md's wrapper, `npm run gatehouse`),
// the .ts sources otherwise. Type stripping costs every process that loads one .ts file about 17 MiB
// (amaro, a WebAssembly module), so production runs dist/: each workspace package's `exports` maps
// the `gatehouse-built` condition to its dist/ and everything else (typecheck, tests) to src/. The
// condition reaches the cluster workers and the worker threads through execArgv, which they inherit.
//
// dist/ is refused when any package's sources changed since its build (build-stamp.js): a checkout
// that was edited or pulled and not rebuilt does not silently run its previous code.
//
// Plain JavaScript: this file itself must not load the type stripper.
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { builtDigest, sourceDigest } from './build-stamp.js';

const packagesDir = join(import.meta.dirname, '..', '..');

/** Every workspace package whose dist/ does not match its src/, as a repo-relative path. */
function staleBuilds() {
  const stale = [];
  for (const entry of readdirSync(packagesDir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const dir = join(packagesDir, entry.name);
    // Nothing compiled from sources: nothing that can be stale (and no src/ to read).
    if (!existsSync(join(dir, 'src'))) continue;
    if (builtDigest(dir) !== sourceDigest(dir)) stale.push(relative(join(packagesDir, '..'), dir));
  }
  return stale;
}

// The resolver says which side the condition chose, whatever form the flag took (execArgv,
// NODE_OPTIONS, the shebang).
const built = import.meta.resolve('@gatehouse/control').endsWith('/dist/index.js');
if (!built) {
  await import('../src/bin.ts');
} else {
  const stale = staleBuilds();
  if (stale.length === 0) {
    await import('../dist/bin.js');
  } else {
    process.stderr.write(
      `gatehouse: ${stale.join(', ')}: dist/ is missing or was built from other sources; run \`npm run build\` ` +
        '(or start Node without --conditions=gatehouse-built to run the sources)\n',
    );
    process.exitCode = 1;
  }
}
