// The route table, compiled once per generation. A lookup walks one precomputed, already ordered
// candidate list picked by the Host header (exact Map hit, else the longest matching wildcard
// suffix, else the any-host list), so it allocates nothing and runs no regular expression.
// Ordering: priority first, as Goma's gateway does it (a lower number wins; 0, the default, means
// "no priority" and ranks after every route that has one), then the most specific host (exact, then
// wildcard with the longer suffix first, then any host), then the longest path, then config order.
import type { RouteConfig } from '@gatehouse/config';

/** `lookup` found no route for the host and path. */
export const NO_ROUTE = -1;
/** `lookup` found routes for the host and path, but none allows the method: answer 405 with `allowed()`. */
export const METHOD_NOT_ALLOWED = -2;

const HOST_ANY = -1;
const HOST_EXACT = 1_000_000;

interface Candidate {
  /** Index into the `routes` array given to `compile`. */
  index: number;
  prefix: string;
  /** true for the root prefix `/`, which matches every path. */
  root: boolean;
  /** Required port as written in the route host (`8443`), or '' for any port. */
  port: string;
  /** null = any method. */
  methods: readonly string[] | null;
  priority: number;
  /** HOST_EXACT, the wildcard suffix length, or HOST_ANY. */
  hostRank: number;
}

interface WildcardList {
  /** `.example.com` for `*.example.com`: a host matches when it ends with this and is longer. */
  suffix: string;
  candidates: Candidate[];
}

/** Goma: priority 0 is unset and ranks last; among set priorities the lower number wins. */
function priorityRank(priority: number): number {
  return priority === 0 ? Number.POSITIVE_INFINITY : priority;
}

function compareCandidates(a: Candidate, b: Candidate): number {
  const pa = priorityRank(a.priority);
  const pb = priorityRank(b.priority);
  if (pa !== pb) return pa < pb ? -1 : 1;
  if (a.hostRank !== b.hostRank) return b.hostRank - a.hostRank;
  if (a.prefix.length !== b.prefix.length) return b.prefix.length - a.prefix.length;
  return a.index - b.index;
}

/** Splits a configured host into name and port (`api.example.com:8443`, `[::1]:8443`). */
function splitConfiguredHost(host: string): { name: string; port: string } {
  if (host.startsWith('[')) {
    const close = host.indexOf(']');
    const rest = host.slice(close + 1);
    return { name: host.slice(0, close + 1), port: rest.startsWith(':') ? rest.slice(1) : '' };
  }
  const colon = host.lastIndexOf(':');
  if (colon === -1) return { name: host, port: '' };
  return { name: host.slice(0, colon), port: host.slice(colon + 1) };
}

/** Index of the `:` that starts the port in a Host header value, or -1. */
function portColon(host: string): number {
  if (host.charCodeAt(0) === 91 /* [ */) {
    const close = host.indexOf(']');
    return close !== -1 && host.charCodeAt(close + 1) === 58 /* : */ ? close + 1 : -1;
  }
  return host.lastIndexOf(':');
}

/** `host` from `portAt` to its end equals `port` (no slice). */
function portEquals(host: string, portAt: number, port: string): boolean {
  return portAt !== -1 && host.length - portAt === port.length && host.startsWith(port, portAt);
}

function pathMatches(c: Candidate, url: string): boolean {
  if (c.root) return true;
  if (!url.startsWith(c.prefix)) return false;
  if (url.length === c.prefix.length) return true;
  const next = url.charCodeAt(c.prefix.length);
  return next === 47 /* / */ || next === 63 /* ? */;
}

function methodAllowed(c: Candidate, method: string): boolean {
  const methods = c.methods;
  if (methods === null) return true;
  for (let i = 0; i < methods.length; i++) if (methods[i] === method) return true;
  return false;
}

export class Router {
  readonly routes: readonly RouteConfig[];
  private readonly exact: Map<string, Candidate[]>;
  /** Longest suffix first, so the first hit is the most specific wildcard list. */
  private readonly wildcards: WildcardList[];
  private readonly anyHost: Candidate[];

  private constructor(
    routes: readonly RouteConfig[],
    exact: Map<string, Candidate[]>,
    wildcards: WildcardList[],
    anyHost: Candidate[],
  ) {
    this.routes = routes;
    this.exact = exact;
    this.wildcards = wildcards;
    this.anyHost = anyHost;
  }

