// accessLog: the request headers, query parameters and cookies a rule names, added to the access
// line. Only what is named is read, so Authorization and Cookie never appear unless a rule lists
// them; every value is cut at the rule's length so one request cannot blow up a log line.
import type { AccessLogRule } from '@gatehouse/config';

export interface AccessLogFields {
  headers?: Record<string, string | null>;
  query?: Record<string, string | null>;
  cookies?: Record<string, string | null>;
}

function cut(value: string, max: number): string {
  return value.length <= max ? value : `${value.slice(0, max)}…`;
}

/** The value of cookie `name` in a Cookie header, or null. */
export function cookieValue(header: string | undefined, name: string): string | null {
  if (header === undefined) return null;
  let start = 0;
  while (start < header.length) {
    let end = header.indexOf(';', start);
    if (end === -1) end = header.length;
    const eq = header.indexOf('=', start);
    if (eq !== -1 && eq < end && header.slice(start, eq).trim() === name) {
      let value = header.slice(eq + 1, end).trim();
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
      return value;
    }
    start = end + 1;
  }
  return null;
}

/** The value of query parameter `name` in an origin-form target, or null. */
export function queryValue(target: string, name: string): string | null {
  const q = target.indexOf('?');
  if (q === -1) return null;
  for (const pair of target.slice(q + 1).split('&')) {
    const eq = pair.indexOf('=');
    const key = eq === -1 ? pair : pair.slice(0, eq);
    if (safeDecode(key) === name) return eq === -1 ? '' : safeDecode(pair.slice(eq + 1));
  }
  return null;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch {
    return text;
  }
}

export function accessLogFields(
  rule: AccessLogRule,
  headers: Record<string, string | string[] | undefined>,
  target: string,
  into: AccessLogFields,
): void {
  const max = rule.maxValueLength;
  if (rule.headers.length > 0) {
    const out: Record<string, string | null> = into.headers ?? {};
    for (const name of rule.headers) {
      const v = headers[name];
      out[name] = v === undefined ? null : cut(typeof v === 'string' ? v : v.join(', '), max);
    }
    into.headers = out;
  }
  if (rule.query.length > 0) {
    const out: Record<string, string | null> = into.query ?? {};
    for (const name of rule.query) {
      const v = queryValue(target, name);
      out[name] = v === null ? null : cut(v, max);
    }
    into.query = out;
  }
  if (rule.cookies.length > 0) {
    const out: Record<string, string | null> = into.cookies ?? {};
    const cookie = headers.cookie;
    const header = typeof cookie === 'string' ? cookie : undefined;
    for (const name of rule.cookies) {
      const v = cookieValue(header, name);
      out[name] = v === null ? null : cut(v, max);
    }
    into.cookies = out;
  }
}
