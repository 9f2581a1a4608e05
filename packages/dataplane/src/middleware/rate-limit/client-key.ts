// Whom a rate limit counts: the client address (as `gateway.proxy.trustedProxies` lets the gateway
// believe it), or a header or cookie value, which falls back to the address when the request has
// none. The source is part of the key, so a header value can never share a bucket with an address.
// The address is read only when it is the key (it walks X-Forwarded-For), from the request itself.
import type { RateLimitRule } from '@gatehouse/config';
import { cookieValue } from '../shaping/access-log-fields.ts';

export function rateLimitKey(
  rule: RateLimitRule,
  headers: Record<string, string | string[] | undefined>,
  client: { clientAddress(): string },
): string {
  if (rule.keyName !== null) {
    if (rule.keySource === 'header') {
      const v = headers[rule.keyName];
      const value = typeof v === 'string' ? v.trim() : v === undefined ? '' : v.join(',').trim();
      if (value !== '') return `h ${value}`;
    } else if (rule.keySource === 'cookie') {
      const cookie = headers.cookie;
      const value = cookieValue(typeof cookie === 'string' ? cookie : cookie?.join('; '), rule.keyName);
      if (value !== null && value !== '') return `c ${value}`;
    }
  }
  return `i ${client.clientAddress()}`;
}
