// Turns an admitted request into the one its backend receives: connection-specific fields out,
// X-Forwarded-* / X-Real-IP / X-Request-ID / Host in, the client certificate's identity headers, and
// the path after the route's rewrite. Edits `req.headers` in place: no per-request objects.
import type { TLSSocket } from 'node:tls';
import { ERROR_KINDS, type ErrorKind } from '../errors.ts';
import type { CompiledRoute } from '../generation.ts';
import type { CompiledBackend } from '../upstream/compiled-backend.ts';
import { applyClientIdentity } from '../tls/client-identity.ts';
import { exceedsHeaderRoom } from './header-room.ts';
import { setForwardingHeaders, stripHopByHop } from './headers.ts';
import type { RequestState } from './request-state.ts';
import { rewritePath } from './router.ts';
import { applyRequestHeaders } from '../middleware/shaping/header-rules.ts';

/** Returns ERROR_KINDS.headerRoom when the forwarded head would not fit the header limit, else null. */
export function prepareForward(state: RequestState, backend: CompiledBackend): ErrorKind | null {
  const req = state.req;
  const headers = req.headers;
  const route = state.route as CompiledRoute;
  if (state.upgradeSocket === null) stripHopByHop(headers);
  else {
    // Upgrade is what the upgrade is made of; Connection says only that, so that no other token the
    // client listed makes the next hop drop a header set below (X-Forwarded-For, the identity).
    const upgrade = headers.upgrade;
    stripHopByHop(headers);
    headers.connection = 'upgrade';
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
  const identity = applyClientIdentity(route.identity, req, headers);
  if (state.lateRequestHeaders !== null)
    for (const rule of state.lateRequestHeaders) applyRequestHeaders(rule, headers);
  // A middleware may have rewritten the target out of the route's prefix; then it is forwarded as is.
  state.upstreamPath =
    route.rewrite === null || !state.target.startsWith(route.prefix)
      ? state.target
      : rewritePath(state.target, route.prefix, route.rewrite);
  // What was added beyond FIXED_ADDED_BYTES: the client's Host again as X-Forwarded-Host, the
  // identity, the backend's own Host. The target is bounded by base path + path.
  const added =
    (headers['x-forwarded-host'] as string).length +
    (identity === null ? 0 : route.identity.header!.length + identity.length) +
    (route.forwardHost ? 0 : backend.hostHeader.length);
  const urlLength = backend.basePath.length + state.upstreamPath.length;
  const limit = state.generation.limits.maxHeaderBytes;
  return exceedsHeaderRoom(limit, urlLength, state.clientFieldBytes, added, headers) ? ERROR_KINDS.headerRoom : null;
}
