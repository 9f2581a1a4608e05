// A worker loads only what it runs: the modules reachable from its entry must not include the
// primary's certificate tooling (the dev PKI, preflight checks, material loading), which would cost
// every worker their compile time and memory.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { it } from 'node:test';

const worker = fileURLToPath(new URL('../src/worker.ts', import.meta.url));
const accessLog = fileURLToPath(new URL('../src/access-log.ts', import.meta.url));

// Records every module URL the import graph resolves to, then imports what a worker imports.
const probe = `
import { registerHooks } from 'node:module';
const seen = [];
registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); seen.push(r.url); return r; } });
await import(${JSON.stringify(worker)});
await import(${JSON.stringify(accessLog)});
process.stdout.write(JSON.stringify(seen));
`;

it('the worker does not load dev-pki, preflight or load from @gatehouse/pki', () => {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8' });
  const pki = (JSON.parse(out) as string[]).filter((url) => url.includes('/packages/pki/src/'));
  assert.ok(pki.length > 0, 'the worker uses some of @gatehouse/pki');
  for (const unwanted of ['dev-pki.ts', 'preflight.ts', 'load.ts', 'material.ts', 'index.ts']) {
    assert.deepEqual(
      pki.filter((url) => url.endsWith(`/${unwanted}`)),
      [],
      `${unwanted} is loaded by the worker: ${pki.join(', ')}`,
    );
  }
});

it('the worker does not load the config parser, only the subpaths it runs', () => {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8' });
  const config = (JSON.parse(out) as string[]).filter((url) => url.includes('/packages/config/src/'));
  const names = [...new Set(config.map((url) => url.slice(url.lastIndexOf('/') + 1)))].sort();
  // claims-expression.ts comes with jwtAuth, which a worker imports only for a generation that uses it.
  assert.deepEqual(names, [
    'backend-health.ts',
    'client-auth-modes.ts',
    'paths.ts',
    'san-pattern.ts',
    'tls-defaults.ts',
  ]);
});

it('the worker does not load ioredis unless a config names gateway.redis', () => {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8' });
  const redis = (JSON.parse(out) as string[]).filter((url) => url.includes('/node_modules/ioredis/'));
  assert.deepEqual(redis, []);
});
