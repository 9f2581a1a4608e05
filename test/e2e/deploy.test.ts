// The deploy/ folder is what operators copy: the systemd unit must pass systemd's own checker and
// the example configs must pass `gatehouse validate`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot, runCli } from '../support/gateway.ts';

const unit = join(repoRoot, 'deploy', 'gatehouse.service');
const hasSystemdAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;

test('systemd-analyze verify passes on deploy/gatehouse.service', {
  skip: !hasSystemdAnalyze && 'systemd-analyze is not installed (apt-get install systemd)',
}, () => {
  const result = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(result.status, 0, `systemd-analyze verify failed:\n${result.stdout}${result.stderr}`);
  // verify exits 0 on some warnings; a unit that names an unknown directive or a bad value says so
  assert.doesNotMatch(result.stderr, /Unknown (key|section)|Failed to parse|Invalid/i, result.stderr);
});

for (const example of ['gatehouse.yaml', 'mtls.yaml']) {
  test(`deploy/examples/${example} passes gatehouse validate --schema-only`, async () => {
    const result = await runCli(['validate', '--schema-only', join(repoRoot, 'deploy', 'examples', example)]);
    assert.equal(result.code, 0, `${result.stdout}${result.stderr}`);
  });
}
