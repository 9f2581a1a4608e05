// The live /status document for the status page, as Server-Sent Events. The primary publishes one
// document per tick; it is serialised once and the same bytes go to every viewer, so a viewer costs
// a socket write per second and nothing else. A viewer that stops reading is cut off instead of
// being buffered for.
import type { ServerResponse } from 'node:http';
import type { StatusReport } from './gateway-api.ts';

/** Enough for every operator of one gateway; each viewer is a held-open connection. */
export const MAX_VIEWERS = 32;
/** A viewer with this much unsent data is not reading: close it. */
const MAX_BACKLOG_BYTES = 1024 * 1024;

export class StatusFeed {
  private readonly viewers = new Set<ServerResponse>();
  private last: string | null = null;

  get viewerCount(): number {
    return this.viewers.size;
  }

  /** Sends `report` to every viewer, serialised once. */
  publish(report: StatusReport): void {
    this.last = `event: status\ndata: ${JSON.stringify(report)}\n\n`;
    for (const res of this.viewers) this.send(res, this.last);
  }

  /** Holds `res` open as an event stream; false when the viewer limit is reached. */
  subscribe(res: ServerResponse): boolean {
    if (this.viewers.size >= MAX_VIEWERS) return false;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      // Tells a reverse proxy in front (nginx) not to buffer the stream.
      'x-accel-buffering': 'no',
    });
    // How long the browser's EventSource waits before reconnecting.
    res.write('retry: 1000\n\n');
    this.viewers.add(res);
    res.once('close', () => this.viewers.delete(res));
    if (this.last !== null) this.send(res, this.last);
    return true;
  }

  /** Ends every stream (shutdown). */
  close(): void {
    for (const res of this.viewers) res.end();
    this.viewers.clear();
  }

  private send(res: ServerResponse, text: string): void {
    if (res.writableLength > MAX_BACKLOG_BYTES) {
      this.viewers.delete(res);
      res.destroy();
      return;
    }
    res.write(text);
  }
}
