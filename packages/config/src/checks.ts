// Value checks the spec table attaches to string keys. Each returns what is wrong, or null.
import { parseCidr } from './cidr.ts';

export function checkPath(value: string): string | null {
  if (!value.startsWith('/')) return `path must start with \`/\` (got "${value}")`;
  if (/[\s?#]/.test(value)) return `path must not contain spaces, \`?\` or \`#\` (got "${value}")`;
  return null;
}

/** A backend endpoint: an absolute http or https URL with a host. */
export function checkEndpoint(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `endpoint "${value}" is not a URL`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return `endpoint "${value}" has scheme \`${url.protocol.slice(0, -1)}\`; only http and https are supported`;
  }
  if (url.hostname === '') return `endpoint "${value}" has no host`;
  if (url.username !== '' || url.password !== '') return `endpoint "${value}" must not carry credentials`;
  if (url.search !== '' || url.hash !== '') return `endpoint "${value}" must not have a query or fragment`;
  return null;
}

const hostPattern = /^(\*\.)?([a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*\.?(:\d{1,5})?$/i;
const ipv6HostPattern = /^\[[0-9a-f:.]+\](:\d{1,5})?$/i;

export function checkHost(value: string): string | null {
  if (hostPattern.test(value) || ipv6HostPattern.test(value)) return null;
  return `"${value}" is not a host name (write \`api.example.com\`, \`*.example.com\` or \`api.example.com:8443\`)`;
}

export function checkMethod(value: string): string | null {
  return /^[A-Za-z]+$/.test(value) ? null : `"${value}" is not an HTTP method`;
}

export function checkCidr(value: string): string | null {
  const parsed = parseCidr(value);
  return 'error' in parsed ? parsed.error : null;
}

export function checkHeaderName(value: string): string | null {
  return /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(value) ? null : `"${value}" is not a valid HTTP header name`;
}

export function checkServerName(value: string): string | null {
  return hostPattern.test(value) && !value.startsWith('*') && !value.includes(':')
    ? null
    : `"${value}" is not a DNS name`;
}
