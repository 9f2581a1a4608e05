// The client-certificate mode that is really in force, per listener and per route, computed from the
// config alone. Node asks for client certificates per server, not per name, so what an operator
// wrote (a gateway default, route overrides) and what the handshake does can differ; `gatehouse
// validate` prints this, and the data plane derives its handshake switches from the same function.
import type { ClientAuthMode, GatewayConfig } from './types.ts';

export interface RouteClientAuthMode {
  name: string;
  mode: ClientAuthMode;
  /** Which key decided the mode. */
  from: 'route' | 'gateway';
  allowedSubjects: readonly string[];
  allowedSANs: readonly string[];
}

export interface EffectiveClientAuth {
  /** The mode of a route without its own `clientAuth`. */
  gatewayMode: ClientAuthMode;
  /** The HTTPS server asks every client for a certificate. */
  requestCert: boolean;
  /** The handshake itself fails without a valid certificate (every enabled route is `required`). */
  rejectAtHandshake: boolean;
  /** Enabled routes only, in file order. */
  routes: RouteClientAuthMode[];
}

/** Pure: once per config (the data plane: once per snapshot). */
export function effectiveClientAuth(config: Pick<GatewayConfig, 'gateway' | 'routes'>): EffectiveClientAuth {
  const gatewayAuth = config.gateway.tls.clientAuth;
  const gatewayMode: ClientAuthMode =
    gatewayAuth === null || gatewayAuth.clientCA === null ? 'off' : gatewayAuth.required ? 'required' : 'optional';
  const routes: RouteClientAuthMode[] = [];
  let anyRouteAuth = false;
  let anyLooser = false;
  for (const route of config.routes) {
    if (!route.enabled) continue;
    const own = route.clientAuth;
    const mode = own?.mode ?? gatewayMode;
    if (own !== null && own.mode !== 'off') anyRouteAuth = true;
    if (mode !== 'required') anyLooser = true;
    routes.push({
      name: route.name,
      mode,
      from: own === null ? 'gateway' : 'route',
      allowedSubjects: own?.allowedSubjects ?? [],
      allowedSANs: own?.allowedSANs ?? [],
    });
  }
  return {
    gatewayMode,
    requestCert: gatewayMode !== 'off' || anyRouteAuth,
    // A route that is optional or off must be reachable without a certificate, so then the
    // handshake lets everyone in and `required` is enforced per request instead.
    rejectAtHandshake: gatewayMode === 'required' && !anyLooser,
    routes,
  };
}

/** The lines `gatehouse validate` prints under its summary. */
export function formatClientAuthModes(config: Pick<GatewayConfig, 'gateway' | 'routes'>): string[] {
  const effective = effectiveClientAuth(config);
  const { web, webSecure } = config.gateway.entryPoints;
  const lines = ['client certificates (effective):'];
  if (webSecure !== null) {
    const handshake = !effective.requestCert
      ? 'not requested'
      : effective.rejectAtHandshake
        ? 'required at the handshake'
        : 'requested at the handshake, enforced per route';
    lines.push(`  listener webSecure ${webSecure.raw}: ${handshake}`);
  }
  if (web !== null) {
    const anyRequired = effective.routes.some((r) => r.mode === 'required');
    lines.push(
      `  listener web ${web.raw}: plain HTTP, no certificates${anyRequired ? '; routes that require one answer 401 here' : ''}`,
    );
  }
  const width = Math.max(0, ...effective.routes.map((r) => r.name.length));
  for (const route of effective.routes) {
    const lists: string[] = [];
    if (route.allowedSubjects.length > 0) lists.push(`subjects ${route.allowedSubjects.join(' | ')}`);
    if (route.allowedSANs.length > 0) lists.push(`SANs ${route.allowedSANs.join(' | ')}`);
    const from = route.from === 'route' ? 'route clientAuth' : 'gateway default';
    lines.push(
      `  route ${route.name.padEnd(width)}  ${route.mode.padEnd(8)} (${from})${lists.length > 0 ? `, ${lists.join(', ')}` : ''}`,
    );
  }
  return lines;
}
