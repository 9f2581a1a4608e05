// Listen addresses as Go and Goma write them: `:8080`, `0.0.0.0:8080`, `127.0.0.1:9180`, `[::1]:9180`.
import { isIP } from 'node:net';
import type { ListenAddress } from './types.ts';

/** The parsed address, or an error message saying what is wrong with it. */
export function parseListenAddress(raw: string): ListenAddress | { error: string } {
  const text = raw.trim();
  let host: string;
  let portText: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close === -1 || text[close + 1] !== ':') return { error: 'an IPv6 address is written `[::1]:PORT`' };
    host = text.slice(1, close);
    portText = text.slice(close + 2);
    if (isIP(host) !== 6) return { error: `\`${host}\` is not an IPv6 address` };
  } else {
    const colon = text.lastIndexOf(':');
    if (colon === -1) return { error: 'the port is missing; write `HOST:PORT` or `:PORT`' };
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
    if (host.includes(':')) return { error: 'put an IPv6 address in brackets: `[::1]:PORT`' };
    if (host !== '' && host !== 'localhost' && isIP(host) === 0 && !/^[a-zA-Z0-9.-]+$/.test(host)) {
      return { error: `\`${host}\` is not a host name or IP address` };
    }
  }
  if (!/^\d{1,5}$/.test(portText)) return { error: `\`${portText}\` is not a port number` };
  const port = Number(portText);
  if (port > 65535) return { error: `port ${port} is above 65535` };
  return { raw: text, host, port };
}
