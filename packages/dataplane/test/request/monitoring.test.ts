import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MonitoringConfig } from '@gatehouse/config';
import {
  MONITOR_LIVENESS,
  MONITOR_METRICS,
  MONITOR_NONE,
  MONITOR_READINESS,
  MONITOR_ROUTE_HEALTH,
  MonitoringEndpoints,
  readinessReport,
  routeHealthReport,
} from '../../src/request/monitoring.ts';

const defaults: MonitoringConfig = {
  enableLiveness: true,
  enableReadiness: true,
  enableRouteHealthCheck: false,
  enableMetrics: false,
  metricsPath: '/metrics',
  host: null,
};

describe('monitoring endpoints on the traffic listeners', () => {
  it('serves /healthz and /readyz by default, with or without a query, for GET and HEAD only', () => {
    const m = MonitoringEndpoints.compile(defaults) as MonitoringEndpoints;
    assert.equal(m.match('GET', '/healthz', 'a'), MONITOR_LIVENESS);
    assert.equal(m.match('HEAD', '/readyz?verbose', 'a'), MONITOR_READINESS);
    assert.equal(m.match('POST', '/healthz', 'a'), MONITOR_NONE);
    assert.equal(m.match('GET', '/healthzz', 'a'), MONITOR_NONE);
    assert.equal(m.match('GET', '/healthz/routes', 'a'), MONITOR_NONE, 'off unless enableRouteHealthCheck');
    assert.equal(m.match('GET', '/metrics', 'a'), MONITOR_NONE, 'off unless enableMetrics');
  });
  it('is switched off endpoint by endpoint, and entirely when every one is off', () => {
    const m = MonitoringEndpoints.compile({ ...defaults, enableLiveness: false }) as MonitoringEndpoints;
    assert.equal(m.match('GET', '/healthz', 'a'), MONITOR_NONE);
    assert.equal(m.match('GET', '/readyz', 'a'), MONITOR_READINESS);
    assert.equal(MonitoringEndpoints.compile({ ...defaults, enableLiveness: false, enableReadiness: false }), null);
  });
  it('serves the metrics path and /healthz/routes only for monitoring.host when it is set', () => {
    const m = MonitoringEndpoints.compile({
      ...defaults,
      enableMetrics: true,
      metricsPath: '/internal/metrics',
      enableRouteHealthCheck: true,
      host: 'ops.example.com',
    }) as MonitoringEndpoints;
    assert.equal(m.match('GET', '/internal/metrics', 'ops.example.com:8443'), MONITOR_METRICS);
    assert.equal(m.match('GET', '/internal/metrics', 'OPS.example.com.'), MONITOR_METRICS);
    assert.equal(m.match('GET', '/internal/metrics', 'www.example.com'), MONITOR_NONE);
    assert.equal(m.match('GET', '/internal/metrics', undefined), MONITOR_NONE);
    assert.equal(m.match('GET', '/healthz/routes', 'ops.example.com'), MONITOR_ROUTE_HEALTH);
    assert.equal(m.match('GET', '/healthz/routes', 'www.example.com'), MONITOR_NONE);
    assert.equal(m.match('GET', '/healthz', 'www.example.com'), MONITOR_LIVENESS, 'probes need no Host');
  });
});

describe('what the endpoints answer', () => {
  it('is not ready while starting or draining', () => {
    assert.equal(readinessReport({ ready: false, reason: 'starting' }, false).status, 503);
    assert.deepEqual(readinessReport({ ready: true, reason: 'generation 1' }, true), {
      status: 503,
      body: { status: 'not ready', reason: 'draining' },
    });
    assert.equal(readinessReport({ ready: true, reason: 'generation 1' }, false).status, 200);
  });
  it('answers 503 for routes when one has no backend in rotation (down, ejected or weight 0)', () => {
    const now = 1_000;
    const route = (name: string, up: boolean, ejectedUntil = 0, weight = 1) => ({
      name,
      path: '/',
      hosts: [],
      backends: [{ endpoint: `http://${name}:1`, weight, up, ejectedUntil }],
    });
    assert.equal(routeHealthReport([route('a', true)], now).status, 200);
    const report = routeHealthReport(
      [route('a', true), route('b', false), route('c', true, 2_000), route('d', true, 0, 0)],
      now,
    );
    assert.equal(report.status, 503);
    assert.deepEqual(report.body.routesWithoutHealthyBackend, ['b', 'c', 'd']);
  });
});
