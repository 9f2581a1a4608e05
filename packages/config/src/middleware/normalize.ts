// The middleware section: definitions (`middlewares[]`, also accepted under `gateway`), the names a
// route lists, and `gateway.defaults.middlewares`. Every name must resolve, every type must be one
// Gatehouse runs, every rule must validate: a route is never served without a middleware it names.
import type { Normalizer } from '../normalize.ts';
import type { RouteConfig } from '../types.ts';
import { type Plain, walk, YamlValue } from '../walk.ts';
import { parseMiddlewarePath } from './paths.ts';
import { MiddlewareCode, middlewareType, type RuleContext } from './registry.ts';
import type { MaintenanceConfig, MiddlewareConfig } from './types.ts';

const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const section = (value: unknown): Plain =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Plain) : {};

export function ruleContext(n: Normalizer, path: string, configDir: string): RuleContext {
  const diags = n.ctx.diags;
  return {
    path,
    configDir,
    at: (p) => n.at(p),
    present: (p) => n.present(p),
    error: (code, p, message, hint = null) => diags.error(code, n.at(p), `${p}: ${message}`, hint),
    warning: (code, p, message, hint = null) => diags.warning(code, n.at(p), `${p}: ${message}`, hint),
  };
}

function definition(n: Normalizer, raw: Plain, path: string): MiddlewareConfig | null {
  const diags = n.ctx.diags;
  const name = typeof raw.name === 'string' ? raw.name : null;
  const typeName = typeof raw.type === 'string' ? raw.type : null;
  if (name === null || typeName === null) return null; // required: already reported
  let ok = true;
  if (name.trim() === '' || /\s/.test(name)) {
    diags.error(MiddlewareCode.name, n.at(`${path}.name`), `${path}.name: "${name}" must be one word without spaces`);
    ok = false;
  }
  const lookup = middlewareType(typeName);
  if (!lookup.ok) {
    diags.error(MiddlewareCode.type, n.at(`${path}.type`), `${path}.type: ${lookup.message}`, lookup.hint);
    return null;
  }
  const type = lookup.type;
  const paths: string[] = [];
  list(raw.paths).forEach((entry, index) => {
    if (typeof entry !== 'string') return;
    const parsed = parseMiddlewarePath(entry);
    if ('error' in parsed) {
      diags.error(
        MiddlewareCode.path,
        n.at(`${path}.paths[${index}]`),
        `${path}.paths[${index}]: ${parsed.error}`,
        parsed.hint || null,
      );
      ok = false;
      return;
    }
    paths.push(entry.trim());
  });
  const rulePath = `${path}.rule`;
  const value = raw.rule instanceof YamlValue ? raw.rule : null;
  if (value === null && type.ruleRequired) {
    diags.error(
      MiddlewareCode.rule,
      n.at(path),
      `${path}: a \`${type.type}\` middleware needs a \`rule\``,
      `add \`rule:\` with ${Object.entries(type.rule.fields)
        .filter(([, f]) => f.required)
        .map(([k]) => `\`${k}\``)
        .join(', ')}`,
    );
    return null;
  }
  const errorsBefore = diags.errors.length;
  const walked =
    value === null
      ? walk(n.ctx, type.rule, null, rulePath, n.at(path))
      : walk(value.ctx, type.rule, value.node, rulePath, value.at);
  if (walked === undefined || diags.errors.length > errorsBefore) return null;
  const rule = type.normalize(walked as Plain, ruleContext(n, rulePath, (value?.ctx ?? n.ctx).configDir));
  if (rule === null || !ok) return null;
  return { name, type: type.type, paths, rule, at: n.at(path) } as MiddlewareConfig;
}

/** The definitions, from `middlewares` and `gateway.middlewares`; reports duplicates by name. */
export function normalizeMiddlewares(n: Normalizer, raw: Plain): { list: MiddlewareConfig[]; names: Set<string> } {
  const out: MiddlewareConfig[] = [];
  const names = new Set<string>();
  const firstAt = new Map<string, string>();
  const visit = (items: unknown, base: string) => {
    list(items).forEach((item, index) => {
      const path = `${base}[${index}]`;
      const rawItem = section(item);
      const name = typeof rawItem.name === 'string' ? rawItem.name : null;
      if (name !== null) {
        const earlier = firstAt.get(name);
        if (earlier !== undefined) {
          n.ctx.diags.error(
            MiddlewareCode.duplicate,
            n.at(`${path}.name`),
            `${path}.name: middleware "${name}" is already defined at ${earlier}`,
            'give every middleware a unique `name`',
          );
          return;
        }
        firstAt.set(name, path);
        // Known even when invalid, so that the routes naming it get no second, misleading error.
        names.add(name);
      }
      const config = definition(n, rawItem, path);
      if (config !== null) out.push(config);
    });
  };
  visit(section(raw.gateway).middlewares, 'gateway.middlewares');
  visit(raw.middlewares, 'middlewares');
  return { list: out, names };
}

/**
 * Each route's middleware names, with `gateway.defaults.middlewares` prepended except those the
 * route lists itself (which keep the route's position, so a route can reorder a default).
 */
export function resolveRouteMiddlewares(n: Normalizer, raw: Plain, routes: RouteConfig[], names: Set<string>): void {
  const diags = n.ctx.diags;
  const check = (entries: unknown, path: string): string[] => {
    const out: string[] = [];
    list(entries).forEach((entry, index) => {
      const name = String(entry);
      const at = n.at(`${path}[${index}]`);
      if (!names.has(name)) {
        diags.error(
          MiddlewareCode.unknown,
          at,
          `${path}[${index}]: no middleware is named "${name}"`,
          names.size > 0
            ? `defined middlewares: ${[...names].map((m) => `\`${m}\``).join(', ')}`
            : 'define it under the top-level `middlewares:` list',
        );
        return;
      }
      if (out.includes(name)) {
        diags.error(MiddlewareCode.duplicate, at, `${path}[${index}]: "${name}" is listed twice`, 'list it once');
        return;
      }
      out.push(name);
    });
    return out;
  };
  const defaults = check(section(section(section(raw.gateway).defaults)).middlewares, 'gateway.defaults.middlewares');
  for (const route of routes) {
    const own = check(route.middlewares, `${route.at.path}.middlewares`);
    route.middlewares = [...defaults.filter((d) => !own.includes(d)), ...own];
  }
}

/** A route's `maintenance`, or null when it is off. */
export function maintenanceOf(value: unknown): MaintenanceConfig | null {
  const raw = section(value);
  if (raw.enabled !== true) return null;
  return {
    statusCode: typeof raw.statusCode === 'number' ? raw.statusCode : 503,
    message: typeof raw.message === 'string' ? raw.message : 'Service temporarily unavailable',
  };
}
