// Goma Gateway's own documentation, read by `gatehouse validate`: every YAML example of Goma's
// docs/ and examples/ (kept in test/goma-docs/ with its source and the upstream commit) is either
// accepted, or rejected with errors that name what is not supported. What each one gives is
// written in test/goma-docs/manifest.json; when a feature lands, its examples flip to accepted
// there (`node scripts/goma-docs.ts record`, then read the diff).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ConfigDiagnostic } from '@gatehouse/config';
import { type Example, exampleFiles, GOMA_DOCS_DIR, placeholderEnv, readManifest } from '../../scripts/goma-docs.ts';
import { runCli } from '../support/gateway.ts';

interface Verdict {
  file: string;
  ok: boolean;
  errors: ConfigDiagnostic[];
  warnings: ConfigDiagnostic[];
}

const FILES = join(GOMA_DOCS_DIR, 'files');
const manifest = readManifest();
/** Each batch is one `gatehouse validate` process: the CLI as an operator runs it, without 200 start-ups. */
const BATCH = 40;

async function validateAll(examples: Example[]): Promise<Map<string, Verdict>> {
  const verdicts = new Map<string, Verdict>();
  for (let i = 0; i < examples.length; i += BATCH) {
    const batch = examples.slice(i, i + BATCH);
    let env: Record<string, string> = {};
    for (const e of batch) env = { ...env, ...placeholderEnv(readFileSync(join(FILES, e.file), 'utf8')) };
    const result = await runCli(['validate', '--schema-only', '--json', ...batch.map((e) => e.file)], {
      cwd: FILES,
      env,
      timeoutMs: 120_000,
    });
    assert.equal(result.stderr, '', 'with --json everything goes to stdout');
    for (const line of result.stdout.split('\n').filter((l) => l !== '')) {
      const verdict = JSON.parse(line) as Verdict;
      verdicts.set(verdict.file, verdict);
    }
    const anyRejected = batch.some((e) => verdicts.get(e.file)?.ok === false);
    assert.equal(result.code, anyRejected ? 1 : 0, 'exit status 1 exactly when a file is rejected');
  }
  return verdicts;
}

describe("Goma Gateway's documentation examples through gatehouse validate", () => {
  it('keeps every example with its source path and the upstream commit', () => {
    assert.match(manifest.commit, /^[0-9a-f]{40}$/);
    assert.equal(manifest.upstream, 'https://github.com/jkaninda/goma-gateway');
    assert.deepEqual(
      manifest.examples.map((e) => e.file).sort(),
      exampleFiles(),
      'the manifest lists exactly the kept files',
    );
    for (const e of manifest.examples) assert.match(e.source, /^(docs|examples)\/.+\.(md|ya?ml)(#data\..+)?$/);
    assert.ok(manifest.examples.length >= 200, `${manifest.examples.length} examples`);
  });

  it('accepts or rejects each one as the manifest records, naming what is unsupported', async () => {
    const verdicts = await validateAll(manifest.examples);
    const differences: string[] = [];
    for (const example of manifest.examples) {
      const verdict = verdicts.get(example.file);
      assert.ok(verdict, `no verdict for ${example.file}`);
      const errors = verdict.errors.map((e) => `${e.code} ${e.path}`.trim()).sort();
      const ignored = verdict.warnings
        .filter((w) => w.code === 'GH_CONFIG_UNSUPPORTED_KEY')
        .map((w) => w.path)
        .sort();
      const got = { accepted: verdict.ok, errors, ignored };
      try {
        assert.deepEqual(got, example.expect);
      } catch {
        differences.push(`${example.file} (${example.source}:${example.line}): ${JSON.stringify(got)}`);
      }
      if (!verdict.ok) {
        assert.ok(verdict.errors.length > 0, `${example.file}: rejected without an error`);
        for (const error of verdict.errors) {
          // Every refusal names a key (or, for text that is not YAML, the line), never just "invalid".
          assert.ok(error.path !== '' || error.line > 0, `${example.file}: an error with no place: ${error.message}`);
        }
        for (const error of verdict.errors.filter((e) => e.code === 'GH_CONFIG_UNSUPPORTED_KEY')) {
          assert.match(error.message, /Goma Gateway key `[^`]+` is not supported by Gatehouse/);
        }
      }
    }
    assert.deepEqual(
      differences,
      [],
      'examples whose outcome changed: run `node scripts/goma-docs.ts record` and read the diff of test/goma-docs/manifest.json',
    );
  });

  it('accepts no Goma config while ignoring anything but keys without effect on who may reach what', async () => {
    // Ignored keys are warned about, and only these, which change logging, tuning or nothing.
    const harmless = new Set([
      'gateway.geoip',
      'gateway.log.filePath',
      'gateway.log.maxAgeDays',
      'gateway.log.maxBackups',
      'gateway.log.maxSizeMB',
      'gateway.networking',
      'gateway.reload',
      'gateway.timeouts.write',
      'gateway.writeTimeout',
      'gateway.monitoring.includeRouteHealthErrors',
      'gateway.monitoring.visitorTTL',
      'gateway.disableHealthCheckStatus',
      'gateway.disableRouteHealthCheckError',
      'gateway.disableDisplayRouteOnStart',
      'gateway.disableKeepAlive',
      'gateway.debug',
      'gateway.analytics',
      'gateway.enableMetrics',
      'gateway.timeouts.writeTimeout',
    ]);
    for (const example of manifest.examples.filter((e) => e.expect.accepted)) {
      for (const path of example.expect.ignored) {
        assert.ok(harmless.has(path.replace(/\[\d+\]/g, '[]')), `${example.file}: ${path} is ignored`);
      }
    }
  });
});
