import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_CONFIG_PATH, parseRunArgs, workerCount } from '../src/commands/run.ts';

test('the config comes from --config, then GATEHOUSE_CONFIG, then the default path', () => {
  assert.equal(parseRunArgs(['--config', 'a.yaml'], { GATEHOUSE_CONFIG: '/b.yaml' }).config, resolve('a.yaml'));
  assert.equal(parseRunArgs(['--config=c.yaml'], {}).config, resolve('c.yaml'));
  assert.equal(parseRunArgs([], { GATEHOUSE_CONFIG: '/b.yaml' }).config, '/b.yaml');
  assert.equal(parseRunArgs([], {}).config, DEFAULT_CONFIG_PATH);
});

test('--workers takes a whole number from 1; bad flags are one-line errors', () => {
  assert.equal(parseRunArgs(['--workers', '3'], {}).workers, 3);
  assert.equal(parseRunArgs(['-w', '1'], {}).workers, 1);
  assert.equal(parseRunArgs([], {}).workers, null);
  assert.throws(() => parseRunArgs(['--workers', '0'], {}), /--workers must be a whole number/);
  assert.throws(() => parseRunArgs(['--workers', 'two'], {}), /--workers must be a whole number/);
  assert.throws(() => parseRunArgs(['--config'], {}), /--config needs a value/);
  assert.throws(() => parseRunArgs(['--port', '1'], {}), /unknown option "--port"/);
});

test('worker count: the flag wins, then gateway.workers, then one per core', () => {
  assert.equal(workerCount(4, 2, 8), 4);
  assert.equal(workerCount(null, 2, 8), 2);
  assert.equal(workerCount(null, 0, 8), 8);
  assert.equal(workerCount(null, 0, 0), 1);
});
