// The bcrypt verifier thread: it runs at nice 19 while the rest of the process keeps its priority,
// it gives the library's verdicts, and it lives exactly as long as a step that needs it.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { hash as bcryptHash } from '@node-rs/bcrypt';
import { BasicAuthStep } from '../../src/middleware/basic-auth.ts';
import { BcryptVerifier, bcryptVerifier } from '../../src/middleware/bcrypt-verifier.ts';

const linux = existsSync('/proc/thread-self');

/** Field 19 of /proc/PID/task/TID/stat (after the parenthesised command name, which may hold spaces). */
function niceOf(tid: number): number {
  const stat = readFileSync(`/proc/${process.pid}/task/${tid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[19 - 3]);
}

/** Field 41 of the same stat line: the scheduling policy (5 is SCHED_IDLE). */
function policyOf(tid: number): number {
  const stat = readFileSync(`/proc/${process.pid}/task/${tid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[41 - 3]);
}
const SCHED_IDLE = 5;
const chrt = ['/usr/bin/chrt', '/bin/chrt'].some((p) => existsSync(p));

async function gone(tid: number): Promise<void> {
  for (let i = 0; i < 500 && existsSync(`/proc/${process.pid}/task/${tid}`); i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.ok(!existsSync(`/proc/${process.pid}/task/${tid}`), `thread ${tid} still exists`);
}

describe('the bcrypt verifier thread', { skip: linux ? false : 'needs /proc/thread-self (Linux)' }, () => {
  it('runs at nice 19 alone in the process and verifies right and wrong passwords', async () => {
    const hash = await bcryptHash('s3cret', 4);
    const mainBefore = niceOf(process.pid);
    const verifier = new BcryptVerifier();
    verifier.acquire();
    const tid = await verifier.ready();
    assert.equal(typeof tid, 'number', `not started: ${verifier.fallbackReason}`);
    assert.notEqual(tid, process.pid);
    assert.equal(niceOf(tid as number), 19);
    assert.equal(niceOf(process.pid), mainBefore, 'the main thread keeps its priority');
    if (chrt) assert.equal(policyOf(tid as number), SCHED_IDLE, 'and runs only when a core is idle');
    assert.notEqual(policyOf(process.pid), SCHED_IDLE, 'the main thread keeps its policy');

    const right = verifier.verify('s3cret', hash);
    const wrong = verifier.verify('s3creT', hash);
    const unreadable = verifier.verify('s3cret', 'not-a-bcrypt-hash');
    assert.equal(verifier.onThread, 3, 'the checks went to the thread');
    assert.deepEqual(await Promise.all([right, wrong, unreadable]), [true, false, false]);
    for (const prefix of ['$2a$', '$2y$']) {
      assert.equal(await verifier.verify('s3cret', prefix + hash.slice(4)), true, prefix);
    }

    // The last user out stops the thread; what it had not answered is answered from the pool.
    const inFlight = verifier.verify('s3cret', hash);
    verifier.release();
    assert.equal(verifier.threadId, null);
    assert.equal(verifier.onThread, 0);
    assert.equal(await inFlight, true);
    await gone(tid as number);
    assert.equal(await verifier.verify('wrong', hash), false, 'without the thread, on the pool');
    assert.equal(verifier.fallbackReason, null);
  });

  it('starts with the first basicAuth step that has a bcrypt hash and stops with the last', async () => {
    const hash = await bcryptHash('pw', 4);
    const rule = { realm: 'r', forwardUsername: false };
    const bcryptUsers = { name: 'b', rule: { ...rule, users: [{ username: 'u', hash, scheme: 'bcrypt' }] } };
    const plainUsers = { name: 'p', rule: { ...rule, users: [{ username: 'u', hash: 'pw', scheme: 'plain' }] } };
    type Config = ConstructorParameters<typeof BasicAuthStep>[0];
    const plain = new BasicAuthStep(plainUsers as unknown as Config);
    assert.equal(await bcryptVerifier.ready(), null, 'no bcrypt hash, no thread');
    const first = new BasicAuthStep(bcryptUsers as unknown as Config);
    const second = new BasicAuthStep(bcryptUsers as unknown as Config);
    const tid = await bcryptVerifier.ready();
    assert.equal(niceOf(tid as number), 19);
    first.close();
    first.close();
    assert.equal(bcryptVerifier.threadId, tid, 'the second step still holds it');
    second.close();
    plain.close();
    assert.equal(bcryptVerifier.threadId, null);
    await gone(tid as number);
  });
});
