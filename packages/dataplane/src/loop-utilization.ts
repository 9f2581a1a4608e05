// Event-loop utilisation as "the busy share since I last asked", with a baseline per reader: the
// Prometheus gauge and the gh:stats answer each read it on their own schedule, and with one shared
// baseline each would get only the share since whichever of them read last.
import { type EventLoopUtilization, performance } from 'node:perf_hooks';

export class LoopUtilizationReader {
  private last: EventLoopUtilization = performance.eventLoopUtilization();

  /** Share of time the event loop was busy since this reader's previous sample (0..1). */
  sample(): number {
    const now = performance.eventLoopUtilization();
    const utilization = performance.eventLoopUtilization(now, this.last).utilization;
    this.last = now;
    return utilization;
  }
}
