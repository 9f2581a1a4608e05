// Trusted-proxy CIDRs: `10.0.0.0/8`, `::1/128`, or a bare address (a /32 or /128).
import { isIP } from 'node:net';

/** The normalised CIDR, or an error message. */
export function parseCidr(text: string): { cidr: string } | { error: string } {
  const [address = '', bits, extra] = text.trim().split('/');
  if (extra !== undefined) return { error: `\`${text}\` has more than one \`/\`` };
  const family = isIP(address);
  if (family === 0) return { error: `\`${address}\` is not an IPv4 or IPv6 address` };
  const max = family === 4 ? 32 : 128;
  if (bits === undefined) return { cidr: `${address}/${max}` };
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) {
    return { error: `prefix length \`/${bits}\` must be 0..${max} for an IPv${family} address` };
  }
  return { cidr: `${address}/${Number(bits)}` };
}
