// A middleware's `paths`, compiled once per generation: literal entries (`/admin`, `/admin/*`) are
// matched against the path with and without the route's prefix, as whole segments and ignoring
// ASCII case (an upstream that treats `/Admin` as `/admin` must not get it unprotected); anchored
// regular expressions are tested on the path and on the path below the route's prefix. Matching
// allocates nothing for literal entries.
import { parseMiddlewarePath } from '@gatehouse/config/middleware-paths';

export class PathMatcher {
  /** Lower-case bases without a trailing slash; '' matches every path. */
  private readonly bases: readonly string[];
  private readonly regexes: readonly RegExp[];
  private readonly prefix: string;
  private readonly prefixLower: string;

  constructor(entries: readonly string[], routePrefix: string) {
    const bases = new Set<string>();
    const regexes: RegExp[] = [];
    const prefix = routePrefix === '/' ? '' : routePrefix.toLowerCase();
    for (const entry of entries) {
      const pattern = parseMiddlewarePath(entry);
      // The config refused anything else at load; a snapshot never carries an invalid entry.
      if ('error' in pattern) throw new Error(`invalid middleware path ${JSON.stringify(entry)}: ${pattern.error}`);
      if (pattern.kind === 'regex') regexes.push(new RegExp(pattern.source));
      else {
        bases.add(pattern.base);
        if (prefix !== '') bases.add(prefix + pattern.base);
      }
    }
    this.bases = [...bases];
    this.regexes = regexes;
    this.prefix = routePrefix === '/' ? '' : routePrefix;
    this.prefixLower = prefix;
  }

  matches(path: string): boolean {
    const bases = this.bases;
    for (let i = 0; i < bases.length; i++) if (coversFold(path, bases[i] as string)) return true;
    const regexes = this.regexes;
    if (regexes.length === 0) return false;
    const below =
      this.prefix !== '' && coversFold(path, this.prefixLower) ? path.slice(this.prefix.length) || '/' : null;
    for (let i = 0; i < regexes.length; i++) {
      const regex = regexes[i] as RegExp;
      if (regex.test(path) || (below !== null && regex.test(below))) return true;
    }
    return false;
  }
}

/** `path` is `base` or below it (`base/...`), comparing ASCII letters without case. */
export function coversFold(path: string, base: string): boolean {
  const n = base.length;
  if (path.length < n) return false;
  for (let i = 0; i < n; i++) {
    let c = path.charCodeAt(i);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== base.charCodeAt(i)) return false;
  }
  return path.length === n || path.charCodeAt(n) === 47 /* / */ || n === 0;
}
