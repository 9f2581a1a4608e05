// Admission: the steps that decide whether a request goes to a backend, and to which one. Plain
// requests and WebSocket upgrades both come through admit(), so a step added here (the middleware
// chain) applies to both. Each refusal is answered by refuse() and admit() returns null.
import { rejectRequest } from '../edge/framing-guard.ts';
import { ERROR_KINDS } from '../errors.ts';
import type { CompiledRoute } from '../generation.ts';
import type { CompiledBackend } from '../upstream/compiled-backend.ts';
import { chainOutcome } from '../middleware/outcome.ts';
import { checkClientAuth } from '../tls/client-auth.ts';
import { hasNoBody, limitRequestBody } from './body-limit.ts';
import { canonicalize } from './canonicalize.ts';
import { findExploit } from './exploit-patterns.ts';
import { bufferXmlBody, refuseExploit } from './exploit-protection.ts';
import { requestIdFor } from './headers.ts';
import { CLOSE, redirect, refuse } from './refusal.ts';
import type { RequestState } from './request-state.ts';
import { CanaryRequestView } from './canary-request.ts';
import { MONITOR_NONE } from './monitoring.ts';
import { METHOD_NOT_ALLOWED } from './router.ts';
import { slashRedirectLocation } from './trailing-slash.ts';
import { isXmlContentType } from './xml-well-formed.ts';

/** admit() handed the request to the route's middleware chain, which goes on from there. */
export const IN_CHAIN = 1;

/**
 * framing guard → canonical path, host and headers → monitoring endpoints → route (or its slash
 * redirect) → client certificate → exploit patterns → middleware chain → body limit (or the XML
 * body check) → backend pick. Returns the
 * backend, null when the request was answered, or IN_CHAIN when the route's chain took it: the
 * chain's outcome (middleware/outcome.ts) then continues with admitAfterChain and the forward, now
 * or when an asynchronous step settles.
 */
export function admit(state: RequestState): CompiledBackend | null | typeof IN_CHAIN {
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
  if (route.exploitProtection) {
    const found = findExploit(target);
    if (found !== null) return refuseExploit(state, found);
  }

  const chain = route.chain;
  if (chain !== null) {
    const q = target.indexOf('?');
    state.requestPath = q === -1 ? target : target.slice(0, q);
    chain.run(state, chainOutcome);
    return IN_CHAIN;
  }
  return admitAfterChain(state);
}

/**
 * The rest of admission, once every middleware passed: body limit, backend pick. Returns null also
 * when an XML body is being read for its check: the forwarder's afterBodyCheck goes on from there.
 */
export function admitAfterChain(state: RequestState): CompiledBackend | null {
  const route = state.route as CompiledRoute;
  if (state.upgradeSocket === null) {
    // A bodyLimit middleware can only lower the route's limit.
    const max =
      state.bodyLimit > 0 && (route.maxBodyBytes === 0 || state.bodyLimit < route.maxBodyBytes)
        ? state.bodyLimit
        : route.maxBodyBytes;
    if (
      route.exploitProtection &&
      (state.http2 || !hasNoBody(state.req)) &&
      isXmlContentType(state.req.headers['content-type'])
    ) {
      const tooLarge = bufferXmlBody(state, max);
      return tooLarge === null ? null : refuse(state, tooLarge, CLOSE);
    }
    const tooLarge = limitRequestBody(state, max);
    if (tooLarge !== null) return refuse(state, tooLarge, CLOSE);
  }
  return pickBackend(state);
}

/** The backend of an admitted request (its route's canary pool or balancer), or null when none is healthy. */
export function pickBackend(state: RequestState): CompiledBackend | null {
  const route = state.route as CompiledRoute;
  const now = Date.now();
  let balancer = route.balancer;
  if (route.canary !== null) {
    balancer = route.canary.poolFor(new CanaryRequestView(state), now);
    state.pool = balancer;
  }
  const backend = balancer.pick(now, null);
  if (backend === null) {
    return refuse(state, ERROR_KINDS.noHealthyBackend, { retryAfterSeconds: route.retryAfterSeconds });
  }
  return backend;
}
