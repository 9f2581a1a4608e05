import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import pino from 'pino';
import { ensureListenerMigration } from '../src/listener-migration.ts';

const logger = pino({ level: 'silent' });

test('turns tcp_migrate_req on when it is 0 and writable, leaves 1 alone, reports a missing sysctl', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-sysctl-'));
  const path = join(dir, 'tcp_migrate_req');
  writeFileSync(path, '0\n');
  assert.equal(ensureListenerMigration(logger, {}, path), 'enabled-now');
  assert.equal(readFileSync(path, 'utf8').trim(), '1');
  assert.equal(ensureListenerMigration(logger, {}, path), 'on');
  assert.equal(ensureListenerMigration(logger, {}, join(dir, 'absent')), 'unsupported');
});

test('GATEHOUSE_TCP_MIGRATE_REQ=keep leaves a 0 in place', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'gatehouse-sysctl-')), 'tcp_migrate_req');
  writeFileSync(path, '0\n');
  assert.equal(ensureListenerMigration(logger, { GATEHOUSE_TCP_MIGRATE_REQ: 'keep' }, path), 'off');
  assert.equal(readFileSync(path, 'utf8').trim(), '0');
});
