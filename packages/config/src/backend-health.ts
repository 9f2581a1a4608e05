// The health of one backend of one route, as the primary's health checks and passive signals decide
// it and as the workers' balancers read it. Declared here because both sides import this package
// and neither may import the other (health runs in the primary, the dataplane in the workers).
// A subpath of its own (`@gatehouse/config/backend-health`) so that a worker loads nothing else.

export interface BackendHealth {
  /** Verdict of the active checks (always true for a route without `healthCheck`). */
  up: boolean;
  /** Passive ejection in force until this epoch ms (0 = none). Independent of `up`. */
  ejectedUntil: number;
}

/** The key of a backend in health tables and snapshots: route name and endpoint. */
export function backendKey(route: string, endpoint: string): string {
  return `${route} ${endpoint}`;
}
