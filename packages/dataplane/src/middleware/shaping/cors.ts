// CORS decisions, compiled once per rule: which origins, and the constant header values. Per
// request only the Origin is compared (a Set lookup, then suffix checks for `*.domain` entries), and
// the answer's head is edited in place with char-code comparisons: no copies of names or values.
//
// With `allowCredentials`, the allowed origin is echoed and never sent as a literal `*` (browsers
// refuse credentials with `*`, and echoing `*` for everyone would hand any site the user's session).
// Every answer carries `Vary: Origin`, so that a cache never serves one origin's answer to another.
import type { CorsRule } from '@gatehouse/config';
import { equalsLower, trimmedRangeEqualsLower } from '../../edge/field-syntax.ts';

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
  readonly maxAge: string | null;
  readonly extra: ReadonlyArray<readonly [string, string]>;
  /** [name, value, ...] of a granted answer after Access-Control-Allow-Origin. */
  readonly grant: readonly string[];
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
  const exposeHeaders = rule.exposeHeaders.length > 0 ? rule.exposeHeaders.join(', ') : null;
  const grant: string[] = [];
  if (rule.allowCredentials) grant.push('Access-Control-Allow-Credentials', 'true');
  if (exposeHeaders !== null) grant.push('Access-Control-Expose-Headers', exposeHeaders);
  for (const [name, value] of rule.headers) grant.push(name, value);
  return {
    anyOrigin,
    exact,
    suffixes,
    credentials: rule.allowCredentials,
    allowMethods: rule.allowMethods.length > 0 ? rule.allowMethods.join(', ') : null,
    allowHeaders: rule.allowedHeaders.length > 0 ? rule.allowedHeaders.join(', ') : null,
    maxAge: rule.maxAge === null ? null : String(rule.maxAge),
    extra: rule.headers,
    grant,
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
  // The host is what follows `://`, without a port (a colon after any `]` of an IPv6 literal).
  const hostStart = schemeEnd + 3;
  let hostEnd = lower.length;
  const colon = lower.lastIndexOf(':');
  if (colon >= hostStart) {
    const bracket = lower.indexOf(']', hostStart);
    if (bracket < colon) hostEnd = colon;
  }
  for (const [wantScheme, suffix] of c.suffixes) {
    if (wantScheme !== '' && (wantScheme.length !== schemeEnd || !lower.startsWith(wantScheme))) continue;
    // At least one label before the suffix: `*.example.com` does not match `example.com`.
    if (hostEnd - hostStart > suffix.length && lower.endsWith(suffix, hostEnd)) return true;
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
  // One pass: drop Access-Control-*, and find the first Vary on the way.
  let vary = -1;
  let w = 0;
  for (let r = 0; r + 1 < out.length; r += 2) {
    const name = out[r] as string;
    if (isAccessControl(name)) continue;
    if (vary === -1 && name.length === 4 && equalsLower(name, 'vary')) vary = w;
    out[w++] = name;
    out[w++] = out[r + 1] as string;
  }
  out.length = w;
  addVaryToken(out, vary, 'Origin', 'origin');
  if (origin === undefined || !originAllowed(c, origin)) return;
  out.push('Access-Control-Allow-Origin', allowOrigin(c, origin));
  const grant = c.grant;
  for (let i = 0; i < grant.length; i++) out.push(grant[i] as string);
}

const ACCESS_CONTROL = 'access-control-';

function isAccessControl(name: string): boolean {
  if (name.length <= ACCESS_CONTROL.length) return false;
  for (let i = 0; i < ACCESS_CONTROL.length; i++) {
    let c = name.charCodeAt(i);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== ACCESS_CONTROL.charCodeAt(i)) return false;
  }
  return true;
}

/** `token` (`lower` in lower case) added to the Vary field at `at` (-1: none, a field is appended). */
function addVaryToken(list: string[], at: number, token: string, lower: string): void {
  if (at === -1) {
    list.push('Vary', token);
    return;
  }
  const value = list[at + 1] as string;
  if (listHas(value, '*') || listHas(value, lower)) return;
  list[at + 1] = isBlank(value) ? token : `${value}, ${token}`;
}

/**
 * Is `lower` one of the comma-separated members of `value` (without SP/HTAB around it, ASCII
 * case-insensitively)? A `*` is only a member when it is the whole value.
 */
function listHas(value: string, lower: string): boolean {
  let start = 0;
  while (start <= value.length) {
    let end = value.indexOf(',', start);
    if (end === -1) end = value.length;
    else if (lower === '*') return false;
    if (trimmedRangeEqualsLower(value, start, end, lower)) return true;
    start = end + 1;
  }
  return false;
}

function isBlank(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c !== 32 && c !== 9) return false;
  }
  return true;
}
