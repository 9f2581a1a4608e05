import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  applyPassive,
  DEFAULT_OUTLIER,
  ejectionAllowed,
  expireEjection,
  initialOutlier,
  isEjected,
  MAX_EJECTION_MULTIPLIER,
  type OutlierConfig,
  type OutlierEvent,
  type OutlierState,
  outlierConfigOf,
  restoreAfterProbe,
} from '../src/outlier.ts';

const cfg: OutlierConfig = { failures: 5, baseEjectionMs: 1000, maxEjectionPercent: 50 };
const twoBackends = { ejectedOthers: 0, backends: 2 };
const fail = { ok: false, reason: 'connection reset' };
const success = { ok: true, reason: null };

/** Feeds `n` signals at time `now`; returns the state and the events. */
function feed(
  state: OutlierState,
  signals: Array<{ ok: boolean; reason: string | null }>,
  now: number,
  route = twoBackends,
) {
  const events: OutlierEvent[] = [];
  let capped = false;
  for (const s of signals) {
    const out = applyPassive(state, s, route, cfg, now);
    state = out.state;
    if (out.event) events.push(out.event);
    capped ||= out.capped;
  }
  return { state, events, capped };
}
const failures = (n: number) => Array.from({ length: n }, () => fail);

describe('consecutive failures', () => {
  test('failures - 1 do not eject', () => {
    const { state, events } = feed(initialOutlier(), failures(4), 0);
    assert.equal(events.length, 0);
    assert.equal(state.consecutiveFailures, 4);
    assert.equal(isEjected(state), false);
  });

  test('the Nth consecutive failure ejects for the base time', () => {
    const { state, events } = feed(initialOutlier(), failures(5), 10_000);
    assert.equal(events.length, 1);
    const ev = events[0];
    assert.equal(ev?.kind, 'ejected');
    if (ev?.kind !== 'ejected') return;
    assert.equal(ev.durationMs, 1000);
    assert.equal(ev.until, 11_000);
    assert.match(ev.reason, /5 consecutive failures on live traffic \(last: connection reset\)/);
    assert.equal(state.ejectedUntil, 11_000);
    assert.equal(state.consecutiveFailures, 0);
  });

  test('a success in between starts the count again', () => {
    const { state, events } = feed(initialOutlier(), [...failures(4), success, ...failures(4)], 0);
    assert.equal(events.length, 0);
    assert.equal(state.consecutiveFailures, 4);
  });

  test('reports during an ejection are ignored', () => {
    const ejected = feed(initialOutlier(), failures(5), 0).state;
    const { state, events } = feed(ejected, [...failures(10), success], 500);
    assert.equal(events.length, 0);
    assert.deepEqual(state, ejected);
  });

  test('defaults: 5 failures, 30 s, 50 %; a route health check overrides them', () => {
    assert.deepEqual(outlierConfigOf(null), { failures: 5, baseEjectionMs: 30_000, maxEjectionPercent: 50 });
    assert.deepEqual(DEFAULT_OUTLIER, outlierConfigOf(null));
    const hc = {
      path: '/h',
      intervalMs: 1000,
      timeoutMs: 500,
      healthyStatuses: [],
      fall: 3,
      rise: 2,
      panic: false,
      passive5xx: true,
      passiveFailures: 2,
      passiveBaseEjectionMs: 500,
      passiveMaxEjectionPercent: 100,
    };
    assert.deepEqual(outlierConfigOf(hc), { failures: 2, baseEjectionMs: 500, maxEjectionPercent: 100 });
  });
});

