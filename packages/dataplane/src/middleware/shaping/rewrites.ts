// Redirects and path rewrites. Regular expressions are compiled once per rule; a request runs only
// the ones its route's config asks for.
//
// A rewritten path goes through the same canonical form as a request path (request/canonical-path.ts),
// so a rewrite can never smuggle `..` or an encoded slash to the backend; one that has no canonical
// form is refused. The request stays in the route
// that matched it: routing is not redone, so a rewrite cannot move a request into another route's
// policy; the middlewares after the rewrite see the rewritten path.
import type { ErrorKind } from '../../errors.ts';
import { canonicalPath } from '../../request/canonical-path.ts';
import type {
  AddPrefixRule,
  RedirectRegexRule,
  RedirectRule,
  RedirectSchemeRule,
  RegexRule,
  StripQueryRule,
} from '@gatehouse/config';

/** Splits an origin-form target into path and query (with its `?`, or ''). */
export function splitTarget(target: string): [string, string] {
  const q = target.indexOf('?');
  return q === -1 ? [target, ''] : [target.slice(0, q), target.slice(q)];
}

/** Go's regexp replacement syntax, as Goma writes it: `$1`, `${1}`, `${name}`; `$$` is a dollar. */
export function toJsReplacement(replacement: string): string {
  return replacement.replace(
    /\$\$|\$\{(\w+)\}|\$(\d+)/g,
    (m, braced: string | undefined, digits: string | undefined) => {
      if (m === '$$') return '$$';
      const ref = braced ?? digits ?? '';
      return /^\d+$/.test(ref) ? `$${ref}` : `$<${ref}>`;
    },
  );
}

export interface CompiledRegexRule {
  readonly pattern: RegExp;
  readonly replacement: string;
}

export function compileRegexRule(rule: RegexRule): CompiledRegexRule {
  return { pattern: new RegExp(rule.pattern), replacement: toJsReplacement(rule.replacement) };
}

/**
 * rewriteRegex: the new target (query kept, path canonical), null when the pattern does not match
 * the path, or the refusal when the rewritten path has no canonical form.
 */
export function rewriteTarget(c: CompiledRegexRule, target: string): string | ErrorKind | null {
  const q = target.indexOf('?');
  const path = q === -1 ? target : target.slice(0, q);
  if (!c.pattern.test(path)) return null;
  let rewritten = path.replace(c.pattern, c.replacement);
  if (rewritten.charCodeAt(0) !== SLASH) rewritten = `/${rewritten}`;
  return canonicalPath(q === -1 ? rewritten : rewritten + target.slice(q));
}

const SLASH = 47;

/** addPrefix: `/api/x` with prefix `/v1` becomes `/v1/api/x` (canonical, or the refusal). */
export function addPrefix(rule: AddPrefixRule, target: string): string | ErrorKind {
  const prefix = rule.prefix.endsWith('/') ? rule.prefix.slice(0, -1) : rule.prefix;
  return canonicalPath(prefix + target);
}

export interface CompiledStripQuery {
  readonly params: ReadonlySet<string>;
  readonly methods: ReadonlySet<string> | null;
  readonly pathPattern: RegExp | null;
}

export function compileStripQuery(rule: StripQueryRule): CompiledStripQuery {
  return {
    params: new Set(rule.params),
    methods: rule.methods.length > 0 ? new Set(rule.methods) : null,
    pathPattern: rule.pathPattern === null ? null : new RegExp(rule.pathPattern),
  };
}

/** stripQuery: the target without the named parameters (other parameters untouched, in order). */
export function stripQuery(c: CompiledStripQuery, method: string, target: string): string {
  const [path, query] = splitTarget(target);
  if (query.length <= 1) return target;
  if (c.methods !== null && !c.methods.has(method)) return target;
  if (c.pathPattern !== null && !c.pathPattern.test(path)) return target;
  const kept: string[] = [];
  let removed = false;
  for (const pair of query.slice(1).split('&')) {
    const eq = pair.indexOf('=');
    const rawName = eq === -1 ? pair : pair.slice(0, eq);
    let name = rawName;
    try {
      name = decodeURIComponent(rawName.replaceAll('+', ' '));
    } catch {
      // a malformed escape is compared as written
    }
    if (c.params.has(name)) removed = true;
    else kept.push(pair);
  }
  if (!removed) return target;
  return kept.length === 0 ? path : `${path}?${kept.join('&')}`;
}

export interface RedirectAnswer {
  status: number;
  location: string;
}

/** redirect: to `url` (Goma appends nothing of the request). */
export function redirectTo(rule: RedirectRule): RedirectAnswer {
  return { status: rule.permanent ? 301 : 302, location: rule.url };
}

/** redirectRegex: null when the pattern does not match the request URL (path and query). */
export function redirectRegex(c: CompiledRegexRule, permanent: boolean, target: string): RedirectAnswer | null {
  if (!c.pattern.test(target)) return null;
  return { status: permanent ? 301 : 302, location: target.replace(c.pattern, c.replacement) };
}

/**
 * redirectScheme: null when the request already came with that scheme (the scheme the gateway saw,
 * or X-Forwarded-Proto from a trusted proxy: the caller decides which). `host` is the request's
 * Host without its port.
 */
export function redirectScheme(
  rule: RedirectSchemeRule,
  seenScheme: 'http' | 'https',
  host: string,
  target: string,
): RedirectAnswer | null {
  if (seenScheme === rule.scheme) return null;
  const defaultPort = rule.scheme === 'https' ? 443 : 80;
  const port = rule.port === null || rule.port === defaultPort ? '' : `:${rule.port}`;
  return { status: rule.permanent ? 301 : 302, location: `${rule.scheme}://${host}${port}${target}` };
}

/** `example.com:8080` → `example.com`; `[::1]:8080` → `[::1]`. */
export function hostWithoutPort(host: string): string {
  if (host.startsWith('[')) {
    const close = host.indexOf(']');
    return close === -1 ? host : host.slice(0, close + 1);
  }
  const colon = host.indexOf(':');
  return colon === -1 ? host : host.slice(0, colon);
}

export type { RedirectRegexRule };
