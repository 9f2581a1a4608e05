import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import pino from 'pino';
import { ensureListenerMigration } from '../src/listener-migration.ts';

const logger = pino({ level: 'silent' });

test('by default a 0 is only reported, never rewritten', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'gatehouse-sysctl-')), 'tcp_migrate_req');
  writeFileSync(path, '0\n');
  assert.equal(ensureListenerMigration(logger, {}, path), 'off');
  assert.equal(readFileSync(path, 'utf8').trim(), '0');
});

test('GATEHOUSE_TCP_MIGRATE_REQ=set turns a writable 0 on, leaves 1 alone, reports a missing sysctl', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-sysctl-'));
  const path = join(dir, 'tcp_migrate_req');
  const env = { GATEHOUSE_TCP_MIGRATE_REQ: 'set' };
  writeFileSync(path, '0\n');
  assert.equal(ensureListenerMigration(logger, env, path), 'enabled-now');
  assert.equal(readFileSync(path, 'utf8').trim(), '1');
  assert.equal(ensureListenerMigration(logger, env, path), 'on');
  assert.equal(ensureListenerMigration(logger, env, join(dir, 'absent')), 'unsupported');
});
