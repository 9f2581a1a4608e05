// Which sources a package's dist/ was compiled from. Every package's `build` script runs
// write-build-stamp.js after tsc, which writes dist/build-stamp.txt: a SHA-256 over the relative
// path and the bytes of every file under src/. The launcher (gatehouse.js) recomputes it before running dist/, so that a
// checkout edited or pulled since its last build refuses to start instead of running the old code.
// Contents, not modification times: turbo replays a cached build without touching dist/, so a dist
// older than its sources can still be exact.
//
// Plain JavaScript with no dependency: it runs under whatever `node` the build finds on the PATH.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

const STAMP = 'build-stamp.txt';

function filesUnder(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    // tsc follows a symbolic link, so the digest covers what it points at.
    const kind = entry.isSymbolicLink() ? statSync(path) : entry;
    if (kind.isDirectory()) out.push(...filesUnder(path));
    else if (kind.isFile()) out.push(path);
  }
  return out;
}

/** The digest of `packageDir`/src: relative paths (with /) and contents, in path order. */
export function sourceDigest(packageDir) {
  const src = join(packageDir, 'src');
  const hash = createHash('sha256');
  const files = filesUnder(src)
    .map((path) => ({ path, name: relative(src, path).split(sep).join('/') }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const { path, name } of files) {
    hash.update(`${name}\0`);
    hash.update(readFileSync(path));
    hash.update('\0');
  }
  return hash.digest('hex');
}

/** The digest recorded by the last build of `packageDir`, or null when it has no dist/ stamp. */
export function builtDigest(packageDir) {
  try {
    return readFileSync(join(packageDir, 'dist', STAMP), 'utf8').trim();
  } catch {
    return null;
  }
}

/** Records the digest of `packageDir`/src in its dist/, once tsc has written dist/. */
export function writeStamp(packageDir) {
  writeFileSync(join(packageDir, 'dist', STAMP), `${sourceDigest(packageDir)}\n`);
}
