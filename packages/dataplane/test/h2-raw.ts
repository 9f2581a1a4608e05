// A deliberately naive HTTP/2 client that writes frames by hand, so that tests can send what Node's
// own http2 client refuses to (uppercase names, connection headers, CR/LF/NUL, bad :path, rapid
// resets). HPACK is used in its simplest form: every field a literal without indexing, no Huffman.
import { once } from 'node:events';
import tls from 'node:tls';

export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
export const FRAME = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8 } as const;
export const FLAG = { END_STREAM: 1, ACK: 1, END_HEADERS: 4 } as const;

export function frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

function hpackInt(value: number, prefixBits: number, firstByte: number): Buffer {
  const max = (1 << prefixBits) - 1;
  if (value < max) return Buffer.from([firstByte | value]);
  const bytes = [firstByte | max];
  let rest = value - max;
  while (rest >= 128) {
    bytes.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

function hpackString(text: string): Buffer {
  const raw = Buffer.from(text, 'latin1');
  return Buffer.concat([hpackInt(raw.length, 7, 0), raw]);
}

/** Literal header field without indexing, new name (RFC 7541 §6.2.2). */
export function hpack(headers: Array<[string, string]>): Buffer {
  return Buffer.concat(headers.flatMap(([n, v]) => [Buffer.from([0x00]), hpackString(n), hpackString(v)]));
}

export interface RawFrame {
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
}

export class RawH2 {
  readonly socket: tls.TLSSocket;
  readonly frames: RawFrame[] = [];
  private buffer = Buffer.alloc(0);
  closed = false;

  private constructor(socket: tls.TLSSocket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('close', () => {
      this.closed = true;
    });
    socket.on('error', () => {});
  }

  static async connect(
    port: number,
    servername: string,
    ca: string,
    extra: tls.ConnectionOptions = {},
  ): Promise<RawH2> {
    const socket = tls.connect({ port, host: '127.0.0.1', servername, ca, ALPNProtocols: ['h2'], ...extra });
    await once(socket, 'secureConnect');
    if (socket.alpnProtocol !== 'h2') throw new Error(`ALPN gave ${socket.alpnProtocol}`);
    const h2 = new RawH2(socket);
    socket.write(Buffer.concat([PREFACE, frame(FRAME.SETTINGS, 0, 0)]));
    return h2;
  }

  private onData(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    while (this.buffer.length >= 9) {
      const length = this.buffer.readUIntBE(0, 3);
      if (this.buffer.length < 9 + length) break;
      const f: RawFrame = {
        type: this.buffer[3] as number,
        flags: this.buffer[4] as number,
        streamId: this.buffer.readUInt32BE(5) & 0x7fffffff,
        payload: this.buffer.subarray(9, 9 + length),
      };
      this.buffer = this.buffer.subarray(9 + length);
      if (f.type === FRAME.SETTINGS && (f.flags & FLAG.ACK) === 0)
        this.socket.write(frame(FRAME.SETTINGS, FLAG.ACK, 0));
      this.frames.push(f);
    }
  }

  request(streamId: number, headers: Array<[string, string]>, endStream = true): void {
    this.socket.write(
      frame(FRAME.HEADERS, FLAG.END_HEADERS | (endStream ? FLAG.END_STREAM : 0), streamId, hpack(headers)),
    );
  }

  reset(streamId: number, code = 8 /* CANCEL */): void {
    const payload = Buffer.alloc(4);
    payload.writeUInt32BE(code);
    this.socket.write(frame(FRAME.RST_STREAM, 0, streamId, payload));
  }

  /** Waits until a frame on `streamId` ends it (HEADERS/DATA with END_STREAM, or RST_STREAM), or GOAWAY/close. */
  async outcome(
    streamId: number,
    timeoutMs = 5000,
  ): Promise<{ kind: 'response' | 'reset' | 'goaway' | 'closed'; detail: number }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const f of this.frames) {
        if (f.streamId === streamId && f.type === FRAME.RST_STREAM)
          return { kind: 'reset', detail: f.payload.readUInt32BE(0) };
        if (f.streamId === streamId && f.type === FRAME.HEADERS)
          return { kind: 'response', detail: statusOf(f.payload) };
        if (f.type === FRAME.GOAWAY) return { kind: 'goaway', detail: f.payload.readUInt32BE(4) };
      }
      if (this.closed) return { kind: 'closed', detail: 0 };
      if (Date.now() > deadline) throw new Error(`no outcome for stream ${streamId}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/**
 * The `:status` of a response HEADERS block as Node encodes it: an indexed static-table entry
 * (8 = 200 ... 14 = 500) or a literal with the static `:status` name; 0 when it cannot tell.
 */
export function statusOf(block: Buffer): number {
  const first = block[0] ?? 0;
  const indexed: Record<number, number> = { 8: 200, 9: 204, 10: 206, 11: 304, 12: 400, 13: 404, 14: 500 };
  if (first & 0x80) return indexed[first & 0x7f] ?? 0;
  // Literal with indexed name 8 (:status): 0x48 (incremental indexing), 0x08 (without), 0x18 (never).
  const nameIndex = first & 0x40 ? first & 0x3f : first & 0x0f;
  if (nameIndex >= 8 && nameIndex <= 14) {
    const len = (block[1] ?? 0) & 0x7f;
    if (((block[1] ?? 0) & 0x80) === 0) return Number(block.subarray(2, 2 + len).toString('latin1'));
  }
  return 0;
}
