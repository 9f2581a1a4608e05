// CORS decisions, compiled once per rule: which origins, and the constant header values. Per
// request only the Origin is compared (a Set lookup, then suffix checks for `*.domain` entries).
//
// With `allowCredentials`, the allowed origin is echoed and never sent as a literal `*` (browsers
// refuse credentials with `*`, and echoing `*` for everyone would hand any site the user's session).
// Every answer carries `Vary: Origin`, so that a cache never serves one origin's answer to another.
import type { CorsRule } from '@gatehouse/config';

export interface CompiledCors {
  readonly anyOrigin: boolean;
  readonly exact: ReadonlySet<string>;
  /** `*.example.com` entries: [scheme or '' (any), '.example.com']. */
  readonly suffixes: ReadonlyArray<readonly [string, string]>;
  readonly credentials: boolean;
  /** null: echo Access-Control-Request-Method (a deprecated block without `allowMethods`). */
  readonly allowMethods: string | null;
  /** null: echo Access-Control-Request-Headers. */
  readonly allowHeaders: string | null;
  readonly exposeHeaders: string | null;
  readonly maxAge: string | null;
  readonly extra: ReadonlyArray<readonly [string, string]>;
}

export function compileCors(rule: CorsRule): CompiledCors {
  const exact = new Set<string>();
  const suffixes: Array<[string, string]> = [];
  let anyOrigin = rule.origins.length === 0;
  for (const raw of rule.origins) {
    const origin = raw.toLowerCase().replace(/\/+$/, '');
    if (origin === '*') anyOrigin = true;
    else if (origin.startsWith('*.')) suffixes.push(['', origin.slice(1)]);
    else if (origin.includes('://*.')) {
      const at = origin.indexOf('://*.');
      suffixes.push([origin.slice(0, at), origin.slice(at + 4)]);
    } else exact.add(origin);
  }
  return {
    anyOrigin,
    exact,
    suffixes,
    credentials: rule.allowCredentials,
    allowMethods: rule.allowMethods.length > 0 ? rule.allowMethods.join(', ') : null,
    allowHeaders: rule.allowedHeaders.length > 0 ? rule.allowedHeaders.join(', ') : null,
    exposeHeaders: rule.exposeHeaders.length > 0 ? rule.exposeHeaders.join(', ') : null,
    maxAge: rule.maxAge === null ? null : String(rule.maxAge),
    extra: rule.headers,
  };
}

/** Is this Origin allowed? `null` Origins (sandboxed frames, file:) only match `*`. */
export function originAllowed(c: CompiledCors, origin: string): boolean {
  if (c.anyOrigin) return true;
  const lower = origin.toLowerCase();
  if (c.exact.has(lower)) return true;
  if (c.suffixes.length === 0) return false;
  const schemeEnd = lower.indexOf('://');
  if (schemeEnd <= 0) return false;
  const scheme = lower.slice(0, schemeEnd);
  let host = lower.slice(schemeEnd + 3);
  const colon = host.lastIndexOf(':');
  if (colon !== -1 && host.indexOf(']') < colon) host = host.slice(0, colon);
  for (const [wantScheme, suffix] of c.suffixes) {
    if (wantScheme !== '' && wantScheme !== scheme) continue;
    // At least one label before the suffix: `*.example.com` does not match `example.com`.
    if (host.length > suffix.length && host.endsWith(suffix)) return true;
  }
  return false;
}

/** The value of Access-Control-Allow-Origin for an allowed origin. */
function allowOrigin(c: CompiledCors, origin: string): string {
  return c.anyOrigin && !c.credentials ? '*' : origin;
}

/** A CORS preflight: OPTIONS with Origin and Access-Control-Request-Method. */
export function isPreflight(method: string, origin: string | undefined, requestMethod: unknown): boolean {
  return method === 'OPTIONS' && origin !== undefined && typeof requestMethod === 'string';
}

/**
 * The headers of the 204 answer to a preflight (Gatehouse answers it; the backend never sees it), or
 * null when the origin is not allowed (the answer is then refused).
 */
export function preflightHeaders(
  c: CompiledCors,
  origin: string,
  requestMethod: string,
  requestHeaders: string | undefined,
): Record<string, string> | null {
  if (!originAllowed(c, origin)) return null;
  const h: Record<string, string> = {
    'access-control-allow-origin': allowOrigin(c, origin),
    'access-control-allow-methods': c.allowMethods ?? requestMethod,
    vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
  };
  const allowHeaders = c.allowHeaders ?? requestHeaders;
  if (allowHeaders !== undefined && allowHeaders !== '') h['access-control-allow-headers'] = allowHeaders;
  if (c.credentials) h['access-control-allow-credentials'] = 'true';
  if (c.maxAge !== null) h['access-control-max-age'] = c.maxAge;
  for (const [name, value] of c.extra) h[name] = value;
  return h;
}

/**
 * The CORS fields of an actual response, appended to a flat [name, value, ...] list. Any
 * Access-Control-* fields the backend sent are replaced: the gateway's policy decides.
 */
export function addCorsResponseHeaders(c: CompiledCors, origin: string | undefined, out: string[]): void {
  removeFields(out, isAccessControl);
  appendVary(out, 'Origin');
  if (origin === undefined || !originAllowed(c, origin)) return;
  out.push('Access-Control-Allow-Origin', allowOrigin(c, origin));
  if (c.credentials) out.push('Access-Control-Allow-Credentials', 'true');
  if (c.exposeHeaders !== null) out.push('Access-Control-Expose-Headers', c.exposeHeaders);
  for (const [name, value] of c.extra) out.push(name, value);
}

function isAccessControl(name: string): boolean {
  return name.length > 15 && name.slice(0, 15).toLowerCase() === 'access-control-';
}

/** Removes the fields whose lower-cased name is in `names` from a flat list, in place (no closure per call). */
export function removeNamed(list: string[], names: ReadonlySet<string>): void {
  let w = 0;
  for (let r = 0; r + 1 < list.length; r += 2) {
    const name = list[r] as string;
    if (names.has(name.toLowerCase())) continue;
    list[w++] = name;
    list[w++] = list[r + 1] as string;
  }
  list.length = w;
}

/** Removes the fields whose name matches from a flat list, in place. */
export function removeFields(list: string[], match: (name: string) => boolean): void {
  let w = 0;
  for (let r = 0; r + 1 < list.length; r += 2) {
    const name = list[r] as string;
    if (match(name)) continue;
    list[w++] = name;
    list[w++] = list[r + 1] as string;
  }
  list.length = w;
}

/** Adds `token` to the Vary field of a flat list unless it is there (or Vary is `*`). */
export function appendVary(list: string[], token: string): void {
  for (let i = 0; i + 1 < list.length; i += 2) {
    if ((list[i] as string).toLowerCase() !== 'vary') continue;
    const value = list[i + 1] as string;
    const lower = value.toLowerCase();
    if (lower.trim() === '*') return;
    if (lower.split(',').some((t) => t.trim() === token.toLowerCase())) return;
    list[i + 1] = value.trim() === '' ? token : `${value}, ${token}`;
    return;
  }
  list.push('Vary', token);
}
