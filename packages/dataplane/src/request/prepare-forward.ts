// Turns an admitted request into the one its backend receives: connection-specific fields out,
// X-Forwarded-* / X-Real-IP / X-Request-ID / Host in, the client certificate's identity headers, and
// the path after the route's rewrite. Edits `req.headers` in place: no per-request objects.
import type { TLSSocket } from 'node:tls';
import type { CompiledBackend, CompiledRoute } from '../generation.ts';
import { applyClientIdentity } from '../tls/client-identity.ts';
import { setForwardingHeaders, stripHopByHop } from './headers.ts';
import type { RequestState } from './request-state.ts';
import { rewritePath } from './router.ts';

export function prepareForward(state: RequestState, backend: CompiledBackend): void {
  const req = state.req;
  const headers = req.headers;
  const route = state.route as CompiledRoute;
  if (state.upgradeSocket === null) stripHopByHop(headers);
  else {
    // Connection/Upgrade are what the upgrade is made of: keep them, drop the other hop-by-hop fields.
    const { connection, upgrade } = headers;
    stripHopByHop(headers);
    headers.connection = connection;
    headers.upgrade = upgrade;
  }
  const socket = req.socket as TLSSocket;
  setForwardingHeaders(
    headers,
    state.generation.trusted,
    socket.remoteAddress,
    socket.encrypted === true,
    state.requestId,
    route.forwardHost ? null : backend.hostHeader,
  );
  applyClientIdentity(route.identity, req, headers);
  state.upstreamPath = route.rewrite === null ? state.target : rewritePath(state.target, route.prefix, route.rewrite);
}
