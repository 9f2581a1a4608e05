// The worker's log lines gathered into one string before they reach sonic-boom. SonicBoom.write
// measures the UTF-8 length of its whole pending buffer on every call, and that buffer is a string
// built by concatenation, which V8 flattens (copies) to measure: handed one access line per request,
// it copies everything still buffered on every request. Handed one batch at a time, it does that
// once per batch. The logger's own lines (operator events: listening, reload, backend down) go
// through the same batch, so every line keeps its order, but each is handed on at once with what is
// gathered before it: an event must not wait for the flush timer behind a quiet access log.

/** What a batch writes to: sonic-boom, whose write may be swapped for a no-op on EPIPE. */
export interface LineSink {
  write(text: string): unknown;
  flushSync(): void;
}

export class LineBatch {
  private pending = '';
  private timer: NodeJS.Timeout | null = null;
  private readonly sink: LineSink;
  private readonly maxChars: number;
  private readonly flushMs: number;
  private readonly onTimer: () => void;
  /** The view the logger writes its own lines through: each is handed on at once. */
  readonly events: { write(line: string): boolean };

  /** Hands the batch on once it holds `maxChars`, and at most `flushMs` after its first line. */
  constructor(sink: LineSink, maxChars: number, flushMs: number) {
    this.sink = sink;
    this.maxChars = maxChars;
    this.flushMs = flushMs;
    this.onTimer = () => {
      this.timer = null;
      this.handOn();
    };
    this.events = {
      write: (line: string) => {
        this.pending += line;
        this.handOn();
        return true;
      },
    };
  }

  write(line: string): boolean {
    this.pending += line;
    if (this.pending.length >= this.maxChars) this.handOn();
    else if (this.timer === null) {
      this.timer = setTimeout(this.onTimer, this.flushMs);
      this.timer.unref();
    }
    return true;
  }

  /** Everything written so far, to the sink now and out of the process before this returns. */
  flushSync(): void {
    this.handOn();
    this.sink.flushSync();
  }

  private handOn(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.pending.length === 0) return;
    const text = this.pending;
    this.pending = '';
    this.sink.write(text);
  }
}
