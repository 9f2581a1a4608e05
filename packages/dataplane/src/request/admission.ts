// Admission: the steps that decide whether a request goes to a backend, and to which one. Plain
// requests and WebSocket upgrades both come through admit(), so a step added here (the middleware
// chain) applies to both. Each refusal is answered by refuse() and admit() returns null.
import { rejectRequest } from '../edge/framing-guard.ts';
import { ERROR_KINDS } from '../errors.ts';
import type { CompiledBackend, CompiledRoute } from '../generation.ts';
import { checkClientAuth } from '../tls/client-auth.ts';
import { limitRequestBody } from './body-limit.ts';
import { canonicalize } from './canonicalize.ts';
import { requestIdFor } from './headers.ts';
import { CLOSE, redirect, refuse } from './refusal.ts';
import type { RequestState } from './request-state.ts';
import { MONITOR_NONE } from './monitoring.ts';
import { METHOD_NOT_ALLOWED } from './router.ts';
import { slashRedirectLocation } from './trailing-slash.ts';

/** framing guard → canonical path, host and headers → monitoring endpoints → route (or its slash redirect) → client certificate → [middleware chain] → body limit → backend pick. */
export function admit(state: RequestState): CompiledBackend | null {
  const generation = state.generation;
  const req = state.req;
  const headers = req.headers;
  state.requestId = requestIdFor(headers['x-request-id']);
  const rejection = rejectRequest(req, generation.limits);
  if (rejection !== null) return refuse(state, rejection, CLOSE);

  const notCanonical = canonicalize(state);
  if (notCanonical !== null) return refuse(state, notCanonical, CLOSE);
  const target = state.target;
  const host = headers.host ?? (headers[':authority'] as string | undefined);
  // Goma's monitoring endpoints outrank every route.
  const monitoring = state.forwarder.monitoring;
  if (generation.monitoring !== null && monitoring !== null && state.res !== null) {
    const endpoint = generation.monitoring.match(state.method, target, host);
    if (endpoint !== MONITOR_NONE) {
      monitoring.serve(endpoint, generation, state.forwarder.draining, state.method, state.res);
      return null;
    }
  }
  const index = generation.router.lookup(host, state.method, target);
  if (index < 0) {
    if (index === METHOD_NOT_ALLOWED) {
      return refuse(state, ERROR_KINDS.methodNotAllowed, { allow: generation.router.allowed(host, target) });
    }
    return refuse(state, ERROR_KINDS.noRoute, null);
  }
  const route = generation.routes[index] as CompiledRoute;
  state.route = route;
  state.routeName = route.name;
  if (route.slashRedirect) {
    const location = slashRedirectLocation(target, route.prefix);
    if (location !== null) return redirect(state, location);
  }

  if (generation.clientAuthActive) {
    const denial = checkClientAuth(generation.clientAuth, route.name, req);
    if (denial !== null) return refuse(state, denial, null);
  }

  // The route's middleware chain runs here, once it exists: a step that refuses returns refuse(...).

  if (state.upgradeSocket === null) {
    const tooLarge = limitRequestBody(state, route.maxBodyBytes);
    if (tooLarge !== null) return refuse(state, tooLarge, CLOSE);
  }

  const backend = route.balancer.pick(Date.now(), null);
  if (backend === null) {
    return refuse(state, ERROR_KINDS.noHealthyBackend, { retryAfterSeconds: route.retryAfterSeconds });
  }
  return backend;
}
