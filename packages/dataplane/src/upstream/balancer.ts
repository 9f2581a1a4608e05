// Smooth weighted round-robin, exactly as nginx does it (ngx_http_upstream_get_peer): every pick
// adds each peer's weight to its `current`, takes the peer with the largest `current`, and
// subtracts the total from the winner. Weights 80/20 give a a b a a ..., spread evenly rather than
// in bursts. One balancer per route and per worker; health is read from shared state objects that
// outlive generations, so a health message needs no rebuild.
import type { BackendHealth } from '../messages.ts';

export interface BalancedBackend<T> {
  readonly value: T;
  readonly weight: number;
  /** Shared, mutated in place by health messages. */
  readonly health: BackendHealth;
  current: number;
}

export function isAvailable(health: BackendHealth, now: number): boolean {
  return health.up && (health.ejectedUntil === 0 || health.ejectedUntil <= now);
}

export class Balancer<T> {
  readonly backends: ReadonlyArray<BalancedBackend<T>>;
  /** All-down behaviour: pick among every backend instead of none. */
  readonly panic: boolean;

  /**
   * `weights`: as configured. When every weight is 0, each backend counts as 1 (plain round-robin).
   * A backend of weight 0 beside positive weights is only used when no weighted backend is left.
   */
  constructor(entries: ReadonlyArray<{ value: T; weight: number; health: BackendHealth }>, panic = false) {
    const allZero = entries.every((e) => !(e.weight > 0));
    this.backends = entries.map((e) => ({
      value: e.value,
      weight: allZero ? 1 : Math.max(0, e.weight || 0),
      health: e.health,
      current: 0,
    }));
    this.panic = panic;
  }

  /**
   * The next backend, skipping those that are down or ejected and `excluding` (a retry's failed
   * backend). null when none is available (the caller answers 503), unless `panic` is set.
   */
  pick(now: number, excluding: T | null = null): T | null {
    const chosen = this.select(now, excluding, true);
    if (chosen !== null || !this.panic) return chosen;
    return this.select(now, excluding, false);
  }

  private select(now: number, excluding: T | null, healthOnly: boolean): T | null {
    const backends = this.backends;
    let best: BalancedBackend<T> | null = null;
    let total = 0;
    for (let i = 0; i < backends.length; i++) {
      const b = backends[i]!;
      if (b.value === excluding) continue;
      if (healthOnly && !isAvailable(b.health, now)) continue;
      b.current += b.weight;
      total += b.weight;
      if (best === null || b.current > best.current) best = b;
    }
    if (best === null) return null;
    best.current -= total;
    return best.value;
  }
}
