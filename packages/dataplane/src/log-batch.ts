// The worker's log lines gathered into one string before they reach sonic-boom. SonicBoom.write
// measures the UTF-8 length of its whole pending buffer on every call, and that buffer is a string
// built by concatenation, which V8 flattens (copies) to measure: handed one access line per request,
// it copies everything still buffered on every request. Handed one batch at a time, it does that
// once per batch. The logger's own lines (operator events: listening, reload, backend down) go
// through the same batch, so every line keeps its order, but each is handed on at once with what is
// gathered before it: an event must not wait for the flush timer behind a quiet access log.
//
// A batch is handed on as bytes, encoded once here: sonic-boom in its buffer mode takes a Buffer's
// length as it is, where with a string it measures it (Buffer.byteLength) and encodes it twice more,
// once to write it and once to account for what was written.

/** What a batch writes to: sonic-boom (contentMode 'buffer'), whose write may be swapped for a no-op on EPIPE. */
export interface LineSink {
  write(bytes: Buffer): unknown;
  flushSync(): void;
}

export class LineBatch {
  private pending = '';
  /** The flush timer has been started for the lines pending now. */
  private armed = false;
  /** One timer for the life of the batch, restarted (refresh) by the first line after a hand-on. */
  private readonly timer: NodeJS.Timeout;
  private readonly sink: LineSink;
  private readonly maxChars: number;
  /** The view the logger writes its own lines through: each is handed on at once. */
  readonly events: { write(line: string): boolean };

  /** Hands the batch on once it holds `maxChars`, and at most `flushMs` after its first line. */
  constructor(sink: LineSink, maxChars: number, flushMs: number) {
    this.sink = sink;
    this.maxChars = maxChars;
    // Never cleared (a cleared timer cannot be restarted): when it fires after its batch went out
    // by size, or once at the start, nothing is pending and it does nothing.
    this.timer = setTimeout(() => this.handOn(), flushMs);
    this.timer.unref();
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
    else if (!this.armed) {
      this.armed = true;
      this.timer.refresh();
    }
    return true;
  }

  /** Everything written so far, to the sink now and out of the process before this returns. */
  flushSync(): void {
    this.handOn();
    this.sink.flushSync();
  }

  private handOn(): void {
    this.armed = false;
    if (this.pending.length === 0) return;
    const text = this.pending;
    this.pending = '';
    this.sink.write(Buffer.from(text, 'utf8'));
  }
}
