// Goma's strictSlash: a route written as `/docs/` answers `/docs` with a redirect to `/docs/`, so
// that relative links in the pages behind it resolve under the prefix. The router already matched
// the route; this only decides whether the request named the prefix without its slash.

/** `/docs/?q` for `/docs?q` when the route prefix is `/docs`; null when the path is anything else. */
export function slashRedirectLocation(url: string, prefix: string): string | null {
  if (!url.startsWith(prefix)) return null;
  const rest = url.length === prefix.length ? '' : url[prefix.length];
  if (rest !== '' && rest !== '?') return null;
  return `${prefix}/${url.slice(prefix.length)}`;
}
