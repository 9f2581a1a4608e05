// jwtAuth key files are read like every other file the config names: through the reader the
// primary hashed with, and never a FIFO or directory (a read that would block the reload).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type GatewayConfig, parseConfig } from '@gatehouse/config';
import { loadMiddlewareKeys } from '../src/middleware-keys.ts';

const dir = mkdtempSync(join(tmpdir(), 'gh-middleware-keys-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function config(keyFile: string): GatewayConfig {
  const text = [
    'version: 2',
    'middlewares:',
    '  - name: jwt',
    '    type: jwtAuth',
    `    rule: { publicKey: ${keyFile} }`,
    'routes:',
    '  - { name: r, path: /, target: "http://127.0.0.1:1", middlewares: [jwt] }',
    '',
  ].join('\n');
  const parsed = parseConfig(text, join(dir, 'gatehouse.yaml'), {});
  if (!parsed.ok) assert.fail(JSON.stringify(parsed.errors));
  return parsed.config;
}

function publicKeyPem(): string {
  return generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }) as string;
}

function keyText(middlewares: unknown[]): string | null | undefined {
  const rule = (middlewares[0] as { rule: { source: { key?: { text?: string | null } } } }).rule;
  return rule.source.key?.text;
}

describe('loadMiddlewareKeys', () => {
  it('uses the bytes the given reader returns, not a second read of the file', async () => {
    const path = join(dir, 'jwt.pem');
    writeFileSync(path, publicKeyPem());
    const hashed = publicKeyPem();
    const loaded = await loadMiddlewareKeys(config(path), async (p) => {
      assert.equal(p, path);
      return { bytes: Buffer.from(hashed), mode: 0o644 };
    });
    assert.deepEqual(loaded.errors, []);
    assert.equal(keyText(loaded.middlewares), hashed);
  });

  it('refuses a FIFO and a directory, naming the file, instead of waiting on it', async () => {
    const fifo = join(dir, 'fifo.pem');
    execFileSync('mkfifo', [fifo]);
    const folder = join(dir, 'folder.pem');
    mkdirSync(folder);
    for (const [path, why] of [
      [fifo, 'is not a regular file'],
      [folder, 'is a directory'],
    ] as const) {
      const loaded = await loadMiddlewareKeys(config(path));
      assert.equal(loaded.ok, false);
      assert.equal(loaded.errors.length, 1);
      assert.equal(loaded.errors[0]?.code, 'GH_JWT_KEY');
      assert.equal(loaded.errors[0]?.message, `cannot read ${path}: ${why}`);
      assert.equal(loaded.errors[0]?.path, 'middlewares[0].rule.publicKey');
    }
  });
});
