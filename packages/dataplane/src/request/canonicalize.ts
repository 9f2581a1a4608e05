// The request in its one canonical spelling, before routing and before any policy: the path the
// router matches, client auth and middlewares see and the backend receives (state.target), the Host
// (or :authority) that picks the route, decides the 421 check and becomes X-Forwarded-Host, and the
// client's headers with the forgeable ones gone. Everything after admission reads only these.
import type { Socket } from 'node:net';
import { originForm } from '../edge/framing-guard.ts';
import type { ErrorKind } from '../errors.ts';
import { canonicalHost } from './canonical-host.ts';
import { canonicalPath } from './canonical-path.ts';
import { screenClientHeaders } from './client-headers.ts';
import type { RequestState } from './request-state.ts';

/** Rewrites the request in place; returns why it is refused, or null. */
export function canonicalize(state: RequestState): ErrorKind | null {
  const req = state.req;
  const headers = req.headers;
  const target = canonicalPath(originForm(req.url ?? '/'));
  if (typeof target !== 'string') return target;
  state.target = target;
  const host = headers.host;
  if (host !== undefined) {
    const canonical = canonicalHost(host);
    if (typeof canonical !== 'string') return canonical;
    if (canonical !== host) headers.host = canonical;
  }
  const authority = headers[':authority'];
  if (typeof authority === 'string') {
    const canonical = canonicalHost(authority);
    if (typeof canonical !== 'string') return canonical;
    if (canonical !== authority) headers[':authority'] = canonical;
  }
  const generation = state.generation;
  const fieldBytes = screenClientHeaders(
    req.rawHeaders,
    headers,
    generation.headerRules,
    generation.trusted,
    (req.socket as Socket).remoteAddress,
    state.upgradeSocket !== null,
  );
  if (typeof fieldBytes !== 'number') return fieldBytes;
  state.clientFieldBytes = fieldBytes;
  return null;
}
