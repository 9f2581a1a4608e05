// The health of one backend as it travels to the workers. Structurally identical to
// `BackendHealth` and `backendKey` in @gatehouse/dataplane's messages.ts: health may not import the
// data plane (see DESIGN.md), so the shape is repeated here and the primary passes it through.

export interface BackendHealth {
  /** Verdict of the active checks (always true for a route without `healthCheck`). */
  up: boolean;
  /** Passive ejection in force until this epoch ms (0 = none). Independent of `up`. */
  ejectedUntil: number;
}

export function backendKey(route: string, endpoint: string): string {
  return `${route} ${endpoint}`;
}
