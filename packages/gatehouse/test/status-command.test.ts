import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StatusReport } from '@gatehouse/control';
import { formatDuration, formatStatus } from '../src/commands/status.ts';

const NOW = Date.parse('2026-11-27T12:00:00Z');

const quiet = {
  requestsPerSecond: 0,
  requestsLastMinute: 0,
  share4xx: null,
  share5xx: null,
  p50Ms: null,
  p99Ms: null,
};

const report: StatusReport = {
  at: '2026-11-27T12:00:00.000Z',
  version: '0.1.0',
  pid: 4242,
  uptimeSeconds: 3725,
  generation: 7,
  configFile: '/etc/gatehouse/gatehouse.yaml',
  lastReload: { at: '2026-11-27T11:59:00.000Z', accepted: false, message: 'key does not match certificate' },
  workers: [
    {
      id: 1,
      pid: 5001,
      generation: 7,
      uptimeSeconds: 59,
      requests: 1200,
      activeConnections: 3,
      eventLoopLagMs: 1.25,
      eventLoopUtilization: 0.125,
      rssBytes: 80 * 1024 * 1024,
      heapUsedBytes: 20 * 1024 * 1024,
      requestsPerSecond: 12.5,
    },
    {
      id: 2,
      pid: 5002,
      generation: 6,
      uptimeSeconds: 90_000,
      requests: 3,
      activeConnections: 0,
      eventLoopLagMs: 0,
      eventLoopUtilization: 0,
      rssBytes: 0,
      heapUsedBytes: 0,
      requestsPerSecond: null,
    },
  ],
  routes: [
    {
      name: 'api',
      path: '/api',
      hosts: ['api.example.com'],
      clientAuth: 'required',
      middlewares: [],
      traffic: quiet,
      backends: [
        {
          endpoint: 'http://10.0.0.1:3000',
          weight: 3,
          up: true,
          ejectedUntil: 0,
          lastProbe: { ok: true, status: 200, latencyMs: 2.4, error: null, at: '2026-11-27T11:59:59Z' },
          transitions: 0,
          lastTransitionAt: null,
        },
        {
          endpoint: 'http://10.0.0.2:3000',
          weight: 1,
          up: true,
          ejectedUntil: NOW + 5000,
          lastProbe: null,
          transitions: 1,
          lastTransitionAt: null,
        },
        {
          endpoint: 'http://10.0.0.3:3000',
          weight: 1,
          up: false,
          ejectedUntil: 0,
          lastProbe: { ok: false, status: null, latencyMs: null, error: 'ECONNREFUSED', at: '2026-11-27T11:59:59Z' },
          transitions: 2,
          lastTransitionAt: null,
        },
      ],
    },
    { name: 'web', path: '/', hosts: [], clientAuth: 'off', middlewares: [], traffic: quiet, backends: [] },
  ],
  certificates: [
    {
      role: 'server',
      names: ['api.example.com', 'www.example.com'],
      subject: 'CN=api.example.com',
      serial: '0AFF',
      fingerprint256: 'AA:BB:CC',
      notAfter: '2026-12-07T00:00:00.000Z',
      daysLeft: 9.5,
      issuer: 'CN=Example CA',
      source: '/etc/gatehouse/api.crt',
      sourceKind: 'file',
    },
    {
      role: 'client-ca',
      names: [],
      subject: 'CN=Clients',
      serial: '01',
      fingerprint256: 'DD:EE',
      notAfter: '2026-11-01T00:00:00.000Z',
      daysLeft: -26,
      issuer: 'CN=Clients',
      source: '/etc/gatehouse/clients.pem',
      sourceKind: 'file',
    },
  ],
  history: { intervalMs: 1000, points: [] },
};

describe('gatehouse status', () => {
  it('formats durations compactly', () => {
    assert.equal(formatDuration(0), '0s');
    assert.equal(formatDuration(59.9), '59s');
    assert.equal(formatDuration(61), '1m01s');
    assert.equal(formatDuration(3725), '1h02m');
    assert.equal(formatDuration(90_000), '1d1h');
  });

  it('renders workers, routes with backend state, and certificates with days left', () => {
    const text = formatStatus(report, NOW);
    const lines = text.split('\n');
    assert.equal(lines[0], 'gatehouse 0.1.0  pid 4242  up 1h02m  generation 7');
    assert.equal(lines[1], 'config /etc/gatehouse/gatehouse.yaml');
    assert.equal(lines[2], 'last reload 2026-11-27T11:59:00.000Z REJECTED: key does not match certificate');
    assert.match(text, /^WORKERS \(2\)$/m);
    assert.match(text, /^1\s+5001\s+7\s+59s\s+1200\s+3\s+1\.3 ms\s+13%\s+80 MB\s+20 MB$/m);
    // A worker still on an older generation is marked.
    assert.match(text, /^2\s+5002\s+6!\s+1d1h\s+3\s/m);
    assert.match(text, /^api\s+\/api\s+api\.example\.com\s+http:\/\/10\.0\.0\.1:3000\s+3\s+up\s+ok 200 2 ms$/m);
    assert.match(text, /^\s+http:\/\/10\.0\.0\.2:3000\s+1\s+EJECTED\s+-$/m);
    assert.match(text, /^\s+http:\/\/10\.0\.0\.3:3000\s+1\s+DOWN\s+fail ECONNREFUSED$/m);
    assert.match(text, /^web\s+\/\s+\*\s+-/m);
    assert.match(
      text,
      /^server\s+api\.example\.com,www\.example\.com\s+0AFF\s+2026-12-07T00:00:00\.000Z\s+9\s+AA:BB:CC$/m,
    );
    assert.match(text, /^client-ca\s+CN=Clients\s+01\s+\S+\s+EXPIRED\s+DD:EE$/m);
  });
});
