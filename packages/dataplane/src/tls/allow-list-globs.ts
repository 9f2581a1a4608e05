// The allow-lists of a route's `clientAuth` (allowedSubjects, allowedSANs) as matchers, compiled
// once per snapshot: one anchored RegExp per list, and a Set for the entries without a `*`.
import type { SanType } from '@gatehouse/config';
import { parseSanPattern } from '@gatehouse/config/san-pattern';
import type { PeerIdentity } from './client-identity.ts';

export type Matcher = (value: string) => boolean;

/**
 * A glob over exact strings: `*` is any run of characters (including none), everything else is
 * literal. Compiled to one anchored RegExp per list, at snapshot time. `star` is the RegExp a `*`
 * becomes.
 */
export function compileGlobs(patterns: readonly string[], star = '.*'): Matcher | null {
  if (patterns.length === 0) return null;
  const exact = new Set<string>();
  const globs: string[] = [];
  for (const p of patterns) {
    if (p.includes('*')) globs.push(p.split('*').map(escapeRegExp).join(star));
    else exact.add(p);
  }
  const re = globs.length > 0 ? new RegExp(`^(?:${globs.join('|')})$`, 's') : null;
  if (re === null) return (value) => exact.has(value);
  return (value) => exact.has(value) || re.test(value);
}

/**
 * Subject DNs (RFC 4514, `CN=x,O=y`) match RDN by RDN: a `*` stays inside one attribute value, so it
 * never crosses a `,` between RDNs nor an escaped `\,` inside a value, and the number of RDNs must
 * be the same. `CN=admin,O=*` matches `CN=admin,O=Acme` but not `CN=admin,O=Acme,C=DE`, and
 * `CN=*,O=Acme` does not match `CN=x\, O=Acme,O=Evil`.
 */
export function compileSubjectGlobs(patterns: readonly string[]): Matcher | null {
  return compileGlobs(patterns, '(?:[^\\\\,]|\\\\[^,])*');
}

/** SAN globs by type: an entry `URI:spiffe://x/*` is matched against URI SANs only. */
export type SanMatcher = (identity: Pick<PeerIdentity, 'dns' | 'uris' | 'ips' | 'emails'>) => boolean;

export function compileSanGlobs(patterns: readonly string[]): SanMatcher | null {
  if (patterns.length === 0) return null;
  const byType: Record<SanType, string[]> = { DNS: [], URI: [], IP: [], email: [] };
  for (const pattern of patterns) {
    const parsed = parseSanPattern(pattern);
    // The validator refuses malformed entries; one that slipped through matches nothing.
    if ('type' in parsed) byType[parsed.type].push(parsed.value);
  }
  const dns = compileGlobs(byType.DNS);
  const uri = compileGlobs(byType.URI);
  const ip = compileGlobs(byType.IP);
  const email = compileGlobs(byType.email);
  const any = (matcher: Matcher | null, values: readonly string[]) => {
    if (matcher === null) return false;
    for (const value of values) if (matcher(value)) return true;
    return false;
  };
  return (identity) =>
    any(dns, identity.dns) || any(uri, identity.uris) || any(ip, identity.ips) || any(email, identity.emails);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
