// Whether the instance is ready for traffic (/readyz): running, every worker slot serving, all on
// the current generation and listening. Pure: the primary gives it its state and its workers.
import type { Readiness } from './gateway-api.ts';

export interface ServingWorker {
  id: number;
  generation: number;
  /** What it reported once its listeners were bound; null: not bound yet. */
  listening: object | null;
}

export function readinessOf(
  state: string,
  serving: readonly ServingWorker[],
  size: number,
  generation: number,
): Readiness {
  if (state !== 'running') return { ready: false, reason: state };
  if (serving.length < size) return { ready: false, reason: `${serving.length} of ${size} workers serving` };
  const behind = serving.filter((w) => w.generation !== generation);
  if (behind.length > 0) {
    return { ready: false, reason: `worker ${ids(behind)} not on generation ${generation}` };
  }
  const unbound = serving.filter((w) => w.listening === null);
  if (unbound.length > 0) return { ready: false, reason: `worker ${ids(unbound)} not listening` };
  return { ready: true, reason: `generation ${generation} on ${serving.length} workers` };
}

function ids(workers: readonly ServingWorker[]): string {
  return workers.map((w) => w.id).join(', ');
}
