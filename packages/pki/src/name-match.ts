// Whether a certificate name covers a host, as TLS clients decide it (RFC 6125): a `*.` wildcard
// stands for exactly one leftmost label. Pure; used for SAN coverage warnings and default selection.

/** `host` without a `:port` suffix and without IPv6 brackets, lower-cased. */
export function hostWithoutPort(host: string): string {
  const h = host.toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end > 0 ? h.slice(1, end) : h;
  }
  const colon = h.lastIndexOf(':');
  // More than one colon and no brackets: a bare IPv6 address, not host:port.
  if (colon > 0 && h.indexOf(':') === colon && /^\d+$/.test(h.slice(colon + 1))) return h.slice(0, colon);
  return h;
}

/**
 * Does certificate name `pattern` (`api.example.com`, `*.example.com`) cover `host`?
 * A wildcard host in a route (`*.example.com`) is covered only by the same wildcard.
 */
export function certificateNameCovers(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase();
  const h = host.toLowerCase();
  if (p === h) return true;
  if (!p.startsWith('*.') || h.startsWith('*.')) return false;
  const suffix = p.slice(1); // `.example.com`
  if (!h.endsWith(suffix)) return false;
  const label = h.slice(0, h.length - suffix.length);
  return label.length > 0 && !label.includes('.');
}

/** Does any of `names` (DNS names or IP addresses of a certificate) cover `host`? */
export function namesCover(names: readonly string[], host: string): boolean {
  for (const name of names) if (certificateNameCovers(name, host)) return true;
  return false;
}
