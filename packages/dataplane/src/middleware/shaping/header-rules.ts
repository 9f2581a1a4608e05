// requestHeaders and responseHeaders, compiled once per route: names lower-cased, templates filled
// in, Set-Cookie lines built, so that a request only deletes and assigns.
//
// Goma applies responseHeaders.setHeaders to 200 responses only; Gatehouse applies them to every
// response (a security header matters most on the error pages), unless the rule's `statuses` says
// otherwise.
import type { IncomingHttpHeaders } from 'node:http';
import type { CookieSpec, RequestHeadersRule, ResponseHeadersRule } from '@gatehouse/config';
import { addCorsResponseHeaders, type CompiledCors, compileCors, removeNamed } from './cors.ts';

export interface CompiledRequestHeaders {
  readonly remove: readonly string[];
  readonly set: ReadonlyArray<readonly [string, string]>;
}

export function compileRequestHeaders(rule: RequestHeadersRule): CompiledRequestHeaders {
  return { remove: rule.remove, set: rule.set };
}

/** Goma's order: removeHeaders first, then setHeaders (an empty value deletes). */
export function applyRequestHeaders(c: CompiledRequestHeaders, headers: IncomingHttpHeaders): void {
  for (const name of c.remove) delete headers[name];
  for (const [name, value] of c.set) {
    if (value === '') delete headers[name];
    else headers[name] = value;
  }
}

export interface TemplateValues {
  routeName: string;
  routePath: string;
  gatewayVersion: string;
}

/** `{route.name}`, `{route.path}` and `{gateway.version}`; anything else in braces is left as written. */
export function fillTemplate(value: string, t: TemplateValues): string {
  if (value.indexOf('{') === -1) return value;
  return value
    .replaceAll('{route.name}', t.routeName)
    .replaceAll('{route.path}', t.routePath)
    .replaceAll('{gateway.version}', t.gatewayVersion);
}

export function setCookieLine(c: CookieSpec): string {
  let line = `${c.name}=${c.value}`;
  if (c.path !== null) line += `; Path=${c.path}`;
  if (c.domain !== null) line += `; Domain=${c.domain}`;
  if (c.maxAge !== null) line += `; Max-Age=${Math.max(c.maxAge, 0)}`;
  if (c.secure || c.sameSite === 'None') line += '; Secure';
  if (c.httpOnly) line += '; HttpOnly';
  if (c.sameSite !== null) line += `; SameSite=${c.sameSite}`;
  return line;
}

export interface CompiledResponseHeaders {
  /** Lower-cased names removed from the backend's answer (set or deleted by the rule). */
  readonly remove: ReadonlySet<string>;
  /** [name as written, value] appended after the removal. */
  readonly add: ReadonlyArray<readonly [string, string]>;
  readonly cookies: readonly string[];
  readonly cors: CompiledCors | null;
  readonly statuses: ReadonlyArray<readonly [number, number]>;
}

export function compileResponseHeaders(rule: ResponseHeadersRule, t: TemplateValues): CompiledResponseHeaders {
  const remove = new Set<string>();
  const add: Array<[string, string]> = [];
  for (const [name, value] of rule.set) {
    remove.add(name);
    if (value !== '') add.push([name, fillTemplate(value, t)]);
  }
  if (rule.cacheControl !== null) {
    remove.add('cache-control');
    add.push(['cache-control', rule.cacheControl]);
  }
  return {
    remove,
    add,
    cookies: rule.setCookies.map(setCookieLine),
    cors: rule.cors === null ? null : compileCors(rule.cors),
    statuses: rule.statuses,
  };
}

export function appliesToStatus(c: CompiledResponseHeaders, status: number): boolean {
  if (c.statuses.length === 0) return true;
  for (const [low, high] of c.statuses) if (status >= low && status <= high) return true;
  return false;
}

/**
 * Edits a flat [name, value, ...] response head in place: the rule's names replaced, cookies added,
 * CORS fields for the request's Origin.
 */
export function applyResponseHeaders(
  c: CompiledResponseHeaders,
  status: number,
  origin: string | undefined,
  list: string[],
): void {
  if (c.cors !== null) addCorsResponseHeaders(c.cors, origin, list);
  if (!appliesToStatus(c, status)) return;
  if (c.remove.size > 0) removeNamed(list, c.remove);
  for (const [name, value] of c.add) list.push(name, value);
  for (const cookie of c.cookies) list.push('Set-Cookie', cookie);
}
