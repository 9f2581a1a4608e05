// The upstream response deadline (`timeouts.upstreamResponse`) of requests without a body, kept by
// the worker instead of by each upstream socket. A socket timeout per request costs a Timeout and a
// bound function when it is set, a listener on the socket, a clear when the response head arrives,
// and, because that leaves the socket's timeout at 0, the pool arming its idle timeout again when
// the socket is freed: all that on every keep-alive request. Here a request is linked into a list
// of the requests waiting for a response head with the same timeout (so the list is in deadline
// order), and one timer per list fires only when its oldest entry is due. Linking and unlinking
// touch four fields of the request's state; nothing is allocated.
//
// Only for requests without a body: for them "no response byte within the timeout" and "the socket
// idle for the timeout" are the same thing, since nothing is written after the head. A request that
// streams a body keeps the socket timeout, which a slow upload keeps resetting.
import { performance } from 'node:perf_hooks';

/** What a list needs of a request: its own links, and how to give up on it. */
export interface DeadlineEntry {
  deadlineAt: number;
  deadlinePrev: DeadlineEntry | null;
  deadlineNext: DeadlineEntry | null;
  deadlineList: DeadlineList | null;
  /** Called once when the deadline passes while the entry is still linked. */
  expire(): void;
}

export class DeadlineList {
  readonly timeoutMs: number;
  private head: DeadlineEntry | null = null;
  private tail: DeadlineEntry | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly onTimer: () => void;

  constructor(timeoutMs: number) {
    this.timeoutMs = timeoutMs;
    this.onTimer = () => this.fire();
  }

  add(entry: DeadlineEntry): void {
    if (entry.deadlineList !== null) entry.deadlineList.remove(entry);
    entry.deadlineAt = performance.now() + this.timeoutMs;
    entry.deadlineList = this;
    entry.deadlinePrev = this.tail;
    entry.deadlineNext = null;
    if (this.tail === null) this.head = entry;
    else this.tail.deadlineNext = entry;
    this.tail = entry;
    if (this.timer === null) this.arm(this.timeoutMs);
  }

  /** Unlinks `entry` (linked in this list). The timer stays: it finds out when it fires. */
  remove(entry: DeadlineEntry): void {
    const prev = entry.deadlinePrev;
    const next = entry.deadlineNext;
    if (prev === null) this.head = next;
    else prev.deadlineNext = next;
    if (next === null) this.tail = prev;
    else next.deadlinePrev = prev;
    entry.deadlinePrev = null;
    entry.deadlineNext = null;
    entry.deadlineList = null;
  }

  private arm(delayMs: number): void {
    this.timer = setTimeout(this.onTimer, Math.max(1, Math.ceil(delayMs)));
    this.timer.unref();
  }

  private fire(): void {
    this.timer = null;
    const now = performance.now();
    let entry = this.head;
    while (entry !== null && entry.deadlineAt <= now) {
      this.remove(entry);
      entry.expire();
      entry = this.head;
    }
    if (this.head !== null) this.arm(this.head.deadlineAt - now);
  }
}

/** The lists of one worker, one per timeout length in use (a new generation may change it). */
export class ResponseDeadlines {
  private readonly lists = new Map<number, DeadlineList>();

  start(entry: DeadlineEntry, timeoutMs: number): void {
    let list = this.lists.get(timeoutMs);
    if (list === undefined) {
      list = new DeadlineList(timeoutMs);
      this.lists.set(timeoutMs, list);
    }
    list.add(entry);
  }

  static stop(entry: DeadlineEntry): void {
    if (entry.deadlineList !== null) entry.deadlineList.remove(entry);
  }
}
