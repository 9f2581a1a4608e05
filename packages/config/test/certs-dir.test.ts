// Goma's tls.certsDir read from disk: pairs by name, an orphan key warned about, a certificate
// without its key refused.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfigFiles } from '../src/load-files.ts';
import { minimalRoute, yaml } from './helpers.ts';

function folder(files: string[]): string {
  const dir = join(tmpdir(), `gatehouse-certs-dir-${process.pid}-${Math.random().toString(36).slice(2)}`);
  mkdirSync(join(dir, 'certs'), { recursive: true });
  for (const f of files) writeFileSync(join(dir, 'certs', f), 'not read here');
  writeFileSync(join(dir, 'gatehouse.yaml'), yaml('gateway:', '  tls:', '    certsDir: certs', ...minimalRoute));
  return dir;
}

describe('tls.certsDir', () => {
  it('pairs NAME.crt, NAME.cert or NAME.pem with NAME.key, in name order, and warns about a lone key', async () => {
    const dir = folder(['b.cert', 'b.key', 'a.crt', 'a.key', 'c.pem', 'c.key', 'ca.pem', 'lone.key', '.hidden.key']);
    const loaded = await loadConfigFiles(join(dir, 'gatehouse.yaml'), {});
    assert.ok(loaded.result.ok, JSON.stringify(loaded.result));
    assert.deepEqual(
      loaded.result.config.gateway.tls.certificates.map((c) => [c.cert.path, c.key.path]),
      [
        [join(dir, 'certs', 'a.crt'), join(dir, 'certs', 'a.key')],
        [join(dir, 'certs', 'b.cert'), join(dir, 'certs', 'b.key')],
        [join(dir, 'certs', 'c.pem'), join(dir, 'certs', 'c.key')],
      ],
    );
    assert.notEqual(loaded.result.config.gateway.entryPoints.webSecure, null, 'HTTPS is on for the folder');
    assert.deepEqual(
      loaded.result.warnings.map((w) => w.message),
      [`${join(dir, 'certs', 'lone.key')} has no certificate beside it; ignored`],
    );
    assert.deepEqual(loaded.watch, [join(dir, 'certs')]);
  });
  it('refuses a certificate without its key, and a folder that does not exist', async () => {
    const missingKey = await loadConfigFiles(join(folder(['a.crt']), 'gatehouse.yaml'), {});
    assert.equal(missingKey.result.ok, false);
    assert.match(missingKey.result.ok ? '' : (missingKey.result.errors[0]?.message ?? ''), /a\.crt has no a\.key/);
    const dir = folder([]);
    writeFileSync(join(dir, 'gatehouse.yaml'), yaml('gateway:', '  tls:', '    certsDir: nowhere', ...minimalRoute));
    const missing = await loadConfigFiles(join(dir, 'gatehouse.yaml'), {});
    assert.equal(missing.result.ok, false);
    assert.match(missing.result.ok ? '' : (missing.result.errors[0]?.message ?? ''), /nowhere: no such folder/);
  });
});
