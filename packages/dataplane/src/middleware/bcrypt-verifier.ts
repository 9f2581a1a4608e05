// Where a worker's bcrypt checks run. While some generation has a basicAuth step with a bcrypt hash,
// they run in one dedicated thread that lowered its own priority to nice 19 (bcrypt-thread.ts): with
// as many workers as cores, a burst of wrong passwords would otherwise take the cores the event
// loops need, and every route's latency would follow the attacker's rate. When no step needs it the
// thread is stopped. Where the priority cannot be lowered (no /proc/thread-self, or refused) the
// thread is stopped for good, one line is logged, and checks run on libuv's thread pool as before.
// Either way the comparison is @node-rs/bcrypt's, constant-time. How many checks may wait is the
// gate's business (bcrypt-gate.ts), not this file's.
import { verify as poolVerify } from '@node-rs/bcrypt';
import { Worker } from 'node:worker_threads';
import { bcryptLowPriority } from './bcrypt-priority-gauge.ts';
import { middlewareEvent } from './events.ts';

/** A request to the thread. */
export interface BcryptCheck {
  readonly id: number;
  readonly password: string;
  readonly hash: string;
}

/** From the thread: id 0 is its first message (tid, or why its priority stayed); others answer a check. */
export interface BcryptThreadMessage {
  readonly id: number;
  readonly ok: boolean;
  readonly tid: number | null;
  readonly error: string | null;
  /** On the first message: whether the thread also runs under SCHED_IDLE (see bcrypt-thread.ts). */
  readonly idle: boolean;
}

interface Pending {
  readonly password: string;
  readonly hash: string;
  readonly resolve: (ok: boolean) => void;
}

// Beside this module, with its extension: `.ts` from the sources, `.js` from dist/.
const threadUrl = new URL(`./bcrypt-thread${import.meta.url.slice(import.meta.url.lastIndexOf('.'))}`, import.meta.url);

function refuse(): boolean {
  return false;
}

function onPool(password: string, hash: string): Promise<boolean> {
  return poolVerify(password, hash).catch(refuse);
}

export class BcryptVerifier {
  private users = 0;
  private thread: Worker | null = null;
  /** Set once the priority could not be lowered or the thread died: the pool from then on. */
  private unavailable: string | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private started: PromiseWithResolvers<number | null> | null = null;
  /** The kernel id of the running thread once it lowered its priority; null otherwise. */
  threadId: number | null = null;

  /** A step that checks bcrypt hashes exists (a generation built it); starts the thread. */
  acquire(): void {
    this.users++;
    if (this.thread === null && this.unavailable === null) this.start();
  }

  /** That step was retired; the last one out stops the thread. */
  release(): void {
    if (this.users === 0) return;
    this.users--;
    if (this.users === 0) this.stop();
  }

  /** Resolves with the thread's kernel id once it runs at the lowest priority; null when it does not. */
  ready(): Promise<number | null> {
    return this.started?.promise ?? Promise.resolve(null);
  }

  /** Checks sent to the thread and not answered yet. */
  get onThread(): number {
    return this.pending.size;
  }

  /** Why checks run on the thread pool for good; null while the thread may be used. */
  get fallbackReason(): string | null {
    return this.unavailable;
  }

  /** Checks `password` against a bcrypt `hash`; false for a hash that cannot be read. */
  readonly verify = (password: string, hash: string): Promise<boolean> => {
    const thread = this.thread;
    if (thread === null) return onPool(password, hash);
    const id = this.nextId++;
    const { promise, resolve } = Promise.withResolvers<boolean>();
    this.pending.set(id, { password, hash, resolve });
    const check: BcryptCheck = { id, password, hash };
    thread.postMessage(check);
    return promise;
  };

  private start(): void {
    const thread = new Worker(threadUrl, { name: 'gatehouse-bcrypt' });
    // An idle verifier must not keep a stopping worker alive; the sockets waiting for it do.
    thread.unref();
    this.thread = thread;
    this.started = Promise.withResolvers<number | null>();
    thread.on('message', (message: BcryptThreadMessage) => {
      if (this.thread === thread) this.receive(message);
    });
    thread.on('error', (error: Error) => {
      if (this.thread === thread) this.giveUp(`the bcrypt thread failed: ${error.message}`);
    });
    thread.on('exit', (code: number) => {
      if (this.thread === thread) this.giveUp(`the bcrypt thread exited with code ${code}`);
    });
  }

  private receive(message: BcryptThreadMessage): void {
    if (message.id === 0) {
      if (message.tid === null) {
        this.giveUp(`cannot lower the bcrypt thread's priority: ${message.error ?? 'unknown'}`);
        return;
      }
      this.threadId = message.tid;
      bcryptLowPriority.set(1);
      this.started?.resolve(message.tid);
      return;
    }
    const waiting = this.pending.get(message.id);
    if (waiting === undefined) return;
    this.pending.delete(message.id);
    waiting.resolve(message.ok);
  }

  private giveUp(reason: string): void {
    this.unavailable = reason;
    middlewareEvent('warn', { event: 'bcrypt_thread_unavailable', reason }, 'bcrypt checks run on the thread pool');
    this.stop();
  }

  /** Stops the thread; checks it had not answered run on the thread pool instead. */
  private stop(): void {
    const thread = this.thread;
    this.thread = null;
    this.threadId = null;
    bcryptLowPriority.set(0);
    this.started?.resolve(null);
    this.started = null;
    if (thread !== null) void thread.terminate();
    for (const waiting of this.pending.values()) onPool(waiting.password, waiting.hash).then(waiting.resolve);
    this.pending.clear();
  }
}

/** The worker's one verifier, shared by every basicAuth step of every generation. */
export const bcryptVerifier = new BcryptVerifier();
