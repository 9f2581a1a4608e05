import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type DeadlineEntry, DeadlineList, ResponseDeadlines } from '../../src/upstream/response-deadlines.ts';

/** An entry that records when it expired, in the order of all entries' expiries. */
function entry(name: string, expired: string[], onExpire?: () => void): DeadlineEntry {
  return {
    deadlineAt: 0,
    deadlinePrev: null,
    deadlineNext: null,
    deadlineList: null,
    expire() {
      expired.push(name);
      onExpire?.();
    },
  };
}

function untilExpired(expired: string[], count: number): Promise<void> {
  return new Promise((resolve) => {
    const check = (): void => {
      if (expired.length >= count) resolve();
      else setTimeout(check, 5);
    };
    check();
  });
}

/** A list is empty when an entry added to it has nothing before it (its tail was null). */
function assertEmpty(list: DeadlineList): void {
  const probe = entry('probe', []);
  list.add(probe);
  assert.equal(probe.deadlinePrev, null, 'the list was empty');
  ResponseDeadlines.stop(probe);
}

describe('upstream response deadlines', () => {
  it('expires entries in the order they were added, each once, and leaves the list empty', async () => {
    const expired: string[] = [];
    const list = new DeadlineList(10);
    const a = entry('a', expired);
    const b = entry('b', expired);
    const c = entry('c', expired);
    list.add(a);
    list.add(b);
    list.add(c);
    await untilExpired(expired, 3);
    assert.deepEqual(expired, ['a', 'b', 'c']);
    assertEmpty(list);
    assert.equal(a.deadlineList, null);
  });

  it('never expires an entry that was stopped (its response head came), and keeps the others', async () => {
    const expired: string[] = [];
    const list = new DeadlineList(10);
    const first = entry('first', expired);
    const middle = entry('middle', expired);
    const last = entry('last', expired);
    for (const e of [first, middle, last]) list.add(e);
    ResponseDeadlines.stop(first);
    ResponseDeadlines.stop(middle);
    ResponseDeadlines.stop(middle);
    await untilExpired(expired, 1);
    // Give a wrongly kept entry the time to expire too.
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.deepEqual(expired, ['last']);
    assertEmpty(list);
  });

  it('an entry added again (a retry) moves to the end with a new deadline', async () => {
    const expired: string[] = [];
    const list = new DeadlineList(10);
    const retried = entry('retried', expired);
    const other = entry('other', expired);
    list.add(retried);
    list.add(other);
    list.add(retried);
    await untilExpired(expired, 2);
    assert.deepEqual(expired, ['other', 'retried']);
  });

  it('an entry that expires and is started again (retried after the timeout) expires again', async () => {
    const expired: string[] = [];
    const deadlines = new ResponseDeadlines();
    let retries = 0;
    const retried: DeadlineEntry = entry('retried', expired, () => {
      if (retries++ === 0) deadlines.start(retried, 10);
    });
    deadlines.start(retried, 10);
    await untilExpired(expired, 2);
    assert.deepEqual(expired, ['retried', 'retried']);
  });

  it('keeps one list per timeout length, so a shorter timeout is not held behind a longer one', async () => {
    const expired: string[] = [];
    const deadlines = new ResponseDeadlines();
    const long = entry('long', expired);
    deadlines.start(long, 60_000);
    deadlines.start(entry('short', expired), 10);
    await untilExpired(expired, 1);
    assert.deepEqual(expired, ['short']);
    ResponseDeadlines.stop(long);
  });
});
