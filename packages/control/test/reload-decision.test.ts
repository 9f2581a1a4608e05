// The primary's reload decision: what a built candidate leads to, for each trigger, with the
// pair-grace clock carried from one reload to the next.
import assert from 'node:assert/strict';
import type { ConfigDiagnostic } from '@gatehouse/config';
import { describe, it } from 'node:test';
import { MaterialCode } from '@gatehouse/pki';
import { PairGrace } from '../src/pair-grace.ts';
import { decideReload } from '../src/reload-decision.ts';
import type { BuildResult } from '../src/snapshot.ts';
import { config, snapshot } from './snapshot-fixtures.ts';

const diag = (code: string): ConfigDiagnostic => ({
  severity: 'error',
  file: '/etc/gatehouse/live.key',
  line: 0,
  col: 0,
  path: 'gateway.tls.certificates[0].key',
  message: 'm',
  hint: null,
  code,
});
const mismatched: BuildResult = { kind: 'rejected', errors: [diag(MaterialCode.keyMismatch)], warnings: [], files: [] };
const broken: BuildResult = { kind: 'rejected', errors: [diag(MaterialCode.notPem)], warnings: [], files: [] };
const unchanged: BuildResult = { kind: 'unchanged', hash: 'h', files: [] };
const changed: BuildResult = {
  kind: 'changed',
  snapshot: snapshot(2, config([])),
  hash: 'h2',
  files: [],
  warnings: [],
};

describe('decideReload', () => {
  it('rolls a changed candidate out, keeps the generation for an unchanged one, rejects a broken one', () => {
    const grace = new PairGrace();
    assert.deepEqual(decideReload(changed, 'file', grace, 5_000, 0), { kind: 'roll-out' });
    assert.deepEqual(decideReload(unchanged, 'signal', grace, 5_000, 0), { kind: 'unchanged' });
    assert.deepEqual(decideReload(broken, 'file', grace, 5_000, 0), { kind: 'reject' });
  });

  it('a file change waits for the other half of a pair, then rejects when the grace is over', () => {
    const grace = new PairGrace();
    assert.deepEqual(decideReload(mismatched, 'file', grace, 5_000, 1_000), {
      kind: 'wait',
      remainingMs: 5_000,
      first: true,
    });
    assert.deepEqual(decideReload(mismatched, 'file', grace, 5_000, 4_000), {
      kind: 'wait',
      remainingMs: 2_000,
      first: false,
    });
    assert.deepEqual(decideReload(mismatched, 'file', grace, 5_000, 6_000), { kind: 'reject' });
  });

  it('a signal, the admin API or ACME never waits, and ends a wait in progress', () => {
    for (const trigger of ['signal', 'admin', 'acme'] as const) {
      const grace = new PairGrace();
      decideReload(mismatched, 'file', grace, 5_000, 0);
      assert.deepEqual(decideReload(mismatched, trigger, grace, 5_000, 1_000), { kind: 'reject' });
      assert.equal(grace.waitingSince, null, trigger);
    }
  });

  it('the matching key arriving (a changed or unchanged build) ends the wait', () => {
    for (const build of [changed, unchanged]) {
      const grace = new PairGrace();
      decideReload(mismatched, 'file', grace, 5_000, 0);
      decideReload(build, 'file', grace, 5_000, 1_000);
      assert.equal(grace.waitingSince, null, build.kind);
      // The next half-rotation gets its whole grace period again.
      assert.deepEqual(decideReload(mismatched, 'file', grace, 5_000, 9_000), {
        kind: 'wait',
        remainingMs: 5_000,
        first: true,
      });
    }
  });
});
