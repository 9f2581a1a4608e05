import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  applyProbe,
  describeStatusRanges,
  type HealthState,
  initialState,
  isHealthyStatus,
  type ProbeResult,
  type Thresholds,
  type Transition,
} from '../src/state.ts';

const good = (at = 0): ProbeResult => ({ ok: true, status: 200, latencyMs: 3, error: null, at });
const bad = (error = 'connection refused', at = 0): ProbeResult => ({
  ok: false,
  status: null,
  latencyMs: null,
  error,
  at,
});

/** Runs a sequence of probes and returns the final state and every transition, in order. */
function run(cfg: Thresholds, probes: ProbeResult[], start = initialState(cfg, 0)) {
  let state: HealthState = start;
  const transitions: Transition[] = [];
  probes.forEach((probe, i) => {
    const out = applyProbe(state, probe, cfg, i + 1);
    state = out.state;
    if (out.transition) transitions.push(out.transition);
  });
  return { state, transitions };
}

/** A backend that has answered once, so it is past the unproven start. */
function proven(cfg: Thresholds): HealthState {
  return run(cfg, [good()]).state;
}

describe('initial state', () => {
  test('a new backend starts up and unproven', () => {
    const s = initialState({ fall: 3, rise: 2 }, 42);
    assert.equal(s.status, 'up');
    assert.equal(s.proven, false);
    assert.equal(s.transitions, 0);
    assert.equal(s.lastProbe, null);
    assert.equal(s.since, 42);
  });

  test('an unproven backend goes down on its first failed probe', () => {
    const { state, transitions } = run({ fall: 3, rise: 2 }, [bad()]);
    assert.equal(state.status, 'down');
    assert.equal(transitions.length, 1);
    assert.deepEqual({ from: transitions[0]?.from, to: transitions[0]?.to }, { from: 'up', to: 'down' });
    assert.match(transitions[0]?.reason ?? '', /first probe failed: connection refused/);
  });

  test('a first good probe proves the backend without a transition', () => {
    const { state, transitions } = run({ fall: 3, rise: 2 }, [good()]);
    assert.equal(state.status, 'up');
    assert.equal(state.proven, true);
    assert.equal(transitions.length, 0);
  });
});

describe('fall', () => {
  const cfg = { fall: 3, rise: 2 };

  test('fall - 1 failures keep a proven backend up', () => {
    const { state, transitions } = run(cfg, [bad(), bad()], proven(cfg));
    assert.equal(state.status, 'up');
    assert.equal(state.consecutiveFailures, 2);
    assert.equal(transitions.length, 0);
  });

  test('fall consecutive failures take it down, once', () => {
    const { state, transitions } = run(cfg, [bad(), bad(), bad('timeout after 5000 ms'), bad(), bad()], proven(cfg));
    assert.equal(state.status, 'down');
    assert.equal(transitions.length, 1);
    assert.equal(transitions[0]?.to, 'down');
    assert.equal(transitions[0]?.reason, '3 consecutive failed probes: timeout after 5000 ms');
    assert.equal(transitions[0]?.probe.error, 'timeout after 5000 ms');
    assert.equal(state.transitions, 1);
  });

  test('a success in between resets the failure count', () => {
    const { state, transitions } = run(cfg, [bad(), bad(), good(), bad(), bad()], proven(cfg));
    assert.equal(state.status, 'up');
    assert.equal(state.consecutiveFailures, 2);
    assert.equal(transitions.length, 0);
  });

  test('fall: 1 goes down on the first failure', () => {
    const c = { fall: 1, rise: 1 };
    const { state, transitions } = run(c, [bad()], proven(c));
    assert.equal(state.status, 'down');
    assert.equal(transitions[0]?.reason, '1 consecutive failed probe: connection refused');
  });
});

describe('rise', () => {
  const cfg = { fall: 3, rise: 2 };
  const down = run(cfg, [bad()]).state;

  test('rise - 1 successes keep it down', () => {
    const { state, transitions } = run(cfg, [good()], down);
    assert.equal(state.status, 'down');
    assert.equal(transitions.length, 0);
  });

  test('rise consecutive successes bring it up, once', () => {
    const { state, transitions } = run(cfg, [good(), good(), good()], down);
    assert.equal(state.status, 'up');
    assert.equal(transitions.length, 1);
    assert.deepEqual([transitions[0]?.from, transitions[0]?.to], ['down', 'up']);
    assert.equal(transitions[0]?.reason, '2 consecutive successful probes');
    assert.equal(state.transitions, 2);
  });

  test('a failure in between resets the success count', () => {
    const { state, transitions } = run(cfg, [good(), bad(), good()], down);
    assert.equal(state.status, 'down');
    assert.equal(transitions.length, 0);
  });

  test('after coming back, going down again needs fall failures (the backend is proven)', () => {
    const { state, transitions } = run(cfg, [good(), good(), bad(), bad()], down);
    assert.equal(state.status, 'up');
    assert.equal(transitions.length, 1);
  });

  test('a full flap cycle gives alternating transitions', () => {
    const { transitions } = run({ fall: 2, rise: 2 }, [good(), bad(), bad(), good(), good(), bad(), bad()]);
    assert.deepEqual(
      transitions.map((t) => t.to),
      ['down', 'up', 'down'],
    );
  });

  test('the last probe is kept whatever happens', () => {
    const p = bad('upstream certificate expired', 99);
    const { state } = run(cfg, [good(), p]);
    assert.deepEqual(state.lastProbe, p);
  });
});

describe('healthy statuses', () => {
  test('default: anything below 400', () => {
    for (const s of [100, 200, 204, 301, 399]) assert.equal(isHealthyStatus(s, []), true, String(s));
    for (const s of [400, 404, 429, 500, 503]) assert.equal(isHealthyStatus(s, []), false, String(s));
  });

  test('explicit ranges are inclusive and only those count', () => {
    const ranges: Array<[number, number]> = [
      [200, 299],
      [418, 418],
    ];
    assert.equal(isHealthyStatus(200, ranges), true);
    assert.equal(isHealthyStatus(299, ranges), true);
    assert.equal(isHealthyStatus(418, ranges), true);
    assert.equal(isHealthyStatus(300, ranges), false);
    assert.equal(isHealthyStatus(199, ranges), false);
    assert.equal(isHealthyStatus(417, ranges), false);
  });

  test('ranges read back the way an operator writes them', () => {
    assert.equal(
      describeStatusRanges([
        [200, 299],
        [418, 418],
      ]),
      '200-299, 418',
    );
    assert.equal(describeStatusRanges([]), '100-399');
  });
});
