// The rotation gap between a key and its certificate: waited for, then rejected.
import assert from 'node:assert/strict';
import type { ConfigDiagnostic } from '@gatehouse/config';
import { describe, it } from 'node:test';
import { MaterialCode } from '@gatehouse/pki';
import { PairGrace } from '../src/pair-grace.ts';

const diag = (code: string): ConfigDiagnostic => ({
  severity: 'error',
  file: '/etc/gatehouse/gatehouse.yaml',
  line: 9,
  col: 14,
  path: 'gateway.tls.certificates[0].key',
  message: 'm',
  hint: null,
  code,
});
const mismatch = [diag(MaterialCode.keyMismatch)];

describe('PairGrace (rotation noise)', () => {
  it('waits for the matching key during the grace period, then rejects', () => {
    const grace = new PairGrace();
    assert.deepEqual(grace.decide(mismatch, 5_000, 1_000), { kind: 'wait', remainingMs: 5_000, first: true });
    assert.deepEqual(grace.decide(mismatch, 5_000, 3_000), { kind: 'wait', remainingMs: 3_000, first: false });
    assert.deepEqual(grace.decide(mismatch, 5_000, 6_000), { kind: 'reject' });
    // After a rejection, the next mismatch starts a new wait.
    assert.equal(grace.decide(mismatch, 5_000, 7_000).kind, 'wait');
  });
  it('rejects at once anything that is not only a mismatched pair, and with a zero grace', () => {
    const grace = new PairGrace();
    assert.equal(grace.decide([diag(MaterialCode.notPem)], 5_000, 0).kind, 'reject');
    assert.equal(grace.decide([...mismatch, diag('GH_CONFIG_TYPE')], 5_000, 0).kind, 'reject');
    assert.equal(grace.decide([], 5_000, 0).kind, 'reject');
    assert.equal(grace.decide(mismatch, 0, 0).kind, 'reject');
  });
  it('waits for a file caught between truncate and write (empty or cut short) like a mismatch', () => {
    const grace = new PairGrace();
    assert.equal(grace.decide([diag(MaterialCode.empty)], 5_000, 0).kind, 'wait');
    assert.equal(grace.decide([diag(MaterialCode.truncated), ...mismatch], 5_000, 1_000).kind, 'wait');
    assert.deepEqual(grace.decide([diag(MaterialCode.empty)], 5_000, 5_000), { kind: 'reject' });
  });
  it('starts over after a good reload', () => {
    const grace = new PairGrace();
    grace.decide(mismatch, 5_000, 0);
    grace.reset();
    assert.deepEqual(grace.decide(mismatch, 5_000, 10_000), { kind: 'wait', remainingMs: 5_000, first: true });
    assert.equal(grace.waitingSince, 10_000);
  });
});
