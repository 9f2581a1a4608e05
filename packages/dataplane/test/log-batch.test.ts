import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { LineBatch, type LineSink } from '../src/log-batch.ts';

/** Records what reached it, as sonic-boom would receive it. */
function recordingSink(): LineSink & { writes: string[]; flushes: number } {
  return {
    writes: [],
    flushes: 0,
    write(bytes: Buffer) {
      this.writes.push(bytes.toString('utf8'));
    },
    flushSync() {
      this.flushes++;
    },
  };
}

describe('log line batch', () => {
  it('hands the lines on in one write once they reach the size, in their order', () => {
    const sink = recordingSink();
    const batch = new LineBatch(sink, 10, 60_000);
    batch.write('aaaa\n');
    assert.deepEqual(sink.writes, [], 'below the size: still gathered');
    batch.write('bbbbb\n');
    assert.deepEqual(sink.writes, ['aaaa\nbbbbb\n']);
    batch.write('c\n');
    batch.flushSync();
    assert.deepEqual(sink.writes, ['aaaa\nbbbbb\n', 'c\n']);
    assert.equal(sink.flushes, 1, 'and the sink is flushed through');
  });

  it('a lone line is handed on within the flush interval', async () => {
    const sink = recordingSink();
    const batch = new LineBatch(sink, 8192, 10);
    batch.write('one\n');
    for (let i = 0; i < 200 && sink.writes.length === 0; i++) await sleep(10);
    assert.deepEqual(sink.writes, ['one\n']);
  });

  it('starts the interval again for the first line after each hand-on, by size or by time', async () => {
    const sink = recordingSink();
    const batch = new LineBatch(sink, 10, 10);
    const handedOn = async (count: number): Promise<void> => {
      for (let i = 0; i < 200 && sink.writes.length < count; i++) await sleep(10);
    };
    batch.write('by size, at once\n');
    assert.deepEqual(sink.writes, ['by size, at once\n']);
    batch.write('two\n');
    await handedOn(2);
    batch.write('three\n');
    await handedOn(3);
    assert.deepEqual(sink.writes, ['by size, at once\n', 'two\n', 'three\n']);
  });

  it('hands an event line on at once, after the access lines gathered before it', () => {
    const sink = recordingSink();
    const batch = new LineBatch(sink, 8192, 60_000);
    batch.write('access 1\n');
    batch.write('access 2\n');
    assert.deepEqual(sink.writes, []);
    batch.events.write('listening\n');
    assert.deepEqual(sink.writes, ['access 1\naccess 2\nlistening\n']);
    batch.write('access 3\n');
    assert.deepEqual(sink.writes, ['access 1\naccess 2\nlistening\n'], 'access lines are gathered again');
  });

  it('writes nothing when there is nothing to hand on', () => {
    const sink = recordingSink();
    const batch = new LineBatch(sink, 10, 10);
    batch.flushSync();
    assert.deepEqual(sink.writes, []);
  });
});
