// A route's middleware chain: its prebuilt steps, run in order for every request of the route, as
// fastify runs a route's hooks. Synchronous steps run in one loop with no allocation; a step that
// returns a Promise suspends the chain, which resumes at the next step when it settles. The
// outcome (pass, answer, or a step that threw) goes to the caller's ChainOutcome, so the chain
// knows nothing of how a request is forwarded or answered.
import type { PathMatcher } from './path-matcher.ts';
import type { MiddlewareAnswer, MiddlewareRequest, MiddlewareStep, StepResult } from './step.ts';

/** One step of one route: the shared step, and where on this route it applies (null: everywhere). */
export interface ChainEntry {
  readonly step: MiddlewareStep;
  readonly paths: PathMatcher | null;
}

export interface ChainOutcome<R extends MiddlewareRequest> {
  /** Every step passed: go on to the backend. */
  proceed(r: R): void;
  /** `step` answered: write `answer` (and count it). */
  refuse(r: R, step: MiddlewareStep, answer: MiddlewareAnswer): void;
  /** `step` threw or its Promise rejected: the request is refused (500), never forwarded. */
  fail(r: R, step: MiddlewareStep, error: unknown): void;
}

export class MiddlewareChain {
  readonly entries: readonly ChainEntry[];

  constructor(entries: readonly ChainEntry[]) {
    this.entries = entries;
  }

  /** Runs the chain for `r`; exactly one of `outcome`'s methods is called, now or later. */
  run<R extends MiddlewareRequest>(r: R, outcome: ChainOutcome<R>): void {
    runFrom(this.entries, 0, r, outcome);
  }
}

function runFrom<R extends MiddlewareRequest>(
  steps: readonly ChainEntry[],
  start: number,
  r: R,
  outcome: ChainOutcome<R>,
): void {
  for (let i = start; i < steps.length; i++) {
    const entry = steps[i] as ChainEntry;
    if (entry.paths !== null && !entry.paths.matches(r.requestPath)) continue;
    const step = entry.step;
    let result: StepResult | Promise<StepResult>;
    try {
      result = step.onRequest(r);
    } catch (error) {
      outcome.fail(r, step, error);
      return;
    }
    if (result === null) continue;
    if (typeof (result as Promise<StepResult>).then === 'function') {
      const next = i + 1;
      (result as Promise<StepResult>).then(
        (settled) => {
          if (r.closed) return;
          if (settled === null) runFrom(steps, next, r, outcome);
          else refuseWith(r, step, settled, outcome);
        },
        (error: unknown) => {
          if (!r.closed) outcome.fail(r, step, error);
        },
      );
      return;
    }
    refuseWith(r, step, result as MiddlewareAnswer, outcome);
    return;
  }
  outcome.proceed(r);
}

function refuseWith<R extends MiddlewareRequest>(
  r: R,
  step: MiddlewareStep,
  answer: MiddlewareAnswer,
  outcome: ChainOutcome<R>,
): void {
  r.deniedBy = step.name;
  outcome.refuse(r, step, answer);
}