describe('ejection time', () => {
  /** Ejects, lets the ejection expire, and returns the state and the ejection duration. */
  function ejectAndExpire(state: OutlierState, now: number): { state: OutlierState; durationMs: number; end: number } {
    const { state: ejected, events } = feed(state, failures(5), now);
    const ev = events[0];
    assert.equal(ev?.kind, 'ejected');
    const durationMs = ev?.kind === 'ejected' ? ev.durationMs : 0;
    const end = ejected.ejectedUntil;
    const early = expireEjection(ejected, end - 1);
    assert.equal(early.event, null, 'not restored before its time');
    const out = expireEjection(ejected, end);
    assert.equal(out.event?.kind, 'restored');
    assert.equal(isEjected(out.state), false);
    return { state: out.state, durationMs, end };
  }

  test('doubles on each repeat ejection, up to the cap', () => {
    let state = initialOutlier();
    let now = 0;
    const durations: number[] = [];
    for (let i = 0; i < 6; i++) {
      const r = ejectAndExpire(state, now);
      durations.push(r.durationMs);
      state = r.state;
      now = r.end + 10; // fails again soon after coming back
    }
    assert.deepEqual(durations, [1000, 2000, 4000, 8000, 10_000, 10_000]);
    assert.equal(MAX_EJECTION_MULTIPLIER, 10);
  });

  test('the multiplier is forgotten after a healthy period as long as the cap', () => {
    let { state, end } = ejectAndExpire(initialOutlier(), 0);
    ({ state, end } = ejectAndExpire(state, end + 10));
    const third = ejectAndExpire(state, end + 10 * cfg.baseEjectionMs);
    assert.equal(third.durationMs, 1000);
  });

  test('the restore message says how long the ejection was', () => {
    const { state } = feed(initialOutlier(), failures(5), 0);
    const out = expireEjection(state, 2000);
    assert.deepEqual(out.event, { kind: 'restored', reason: 'ejection of 1000 ms elapsed' });
    assert.equal(out.state.lastRestoredAt, 2000);
  });
});

describe('max ejection percent', () => {
  test('at 50 %, one of two backends may be ejected but not the second', () => {
    assert.equal(ejectionAllowed({ ejectedOthers: 0, backends: 2 }, 50), true);
    assert.equal(ejectionAllowed({ ejectedOthers: 1, backends: 2 }, 50), false);
  });

  test('at 50 %, two of four, one of three, none of one', () => {
    assert.equal(ejectionAllowed({ ejectedOthers: 1, backends: 4 }, 50), true);
    assert.equal(ejectionAllowed({ ejectedOthers: 2, backends: 4 }, 50), false);
    assert.equal(ejectionAllowed({ ejectedOthers: 0, backends: 3 }, 50), true);
    assert.equal(ejectionAllowed({ ejectedOthers: 1, backends: 3 }, 50), false);
    assert.equal(ejectionAllowed({ ejectedOthers: 0, backends: 1 }, 50), false);
    assert.equal(ejectionAllowed({ ejectedOthers: 0, backends: 1 }, 100), true);
  });

  test('a capped backend keeps counting and is ejected as soon as room is made', () => {
    const full = { ejectedOthers: 1, backends: 2 };
    const capped = feed(initialOutlier(), failures(7), 0, full);
    assert.equal(capped.events.length, 0);
    assert.equal(capped.capped, true);
    assert.equal(capped.state.consecutiveFailures, 7);
    const { events } = feed(capped.state, [fail], 100, twoBackends);
    assert.equal(events[0]?.kind, 'ejected');
  });
});

describe('early restore by an active probe', () => {
  const probe = (ok: boolean, at: number) => ({
    ok,
    status: ok ? 200 : null,
    latencyMs: 1,
    error: ok ? null : 'x',
    at,
  });

  test('a good probe started after the ejection ends it', () => {
    const { state } = feed(initialOutlier(), failures(5), 1000);
    const out = restoreAfterProbe(state, probe(true, 1200), 1205);
    assert.deepEqual(out.event, { kind: 'restored', reason: 'active probe succeeded during ejection' });
    assert.equal(out.state.ejectedUntil, 0);
    assert.equal(out.state.lastRestoredAt, 1205);
    assert.equal(out.state.ejections, 1, 'the streak is remembered: a repeat ejection still doubles');
  });

  test('a failed probe, or one started before the ejection, does not', () => {
    const { state } = feed(initialOutlier(), failures(5), 1000);
    assert.equal(restoreAfterProbe(state, probe(false, 1200), 1205).event, null);
    assert.equal(restoreAfterProbe(state, probe(true, 900), 1205).event, null);
  });

  test('a probe on a backend in rotation changes nothing', () => {
    const s = initialOutlier();
    assert.equal(restoreAfterProbe(s, probe(true, 1), 2).state, s);
  });
});
