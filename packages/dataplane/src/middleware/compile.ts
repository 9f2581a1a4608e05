// Builds the middleware chains of a generation. Each definition a route names becomes one step
// (through the factory of its type), shared by every route that names it, so a JWKS is fetched and
// an auth agent pooled once per definition, not once per route. Each route's chain pairs those
// steps with its own compiled `paths`; a route in maintenance gets the one maintenance step; a
// route with no middleware gets no chain (null), so its requests pay nothing. A type without a
// factory cannot reach here (the config refuses it); if it did, the build fails rather than serve
// the route unprotected.
//
// basicAuth and jwtAuth load their modules only when a generation names them (loadStepFactories,
// before the build): @node-rs/bcrypt (a native addon) and jose were 5 MiB of each worker's RSS.

import type { MiddlewareConfig, MiddlewareConfigOf, RouteConfig } from '@gatehouse/config';
import { AccessPolicyStep } from './access-policy.ts';
import { AccessStep } from './access.ts';
// Registered from the start, whether basicAuth's verifier ever loads or not.
import './bcrypt-priority-gauge.ts';
import { type ChainEntry, MiddlewareChain } from './chain.ts';
import { ForwardAuthStep } from './forward-auth.ts';
import { MaintenanceStep } from './maintenance.ts';
import { PathMatcher } from './path-matcher.ts';
import { corsBlockStep, type MiddlewareServices, shapingStepFactories } from './shaping/shaping-steps.ts';
import type { MiddlewareStep } from './step.ts';
import { UserAgentBlockStep } from './user-agent-block.ts';

/** Makes the step of one definition (once per generation). */
export type StepFactory = (config: MiddlewareConfig, services: MiddlewareServices) => MiddlewareStep;

const factories = new Map<string, StepFactory>([
  ['access', (c) => new AccessStep(c as MiddlewareConfigOf<'access'>)],
  ['forwardAuth', (c) => new ForwardAuthStep(c as MiddlewareConfigOf<'forwardAuth'>)],
  ['accessPolicy', (c) => new AccessPolicyStep(c as MiddlewareConfigOf<'accessPolicy'>)],
  ['userAgentBlock', (c) => new UserAgentBlockStep(c as MiddlewareConfigOf<'userAgentBlock'>)],
  ...shapingStepFactories,
]);

/** The types whose factory is imported by loadStepFactories, once. */
const lazyFactories = new Map<string, () => Promise<StepFactory>>([
  [
    'basicAuth',
    async () => {
      const { BasicAuthStep } = await import('./basic-auth.ts');
      return (c) => new BasicAuthStep(c as MiddlewareConfigOf<'basicAuth'>);
    },
  ],
  [
    'jwtAuth',
    async () => {
      const { JwtAuthStep } = await import('./jwt-auth.ts');
      return (c) => new JwtAuthStep(c as MiddlewareConfigOf<'jwtAuth'>);
    },
  ],
]);

/** Loads the factories that `definitions` need and that are not loaded yet: before MiddlewareSteps. */
export async function loadStepFactories(definitions: readonly MiddlewareConfig[]): Promise<void> {
  for (const type of new Set(definitions.map((d) => d.type))) {
    const load = lazyFactories.get(type);
    if (load !== undefined && !factories.has(type)) factories.set(type, await load());
  }
}

export class MiddlewareBuildError extends Error {
  readonly code = 'GH_MIDDLEWARE_BUILD';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MiddlewareBuildError';
  }
}

/** The steps of one generation, built on first use; `close()` retires them with the generation. */
export class MiddlewareSteps {
  private readonly definitions: ReadonlyMap<string, MiddlewareConfig>;
  private readonly built = new Map<string, MiddlewareStep>();

  private readonly services: MiddlewareServices;

  constructor(definitions: readonly MiddlewareConfig[], services: MiddlewareServices) {
    this.definitions = new Map(definitions.map((m) => [m.name, m]));
    this.services = services;
  }

  /** The step of definition `name`. Throws MiddlewareBuildError. */
  step(name: string, route: string): MiddlewareStep {
    const existing = this.built.get(name);
    if (existing !== undefined) return existing;
    const config = this.definitions.get(name);
    if (config === undefined)
      throw new MiddlewareBuildError(`route "${route}" names middleware "${name}", which is not defined`);
    const factory = factories.get(config.type);
    if (factory === undefined && lazyFactories.has(config.type))
      throw new MiddlewareBuildError(`middleware "${name}": type ${config.type} was not loaded (loadStepFactories)`);
    if (factory === undefined)
      throw new MiddlewareBuildError(`middleware "${name}": type ${config.type} cannot run here`);
    let step: MiddlewareStep;
    try {
      step = factory(config, this.services);
    } catch (error) {
      throw new MiddlewareBuildError(`middleware "${name}": ${(error as Error).message}`, { cause: error });
    }
    this.built.set(name, step);
    return step;
  }

  /** The chain of `route`, or null when it has nothing to run. Throws MiddlewareBuildError. */
  chain(route: RouteConfig): MiddlewareChain | null {
    if (route.maintenance !== null) {
      return new MiddlewareChain([{ step: new MaintenanceStep(route.maintenance), paths: null }]);
    }
    if (route.middlewares.length === 0 && route.cors === null) return null;
    const entries: ChainEntry[] = route.middlewares.map((name) => {
      const step = forRoute(this.step(name, route.name), route);
      const config = this.definitions.get(name) as MiddlewareConfig;
      return { step, paths: config.paths.length === 0 ? null : new PathMatcher(config.paths, route.path) };
    });
    // The deprecated route (or gateway) `cors` block runs first, as Goma's CORS handler does.
    if (route.cors !== null) {
      entries.unshift({ step: forRoute(corsBlockStep(route.cors, this.services), route), paths: null });
    }
    return new MiddlewareChain(entries);
  }

  close(): void {
    for (const step of this.built.values()) step.close?.();
    this.built.clear();
  }
}

/** A shared step bound to one route, when it has per-route work to precompile. */
function forRoute(step: MiddlewareStep, route: RouteConfig): MiddlewareStep {
  return step.forRoute === undefined ? step : step.forRoute(route);
}
