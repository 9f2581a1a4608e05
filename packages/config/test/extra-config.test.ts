// Goma's extraConfig folders: routes from more files, merged into the main config, every problem
// reported at the file, line and column where it is.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfigFiles } from '../src/load-files.ts';
import { parseConfig } from '../src/parse.ts';
import { FILE, yaml } from './helpers.ts';

const main = yaml(
  'gateway:',
  '  extraConfig:',
  '    directory: extra',
  '    watch: true',
  'routes:',
  '  - name: home',
  '    path: /',
  '    target: http://127.0.0.1:3000',
);

describe('extra config files', () => {
  it('merges their routes after the main file, each keeping its file and line', () => {
    const result = parseConfig(main, FILE, {}, [
      {
        file: '/etc/gatehouse/extra/a.yaml',
        text: yaml('routes:', '  - name: a', '    path: /a', '    target: http://a:1'),
      },
      {
        file: '/etc/gatehouse/extra/b.json',
        text: '{"routes": [{"name": "b", "path": "/b", "backends": [{"endpoint": "http://b:1", "weight": 2}]}]}\n',
      },
    ]);
    assert.ok(result.ok, JSON.stringify(result));
    assert.deepEqual(
      result.config.routes.map((r) => `${r.name} ${r.at.file}:${r.at.line} ${r.at.path}`),
      [
        'home /etc/gatehouse/gatehouse.yaml:6 routes[0]',
        'a /etc/gatehouse/extra/a.yaml:2 routes[1]',
        'b /etc/gatehouse/extra/b.json:1 routes[2]',
      ],
    );
    assert.deepEqual(result.config.gateway.extraConfig, [
      {
        directory: '/etc/gatehouse/extra',
        watch: true,
        at: { file: FILE, line: 3, col: 16, path: 'gateway.extraConfig.directory' },
      },
    ]);
  });

  it('names both files when a route name is used twice', () => {
    const result = parseConfig(main, FILE, {}, [
      {
        file: '/etc/gatehouse/extra/a.yaml',
        text: yaml('routes:', '  - name: home', '    path: /a', '    target: http://a:1'),
      },
    ]);
    assert.equal(result.ok, false);
    const [error] = result.ok ? [] : result.errors;
    assert.equal(error?.code, 'GH_CONFIG_DUPLICATE_ROUTE');
    assert.equal(`${error?.file}:${error?.line}:${error?.col}`, '/etc/gatehouse/extra/a.yaml:2:11');
    assert.match(error?.message ?? '', /already used by routes\[0\] \(\/etc\/gatehouse\/gatehouse\.yaml:6\)/);
  });

  it('reports a mistake in an extra file at its file, line and column', () => {
    const result = parseConfig(main, FILE, {}, [
      {
        file: '/etc/gatehouse/extra/bad.yaml',
        text: yaml('routes:', '  - name: bad', '    path: /bad', '    target: http://x:1', '    weigth: 3'),
      },
      { file: '/etc/gatehouse/extra/other.yaml', text: yaml('gateway:', '  workers: 2') },
      { file: '/etc/gatehouse/extra/broken.yaml', text: 'routes:\n  - name: [unclosed\n' },
    ]);
    assert.equal(result.ok, false);
    const found = result.ok ? [] : result.errors.map((e) => `${e.file}:${e.line}:${e.col} ${e.code} ${e.path}`);
    assert.deepEqual(found.sort(), [
      '/etc/gatehouse/extra/bad.yaml:5:5 GH_CONFIG_UNKNOWN_KEY routes[1].weigth',
      '/etc/gatehouse/extra/broken.yaml:3:1 GH_CONFIG_YAML ',
      '/etc/gatehouse/extra/other.yaml:1:1 GH_CONFIG_UNKNOWN_KEY gateway',
    ]);
  });

  it('reads the folder from disk, sub-folders included, and names a missing folder at its key', async () => {
    const dir = join(tmpdir(), `gatehouse-extra-${process.pid}-${Date.now()}`);
    mkdirSync(join(dir, 'extra', 'more'), { recursive: true });
    writeFileSync(join(dir, 'gatehouse.yaml'), main);
    writeFileSync(
      join(dir, 'extra', 'a.yml'),
      yaml('routes:', '  - name: a', '    path: /a', '    target: http://a:1'),
    );
    writeFileSync(
      join(dir, 'extra', 'more', 'c.yaml'),
      yaml('routes:', '  - name: c', '    path: /c', '    target: http://c:1'),
    );
    writeFileSync(join(dir, 'extra', 'notes.txt'), 'not config');
    const loaded = await loadConfigFiles(join(dir, 'gatehouse.yaml'), {});
    assert.ok(loaded.result.ok, JSON.stringify(loaded.result));
    assert.deepEqual(
      loaded.result.config.routes.map((r) => r.name),
      ['home', 'a', 'c'],
    );
    assert.deepEqual(loaded.watch, [
      join(dir, 'extra'),
      join(dir, 'extra', 'more'),
      join(dir, 'extra', 'a.yml'),
      join(dir, 'extra', 'more', 'c.yaml'),
    ]);
    writeFileSync(join(dir, 'gatehouse.yaml'), main.replace('directory: extra', 'directory: nowhere'));
    const missing = await loadConfigFiles(join(dir, 'gatehouse.yaml'), {});
    assert.equal(missing.result.ok, false);
    const [error] = missing.result.ok ? [] : missing.result.errors;
    assert.equal(error?.code, 'GH_CONFIG_EXTRA_CONFIG');
    assert.equal(error?.line, 3);
    assert.match(error?.message ?? '', /nowhere: no such folder/);
  });
});
