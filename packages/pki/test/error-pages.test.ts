import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type GatewayConfig, parseConfig } from '@gatehouse/config';
import { errorPageFiles, loadErrorPages } from '../src/error-pages.ts';
import { referencedFiles } from '../src/load.ts';

const dir = mkdtempSync(join(tmpdir(), 'gh-error-pages-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function config(): GatewayConfig {
  const text = [
    'version: 2',
    'middlewares:',
    '  - name: pages',
    '    type: errorInterceptor',
    '    rule:',
    '      errors:',
    '        - statusCode: 403',
    '          file: errors/403.html',
    `        - { statusCode: 502, file: ${join(dir, '502.html')} }`,
    '        - { statusCode: 500, body: inline }',
    'routes:',
    '  - { name: r, path: /, target: "http://127.0.0.1:1", middlewares: [pages] }',
    '',
  ].join('\n');
  const parsed = parseConfig(text, join(dir, 'gatehouse.yaml'), {});
  if (!parsed.ok) assert.fail(JSON.stringify(parsed.errors));
  return parsed.config;
}

describe('errorInterceptor pages from files', () => {
  it('are referenced files (hashed and watched), resolved against the config folder', () => {
    const files = [join(dir, 'errors', '403.html'), join(dir, '502.html')];
    assert.deepEqual(errorPageFiles(config().middlewares), files);
    for (const file of files) assert.ok(referencedFiles(config()).includes(file));
  });

  it('are read into the body; one that cannot be read is an error at its line', async () => {
    writeFileSync(join(dir, '502.html'), '<h1>502</h1>\n');
    const missing = await loadErrorPages(config().middlewares);
    assert.equal(missing.ok, false);
    assert.deepEqual(
      missing.errors.map((e) => [e.line, e.path, e.code]),
      [[8, 'middlewares[0].rule.errors[0].file', 'GH_ERROR_PAGE']],
    );
    assert.match(missing.errors[0]?.message ?? '', /cannot read .*403\.html: no such file/);

    mkdirSync(join(dir, 'errors'));
    writeFileSync(join(dir, 'errors', '403.html'), '<h1>403</h1>\n');
    const given = config().middlewares;
    const loaded = await loadErrorPages(given);
    assert.equal(loaded.ok, true);
    const m = loaded.middlewares[0];
    assert.ok(m?.type === 'errorInterceptor');
    assert.deepEqual(
      m.rule.errors.map((e) => e.body),
      ['<h1>403</h1>\n', '<h1>502</h1>\n', 'inline'],
    );
    const before = given[0];
    assert.ok(before?.type === 'errorInterceptor');
    assert.equal(before.rule.errors[0]?.body, null, 'the definitions given are not changed');
  });

  it('an empty page (an in-place rewrite caught between truncate and write) is an error the reload waits on', async () => {
    writeFileSync(join(dir, '502.html'), '');
    const empty = await loadErrorPages(config().middlewares);
    assert.equal(empty.ok, false);
    assert.deepEqual(
      empty.errors.map((e) => [e.line, e.code]),
      [[9, 'GH_MATERIAL_EMPTY']],
    );
    writeFileSync(join(dir, '502.html'), '<h1>502</h1>\n');
  });
});
