// Goma's canary backends: a backend with `match` conditions takes only requests for which every
// condition holds. An `exclusive` canary that matches takes the request alone (the highest
// `priority` among several, the first listed on a tie); otherwise the pool is the backends without
// conditions plus the matching non-exclusive canaries, balanced by weight (smooth WRR). Conditions
// are compiled once per generation (regexes included); per request each canary's conditions are
// read from the request, and the pool's balancer is found by the set of matches (built on first use
// per generation, so its round-robin state carries from one request to the next).
import type { BackendHealth } from '../messages.ts';
import type { CanaryCondition } from '@gatehouse/config';
import { Balancer, isAvailable } from './balancer.ts';

/** What a condition can be tested against; read lazily, so a route pays only for what it tests. */
export interface CanaryRequest {
  header(name: string): string;
  query(name: string): string;
  cookie(name: string): string;
  clientAddress(): string;
}

type Test = (value: string) => boolean;

function compileTest(condition: CanaryCondition): Test {
  const expected = condition.value;
  switch (condition.operator) {
    case 'equals':
      return (v) => v === expected;
    case 'not_equals':
      return (v) => v !== expected;
    case 'contains':
      return (v) => v.includes(expected);
    case 'not_contains':
      return (v) => !v.includes(expected);
    case 'starts_with':
      return (v) => v.startsWith(expected);
    case 'ends_with':
      return (v) => v.endsWith(expected);
    case 'regex': {
      const pattern = new RegExp(expected);
      return (v) => pattern.test(v);
    }
    case 'in': {
      const values = new Set(expected.split(',').map((s) => s.trim()));
      return (v) => values.has(v);
    }
  }
}

interface CompiledCondition {
  source: CanaryCondition['source'];
  name: string;
  test: Test;
}

function holds(condition: CompiledCondition, request: CanaryRequest): boolean {
  switch (condition.source) {
    case 'header':
      return condition.test(request.header(condition.name));
    case 'query':
      return condition.test(request.query(condition.name));
    case 'cookie':
      return condition.test(request.cookie(condition.name));
    case 'ip':
      return condition.test(request.clientAddress());
  }
}

export interface CanaryEntry<T> {
  value: T;
  weight: number;
  health: BackendHealth;
  match: readonly CanaryCondition[];
  exclusive: boolean;
  priority: number;
}

interface Canary<T> {
  entry: CanaryEntry<T>;
  conditions: CompiledCondition[];
  /** Bit of this canary in a pool key (non-exclusive canaries only). */
  bit: number;
  /** An exclusive canary's own pool, so that a retry never leaves it for a backend it did not match. */
  alone: Balancer<T> | null;
}

export class CanarySelector<T> {
  private readonly stable: ReadonlyArray<CanaryEntry<T>>;
  /** Highest priority first, then config order. */
  private readonly exclusive: ReadonlyArray<Canary<T>>;
  private readonly pooled: ReadonlyArray<Canary<T>>;
  private readonly pools = new Map<number, Balancer<T>>();
  private readonly panic: boolean;

  constructor(entries: ReadonlyArray<CanaryEntry<T>>, panic = false) {
    this.panic = panic;
    this.stable = entries.filter((e) => e.match.length === 0);
    const canaries = entries.map((entry, index) => ({ entry, index })).filter(({ entry }) => entry.match.length > 0);
    const compile = (entry: CanaryEntry<T>) =>
      entry.match.map((c) => ({ source: c.source, name: c.name, test: compileTest(c) }));
    this.exclusive = canaries
      .filter(({ entry }) => entry.exclusive)
      .sort((a, b) => b.entry.priority - a.entry.priority || a.index - b.index)
      .map(({ entry }) => ({
        entry,
        conditions: compile(entry),
        bit: 0,
        alone: new Balancer([entry], panic),
      }));
    const pooled = canaries.filter(({ entry }) => !entry.exclusive);
    // A pool is keyed by a bit per canary; a route with more is refused rather than half-served.
    if (pooled.length > 30) throw new Error(`more than 30 non-exclusive canary backends on one route`);
    this.pooled = pooled.map(({ entry }, i) => ({ entry, conditions: compile(entry), bit: 1 << i, alone: null }));
  }

  /** true when the route has canaries at all (else the plain balancer serves it). */
  static needed(entries: ReadonlyArray<{ match: readonly CanaryCondition[] }>): boolean {
    return entries.some((e) => e.match.length > 0);
  }

  /** The balancer whose backends may take this request; its pick() honours health as any other. */
  poolFor(request: CanaryRequest, now: number): Balancer<T> {
    for (const canary of this.exclusive) {
      if (!isAvailable(canary.entry.health, now)) continue;
      if (canary.conditions.every((c) => holds(c, request))) return canary.alone as Balancer<T>;
    }
    let key = 0;
    for (const canary of this.pooled) {
      if (canary.conditions.every((c) => holds(c, request))) key |= canary.bit;
    }
    let pool = this.pools.get(key);
    if (pool === undefined) {
      const members = [...this.stable, ...this.pooled.filter((c) => (key & c.bit) !== 0).map((c) => c.entry)];
      pool = new Balancer(members, this.panic);
      this.pools.set(key, pool);
    }
    return pool;
  }
}
