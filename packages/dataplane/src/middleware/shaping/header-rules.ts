// requestHeaders and responseHeaders, compiled once per route (when its chain is built): names
// grouped for case-insensitive matching, templates filled in, Set-Cookie lines built, every list
// flat, so that a request only deletes, compares char codes and appends.
//
// Goma applies responseHeaders.setHeaders to 200 responses only; Gatehouse applies them to every
// response (a security header matters most on the error pages), unless the rule's `statuses` says
// otherwise.
import type { IncomingHttpHeaders } from 'node:http';
import type { CookieSpec, RequestHeadersRule, ResponseHeadersRule } from '@gatehouse/config';
import { FieldNameSet, removeFieldsNamed } from '../../edge/field-name-set.ts';
import { addCorsResponseHeaders, type CompiledCors, compileCors } from './cors.ts';

export interface CompiledRequestHeaders {
  /** Lower-cased names removed first. */
  readonly remove: readonly string[];
  /** [lower-cased name, value, ...] set after the removal, in order; an empty value deletes. */
  readonly set: readonly string[];
}

export function compileRequestHeaders(rule: RequestHeadersRule): CompiledRequestHeaders {
  return { remove: rule.remove, set: rule.set.flat() };
}

/** Goma's order: removeHeaders first, then setHeaders (an empty value deletes). */
export function applyRequestHeaders(c: CompiledRequestHeaders, headers: IncomingHttpHeaders): void {
  const remove = c.remove;
  for (let i = 0; i < remove.length; i++) {
    const name = remove[i] as string;
    if (headers[name] !== undefined) delete headers[name];
  }
  const set = c.set;
  for (let i = 0; i + 1 < set.length; i += 2) {
    const name = set[i] as string;
    const value = set[i + 1] as string;
    if (value !== '') headers[name] = value;
    else if (headers[name] !== undefined) delete headers[name];
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
  /** Names removed from the answer (set or deleted by the rule), matched in any case. */
  readonly remove: FieldNameSet;
  /** [name as written, value, ...] appended after the removal: the rule's fields, then its cookies. */
  readonly append: readonly string[];
  readonly cors: CompiledCors | null;
  readonly statuses: ReadonlyArray<readonly [number, number]>;
}

/** `cors`: the rule's CORS compiled once for all the routes of a definition. */
export function compileResponseHeaders(
  rule: ResponseHeadersRule,
  t: TemplateValues,
  cors: CompiledCors | null = rule.cors === null ? null : compileCors(rule.cors),
): CompiledResponseHeaders {
  const remove: string[] = [];
  const append: string[] = [];
  for (const [name, value] of rule.set) {
    remove.push(name);
    if (value !== '') append.push(name, fillTemplate(value, t));
  }
  if (rule.cacheControl !== null) {
    remove.push('cache-control');
    append.push('cache-control', rule.cacheControl);
  }
  for (const cookie of rule.setCookies) append.push('Set-Cookie', setCookieLine(cookie));
  return { remove: new FieldNameSet(remove), append, cors, statuses: rule.statuses };
}

export function appliesToStatus(c: CompiledResponseHeaders, status: number): boolean {
  const statuses = c.statuses;
  if (statuses.length === 0) return true;
  for (let i = 0; i < statuses.length; i++) {
    const range = statuses[i] as readonly [number, number];
    if (status >= range[0] && status <= range[1]) return true;
  }
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
  if (c.remove.size > 0) removeFieldsNamed(list, c.remove);
  const append = c.append;
  for (let i = 0; i < append.length; i++) list.push(append[i] as string);
}
