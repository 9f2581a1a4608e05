// Goma's deprecated `cors` blocks (gateway and route) after the routes are built: which block, if
// any, a route runs. A route's own block replaces the gateway's; `cors: {}` takes the gateway's;
// `cors: {enabled: false}` has none (Goma: an off block is never merged). A route whose middlewares
// include a responseHeaders rule with `cors` runs no block at all: one policy decides every
// preflight and every response of the route, the current form over the deprecated one.
import type { MiddlewareConfig, RouteConfig } from './types.ts';

export interface CorsBlockContext {
  warning(path: string, message: string, hint: string): void;
}

/** `written[i]`: the `cors` value route i has in the file (undefined: none). */
export function applyCorsBlocks(
  ctx: CorsBlockContext,
  written: readonly unknown[],
  routes: RouteConfig[],
  gatewayCors: RouteConfig['cors'],
  middlewares: readonly MiddlewareConfig[],
): void {
  const corsMiddlewares = new Set(
    middlewares.filter((m) => m.type === 'responseHeaders' && m.rule.cors !== null).map((m) => m.name),
  );
  routes.forEach((route, i) => {
    const own = written[i];
    const off = typeof own === 'object' && own !== null && (own as { enabled?: unknown }).enabled === false;
    if (route.cors === null && !off) route.cors = gatewayCors;
    if (route.cors === null) return;
    const decider = route.middlewares.find((name) => corsMiddlewares.has(name));
    if (decider === undefined) return;
    route.cors = null;
    if (own !== undefined && !off) {
      ctx.warning(
        `${route.at.path}.cors`,
        `not applied: middleware "${decider}" (responseHeaders with \`cors\`) decides CORS for this route`,
        'drop the deprecated block, or the `cors` of the middleware',
      );
    }
  });
}
