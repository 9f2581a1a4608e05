// The body of the bcrypt verifier thread (bcrypt-verifier.ts starts it). It first lowers its own
// scheduling priority to nice 19: on Linux setpriority(PRIO_PROCESS, tid) applies to one thread, so
// the event loops of the same process keep theirs, and a burst of wrong passwords gets only the CPU
// the traffic leaves over. Then it asks for SCHED_IDLE where `chrt` (util-linux) can set it: a nice-19
// thread that holds a core still runs out its time slice when an event loop wakes, which doubled the
// plain route's p99 beside a burst on a 2-core machine; a SCHED_IDLE thread is preempted at once.
// Then it checks one password at a time, synchronously; a reply carries the id of its request. Its
// first message says whether the priority could be lowered.
import { execFileSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { verifySync } from '@node-rs/bcrypt';
import type { BcryptCheck, BcryptThreadMessage } from './bcrypt-verifier.ts';

const LOWEST_PRIORITY = 19;

/** This thread's kernel id, from `/proc/thread-self` (`PID/task/TID`); throws where there is none. */
function ownThreadId(): number {
  const link = readlinkSync('/proc/thread-self');
  return Number(link.slice(link.lastIndexOf('/') + 1));
}

function lowerOwnPriority(): BcryptThreadMessage {
  try {
    const tid = ownThreadId();
    setPriority(tid, LOWEST_PRIORITY);
    return { id: 0, ok: true, tid, error: null, idle: scheduleWhenIdle(tid) };
  } catch (error) {
    return { id: 0, ok: false, tid: null, error: (error as Error).message, idle: false };
  }
}

/** SCHED_IDLE for this thread (lowering a policy needs no privilege); false where chrt is missing or refused. */
function scheduleWhenIdle(tid: number): boolean {
  try {
    execFileSync('chrt', ['--idle', '--pid', '0', String(tid)], { stdio: 'ignore', timeout: 5_000 });
    return true;
  } catch {
    // nice 19 alone still keeps the thread behind the event loops, with a longer tail
    return false;
  }
}

function check(password: string, hash: string): boolean {
  try {
    return verifySync(password, hash);
  } catch {
    // A hash the library cannot read never matches.
    return false;
  }
}

const port = parentPort;
if (port !== null) {
  port.postMessage(lowerOwnPriority());
  port.on('message', (request: BcryptCheck) => {
    const reply: BcryptThreadMessage = {
      id: request.id,
      ok: check(request.password, request.hash),
      tid: null,
      error: null,
      idle: false,
    };
    port.postMessage(reply);
  });
}
