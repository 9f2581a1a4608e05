// What a reload does with the candidate it built, before anything running is touched: keep the
// current generation (unchanged), wait for the other half of a certificate/key pair, reject, or
// roll the new generation out. Pure apart from the pair-grace clock it is given.
import type { PairGrace } from './pair-grace.ts';
import type { ReloadTrigger } from './gateway-api.ts';
import type { BuildResult } from './snapshot.ts';

export type ReloadStep =
  | { kind: 'unchanged' }
  | { kind: 'wait'; remainingMs: number; first: boolean }
  | { kind: 'reject' }
  | { kind: 'roll-out' };

/**
 * Only a file change waits for a pair's other half: a signal, the admin API or ACME asked for this
 * state of the files, and a good or unchanged build ends any wait.
 */
export function decideReload(
  build: BuildResult,
  trigger: ReloadTrigger,
  grace: PairGrace,
  graceMs: number,
  now: number,
): ReloadStep {
  if (build.kind === 'rejected') {
    if (trigger !== 'file') {
      grace.reset();
      return { kind: 'reject' };
    }
    return grace.decide(build.errors, graceMs, now);
  }
  grace.reset();
  return build.kind === 'unchanged' ? { kind: 'unchanged' } : { kind: 'roll-out' };
}
