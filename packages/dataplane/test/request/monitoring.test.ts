import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MonitoringConfig } from '@gatehouse/config';
import { testGatewayConfig } from '@gatehouse/config/testing';
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
import { MonitoringResponder } from '../../src/request/monitoring-responder.ts';

/** Goma's defaults: liveness and readiness on, the rest off (the shared fixture turns them off). */
const defaults: MonitoringConfig = {
  ...testGatewayConfig([]).gateway.monitoring,
  enableLiveness: true,
  enableReadiness: true,
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

describe('a worker answering /readyz', () => {
  /** Just enough of a response to read what was written. */
  function response() {
    const written = { status: 0, headers: {} as Record<string, string>, body: '' };
    const res = {
      writeHead(status: number, headers: Record<string, string>) {
        written.status = status;
        written.headers = headers;
      },
      end(body?: string) {
        written.body = body ?? '';
      },
    };
    return { res: res as unknown as Parameters<MonitoringResponder['serve']>[4], written };
  }
  const generation = null as unknown as Parameters<MonitoringResponder['serve']>[1];

  it('is not ready until the primary says the gateway is, and not while it drains', () => {
    const responder = new MonitoringResponder(() => {});
    const before = response();
    responder.serve(MONITOR_READINESS, generation, false, 'GET', before.res);
    assert.equal(before.written.status, 503);
    assert.deepEqual(JSON.parse(before.written.body), { status: 'not ready', reason: 'starting' });
    responder.setReadiness({ type: 'gh:readiness', ready: true, reason: 'generation 1 on 2 workers' });
    const ready = response();
    responder.serve(MONITOR_READINESS, generation, false, 'GET', ready.res);
    assert.equal(ready.written.status, 200);
    const draining = response();
    responder.serve(MONITOR_READINESS, generation, true, 'GET', draining.res);
    assert.equal(draining.written.status, 503);
    assert.equal(draining.written.headers.connection, 'close');
  });
  it('shares one metrics fetch among scrapes that arrive together', () => {
    const asked: number[] = [];
    const responder = new MonitoringResponder((m) => asked.push(m.id));
    const a = response();
    const b = response();
    responder.serve(MONITOR_METRICS, generation, false, 'GET', a.res);
    responder.serve(MONITOR_METRICS, generation, false, 'GET', b.res);
    assert.equal(asked.length, 1);
    responder.onMetrics({
      type: 'gh:metrics',
      id: asked[0] as number,
      ok: true,
      contentType: 'text/plain',
      body: 'x 1\n',
    });
    assert.deepEqual([a.written.status, a.written.body, b.written.body], [200, 'x 1\n', 'x 1\n']);
  });
});
