// Middleware types by name, as Caddy registers modules: each type brings the spec of its `rule`
// and the function that turns the walked rule into its normalised form. A type that is not
// registered is a config error, never a warning: a route that names a middleware Gatehouse cannot
// run would otherwise be served without the protection it asks for.
import { closest } from '../suggest.ts';
import { authMiddlewareTypes } from './auth-rules.ts';
import { MiddlewareCode, type MiddlewareType, type RuleContext } from './definition.ts';
import { limitsMiddlewareTypes } from './limits-rules.ts';

/** Types Goma has and Gatehouse does not run; naming one is an error that says so. */
const UNIMPLEMENTED: Record<string, string> = {
  ldap: 'LDAP authentication is not implemented by Gatehouse; use `forwardAuth` to an LDAP-backed auth service',
  ldapAuth: 'LDAP authentication is not implemented by Gatehouse; use `forwardAuth` to an LDAP-backed auth service',
  oauth: 'OAuth login flows are not implemented by Gatehouse; use `forwardAuth` (e.g. oauth2-proxy) or `jwtAuth`',
  oauth2: 'OAuth login flows are not implemented by Gatehouse; use `forwardAuth` (e.g. oauth2-proxy) or `jwtAuth`',
  geoBlock: 'GeoIP blocking is not implemented by Gatehouse; use `accessPolicy` with address ranges',
  httpCache: 'response caching is not implemented by Gatehouse',
};

export { MiddlewareCode, type MiddlewareType, type RuleContext };

let byName: Map<string, MiddlewareType> | null = null;

/** Every registered name (types and aliases), built on first use. */
function registry(): Map<string, MiddlewareType> {
  if (byName === null) {
    byName = new Map();
    for (const definition of [...authMiddlewareTypes, ...limitsMiddlewareTypes]) {
      byName.set(definition.type, definition);
      for (const alias of definition.aliases) byName.set(alias, definition);
    }
  }
  return byName;
}

export type TypeLookup = { ok: true; type: MiddlewareType } | { ok: false; message: string; hint: string | null };

/** The registered type for a name written in `type:`, or why there is none. */
export function middlewareType(name: string): TypeLookup {
  const registered = registry();
  const found = registered.get(name);
  if (found) return { ok: true, type: found };
  const reason = UNIMPLEMENTED[name];
  if (reason) return { ok: false, message: `middleware type \`${name}\` is not supported`, hint: reason };
  const near = closest(name, [...registered.keys()]);
  return {
    ok: false,
    message: `unknown middleware type \`${name}\``,
    hint: near
      ? `did you mean \`${near}\`?`
      : `Gatehouse runs ${[...new Set([...registered.values()].map((t) => `\`${t.type}\``))].join(', ')}; Go plugins are not supported`,
  };
}

/** Every registered type once, in registration order (for the reference). */
export function middlewareTypes(): MiddlewareType[] {
  return [...new Set(registry().values())];
}
