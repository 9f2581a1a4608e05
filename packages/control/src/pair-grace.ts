// A certificate and its key are two files, and every rotation tool writes them one after the other
// (certbot renames, scripts copy, `kubectl cp` streams). Between the two writes the pair does not
// match, and a tool that rewrites in place (`cp`, `>`) leaves a file empty or cut short between its
// truncate and its write. That gap is normal, not an operator mistake: it is logged at info and
// waited for. Only a
// pair that still does not match once the grace period is over is a rejected reload (error log and
// failed-reload metric). The running generation serves on throughout, as for any rejection.
//
// Pure: the primary feeds it the errors of each file-triggered reload and the time.
import type { ConfigDiagnostic } from '@gatehouse/config';
import { MaterialCode } from '@gatehouse/pki';

/**
 * pki's codes for a rotation caught half-way: a mismatched pair, a file between truncate and write
 * (empty), or one whose last PEM block has no END line yet (truncated).
 */
export const ROTATION_IN_FLIGHT_CODES: ReadonlySet<string> = new Set([
  MaterialCode.keyMismatch,
  MaterialCode.empty,
  MaterialCode.truncated,
]);

export type PairGraceVerdict =
  /** Only a rotation caught half-way, and the grace period is not over: wait for the rest of it. */
  | { kind: 'wait'; remainingMs: number; first: boolean }
  /** Anything else, or the grace period is over: a rejection like any other. */
  | { kind: 'reject' };

export class PairGrace {
  #since: number | null = null;

  /** The start of the current wait, or null. */
  get waitingSince(): number | null {
    return this.#since;
  }

  /**
   * What to do with a file-triggered reload that failed with `errors`. Any other error ends the
   * wait at once: a broken file is not a half-finished rotation.
   */
  decide(errors: readonly ConfigDiagnostic[], graceMs: number, now: number): PairGraceVerdict {
    const inFlight = errors.length > 0 && errors.every((e) => ROTATION_IN_FLIGHT_CODES.has(e.code));
    if (!inFlight || graceMs <= 0) {
      this.#since = null;
      return { kind: 'reject' };
    }
    const first = this.#since === null;
    const since = this.#since ?? now;
    if (now - since >= graceMs) {
      this.#since = null;
      return { kind: 'reject' };
    }
    this.#since = since;
    return { kind: 'wait', remainingMs: graceMs - (now - since), first };
  }

  /** A reload succeeded (or was asked for by hand): the next mismatch starts a new wait. */
  reset(): void {
    this.#since = null;
  }
}
