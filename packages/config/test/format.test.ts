import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDiagnostic, formatSummary } from '../src/format.ts';
import type { ConfigDiagnostic } from '../src/types.ts';
import { gomaMtlsExample, load, minimalRoute, ok, yaml } from './helpers.ts';

describe('formatDiagnostic', () => {
  it('prints compiler style with the hint indented below', () => {
    const d: ConfigDiagnostic = {
      severity: 'error',
      file: 'gatehouse.yaml',
      line: 12,
      col: 9,
      path: 'routes[0].backends[1].weight',
      message: 'weight must be a whole number >= 0 (got -3)',
      hint: 'weights are relative shares',
      code: 'GH_CONFIG_WEIGHT',
    };
    assert.equal(
      formatDiagnostic(d),
      'gatehouse.yaml:12:9: error: routes[0].backends[1].weight: weight must be a whole number >= 0 (got -3)\n    hint: weights are relative shares',
    );
    assert.equal(
      formatDiagnostic({ ...d, severity: 'warning', hint: null, path: '' }),
      'gatehouse.yaml:12:9: warning: weight must be a whole number >= 0 (got -3)',
    );
    assert.equal(formatDiagnostic({ ...d, line: 0, col: 0, hint: null }).startsWith('gatehouse.yaml: error: '), true);
  });
  it('formats what parseConfig returns', () => {
    const result = load(
      yaml(
        'routes:',
        '  - name: a',
        '    path: /',
        '    backends:',
        '      - endpoint: http://x:1',
        '        weight: -3',
      ),
    );
    assert.ok(!result.ok);
    assert.match(
      formatDiagnostic(result.errors[0] as ConfigDiagnostic),
      /^\/etc\/gatehouse\/gatehouse\.yaml:6:17: error: routes\[0\]\.backends\[0\]\.weight: weight must be a whole number >= 0 \(got -3\)\n {4}hint: /,
    );
  });
});

describe('formatSummary', () => {
  it('says what the config holds in one line', () => {
    assert.equal(
      formatSummary(ok(gomaMtlsExample), 'goma.yaml'),
      'goma.yaml: OK, 1 route, 2 backends, 1 certificate, listening on http :8080, https :8443, TLS client auth required, upstream mTLS on 1 route',
    );
  });
  it('counts disabled routes and names the file by default', () => {
    const config = ok(
      yaml(...minimalRoute, '  - name: b', '    path: /b', '    enabled: false', '    target: http://y:1'),
    );
    assert.equal(
      formatSummary(config),
      'gatehouse.yaml: OK, 2 routes (1 enabled), 2 backends, 0 certificates, listening on http :8080',
    );
  });
});
