// Bounded steady load for the e2e tests: `concurrency` loops, each sending one request after another
// until stop(), `maxRequests` in all or `maxMs`, whichever comes first. The test that starts a load
// hands in its context: the loops then stop when it ends even if it fails half-way, so a failed
// assertion never leaves requests running into the next test or keeps `node --test` waiting.
import { Agent } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

export interface LoadResult {
  /** Requests answered as expected. */
  ok: number;
  failed: number;
  /** Why, for the first failures (at most MAX_ERRORS). */
  errors: string[];
}

export interface Load {
  readonly result: LoadResult;
  /** Resolves once `n` more requests were answered as expected, or `timeoutMs` passed. */
  answered(n: number, timeoutMs?: number): Promise<void>;
  /** Stops the loops, waits for the requests in flight and closes the keep-alive connections. */
  stop(): Promise<LoadResult>;
}

export interface LoadOptions {
  concurrency: number;
  maxRequests: number;
  maxMs: number;
  /** Pause between two requests of a loop (ms), to leave the shared cores to the gateway. Default 0. */
  pauseMs?: number;
  /**
   * One request of loop `loop`; `agent` keeps `concurrency` connections alive, for a loop that wants
   * them. Resolves with null when the answer is the expected one, else with why not; a rejection is
   * a failure too.
   */
  request(loop: number, agent: Agent): Promise<string | null>;
}

const MAX_ERRORS = 100;

export function startLoad(owner: { after(fn: () => unknown): void }, options: LoadOptions): Load {
  const result: LoadResult = { ok: 0, failed: 0, errors: [] };
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const deadline = Date.now() + options.maxMs;
  let sent = 0;
  let stopped = false;
  const fail = (why: string) => {
    result.failed++;
    if (result.errors.length < MAX_ERRORS) result.errors.push(why);
  };
  const loop = async (i: number) => {
    while (!stopped && sent < options.maxRequests && Date.now() < deadline) {
      sent++;
      try {
        const why = await options.request(i, agent);
        if (why === null) result.ok++;
        else fail(why);
      } catch (error) {
        fail((error as Error).message);
      }
      if (options.pauseMs) await sleep(options.pauseMs);
    }
  };
  const loops = Array.from({ length: options.concurrency }, (_, i) => loop(i));
  const stop = async () => {
    stopped = true;
    await Promise.all(loops);
    agent.destroy();
    return result;
  };
  owner.after(stop);
  return {
    result,
    async answered(n, timeoutMs = 20_000) {
      const target = result.ok + n;
      const until = Date.now() + timeoutMs;
      while (result.ok < target && Date.now() < until && !stopped) await sleep(10);
    },
    stop,
  };
}
