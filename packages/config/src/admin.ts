// Rules of the admin listener's config: what counts as a token, and which addresses only the local
// machine can reach. Whoever reaches the admin listener can reload or restart the gateway and read
// its status, so an address that other machines can reach needs a token.
import { isIP } from 'node:net';
import type { ListenAddress } from './types.ts';

/** Short enough to type, long enough that guessing it over the network is hopeless. */
export const MIN_ADMIN_TOKEN_LENGTH = 16;

export function checkAdminToken(value: string): string | null {
  if (value.trim() === '') {
    return 'token is empty; an empty token would turn authentication off';
  }
  if (value.length < MIN_ADMIN_TOKEN_LENGTH) {
    return `token has ${value.length} characters; it needs at least ${MIN_ADMIN_TOKEN_LENGTH}`;
  }
  if (!/^[\x21-\x7e]+$/.test(value)) {
    return 'token may only hold printable ASCII characters without spaces (it travels in an HTTP header)';
  }
  return null;
}

/** True when only this machine can connect to `address`: `localhost`, 127.0.0.0/8 or ::1. */
export function isLoopbackAddress(address: ListenAddress): boolean {
  const host = address.host.toLowerCase();
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) {
    // The URL parser writes every spelling of an IPv6 address in its shortest form.
    const canonical = new URL(`http://[${host}]/`).hostname;
    return canonical === '[::1]' || /^\[::ffff:7f[0-9a-f]{2}:/.test(canonical);
  }
  // '' (all interfaces) and any other name: not provably local.
  return false;
}