  /** Compiles `routes` (disabled ones are skipped); indices returned by `lookup` point into `routes`. */
  static compile(routes: readonly RouteConfig[]): Router {
    const exactOwn = new Map<string, Candidate[]>();
    const wildcardOwn = new Map<string, Candidate[]>();
    const anyHost: Candidate[] = [];
    routes.forEach((route, index) => {
      if (!route.enabled) return;
      const base = {
        index,
        prefix: route.path,
        root: route.path === '/',
        methods: route.methods === null ? null : withImpliedHead(route.methods),
        priority: route.priority,
      };
      if (route.hosts.length === 0) {
        anyHost.push({ ...base, port: '', hostRank: HOST_ANY });
        return;
      }
      for (const configured of route.hosts) {
        const { name, port } = splitConfiguredHost(configured.toLowerCase());
        if (name.startsWith('*.')) {
          const suffix = name.slice(1);
          push(wildcardOwn, suffix, { ...base, port, hostRank: suffix.length });
        } else {
          push(exactOwn, name, { ...base, port, hostRank: HOST_EXACT });
        }
      }
    });
    const wildcardSuffixes = [...wildcardOwn.keys()].sort((a, b) => b.length - a.length);
    /** Every wildcard candidate that matches `name` (a host name or a wildcard suffix's own name). */
    const wildcardsMatching = (name: string): Candidate[] => {
      const out: Candidate[] = [];
      for (const suffix of wildcardSuffixes) {
        if (name.length > suffix.length && name.endsWith(suffix)) out.push(...(wildcardOwn.get(suffix) ?? []));
      }
      return out;
    };
    const exact = new Map<string, Candidate[]>();
    for (const [name, own] of exactOwn) {
      exact.set(name, [...own, ...wildcardsMatching(name), ...anyHost].sort(compareCandidates));
    }
    const wildcards: WildcardList[] = wildcardSuffixes.map((suffix) => ({
      suffix,
      candidates: [...(wildcardOwn.get(suffix) ?? []), ...wildcardsMatching(suffix.slice(1)), ...anyHost].sort(
        compareCandidates,
      ),
    }));
    return new Router(routes, exact, wildcards, anyHost.sort(compareCandidates));
  }

  /** Candidate list for a lower-cased host name without port. */
  private candidatesFor(name: string): Candidate[] {
    const own = this.exact.get(name);
    if (own !== undefined) return own;
    const wildcards = this.wildcards;
    for (let i = 0; i < wildcards.length; i++) {
      const w = wildcards[i]!;
      if (name.length > w.suffix.length && name.endsWith(w.suffix)) return w.candidates;
    }
    return this.anyHost;
  }

  /**
   * Route index for a request, or NO_ROUTE / METHOD_NOT_ALLOWED. `host` is the Host header (or
   * HTTP/2 `:authority`) as received; `url` is the request target (path and query).
   */
  lookup(host: string | undefined, method: string, url: string): number {
    let name = '';
    /** Index of the port's first character in `host`, or -1 (no port). */
    let portAt = -1;
    if (host !== undefined && host.length > 0) {
      const colon = portColon(host);
      if (colon === -1) name = host.toLowerCase();
      else {
        name = host.slice(0, colon).toLowerCase();
        portAt = colon + 1;
      }
    }
    const candidates = this.candidatesFor(name);
    let methodMismatch = false;
    for (let i = 0; i < candidates.length; i++) {
      const c = candidates[i]!;
      if (c.port !== '' && !portEquals(host as string, portAt, c.port)) continue;
      if (!pathMatches(c, url)) continue;
      if (methodAllowed(c, method)) return c.index;
      methodMismatch = true;
    }
    return methodMismatch ? METHOD_NOT_ALLOWED : NO_ROUTE;
  }

  /** The `Allow` header value after METHOD_NOT_ALLOWED: the union of methods of every route matching host and path. */
  allowed(host: string | undefined, url: string): string {
    let name = '';
    let port = '';
    if (host !== undefined && host.length > 0) {
      const colon = portColon(host);
      name = (colon === -1 ? host : host.slice(0, colon)).toLowerCase();
      port = colon === -1 ? '' : host.slice(colon + 1);
    }
    const methods = new Set<string>();
    for (const c of this.candidatesFor(name)) {
      if (c.port !== '' && c.port !== port) continue;
      if (!pathMatches(c, url) || c.methods === null) continue;
      for (const m of c.methods) methods.add(m);
    }
    return [...methods].sort().join(', ');
  }
}

/** GET implies HEAD, as in every HTTP server: a HEAD is a GET without the body. */
function withImpliedHead(methods: readonly string[]): string[] {
  return methods.includes('GET') && !methods.includes('HEAD') ? [...methods, 'HEAD'] : [...methods];
}

function push(map: Map<string, Candidate[]>, key: string, value: Candidate): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/**
 * The path to forward after a `rewrite`: the matched prefix of `url` is replaced by `rewrite`, and
 * the rest (sub-path and query string) is kept. `prefix` is the route's path.
 */
export function rewritePath(url: string, prefix: string, rewrite: string): string {
  const rest = prefix === '/' ? url : url.slice(prefix.length);
  if (rest.length === 0) return rewrite;
  if (rest.charCodeAt(0) === 47 /* / */ && rewrite.charCodeAt(rewrite.length - 1) === 47) {
    return rewrite + rest.slice(1);
  }
  return rewrite + rest;
}

/** `basePath` of a backend endpoint (`/` = none) joined with the forwarded path. */
export function joinBasePath(basePath: string, path: string): string {
  if (basePath === '/' || basePath === '') return path;
  if (path.charCodeAt(0) === 47 /* / */ && basePath.charCodeAt(basePath.length - 1) === 47) {
    return basePath + path.slice(1);
  }
  return basePath + path;
}
