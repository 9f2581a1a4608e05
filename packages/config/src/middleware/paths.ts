// A middleware's `paths` entries. Goma tries every entry as an unanchored regular expression and
// then as a path, so `/admin` also covers `/admin/users` (and, by accident, `/x/admin`). Gatehouse
// keeps the useful part and drops the accident: a literal entry covers the path and everything
// below it, a regular expression must be anchored (`^...`) so it means what it says, and anything
// else (a `*` in the middle, an unanchored pattern) is refused at load.

export type PathPattern = { kind: 'prefix'; base: string } | { kind: 'regex'; source: string };

const REGEX_CHARS = /[\\^$.|?+()[\]{}]/;

/** The pattern of one `paths` entry, or what is wrong with it. */
export function parseMiddlewarePath(entry: string): PathPattern | { error: string; hint: string } {
  const text = entry.trim();
  if (text.startsWith('^')) {
    try {
      new RegExp(text);
    } catch (error) {
      return { error: `"${entry}" is not a valid regular expression: ${(error as Error).message}`, hint: '' };
    }
    return { kind: 'regex', source: text };
  }
  if (!text.startsWith('/')) {
    return {
      error: `"${entry}" is neither a path (\`/admin\`, \`/admin/*\`) nor an anchored regular expression (\`^/api/v[0-9]+/\`)`,
      hint: 'start a path with `/`; start a regular expression with `^`',
    };
  }
  const base = text.endsWith('/*') ? text.slice(0, -2) : text;
  if (base.includes('*') || REGEX_CHARS.test(base) || /[\s#]/.test(base)) {
    return {
      error: `"${entry}" looks like a pattern; only a trailing \`/*\` is a wildcard in a path`,
      hint: 'write a regular expression anchored with `^`, e.g. `^/tenant/[^/]+/api/`',
    };
  }
  return { kind: 'prefix', base: base.replace(/\/+$/, '').toLowerCase() };
}
