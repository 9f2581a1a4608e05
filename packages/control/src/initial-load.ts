// The start-up load, before any logger or worker exists: generation 1 from the config file, with a
// fresh session-ticket key. `gatehouse run` prints its diagnostics and exits when it is rejected.
import type { ConfigDiagnostic } from '@gatehouse/config';
import { generateTicketKeys } from '@gatehouse/pki';
import { buildCandidate, type Candidate } from './snapshot.ts';
import { newTicketKeyRing, type TicketKeyRing, wireTicketKeys } from './ticket-keys.ts';

export type InitialLoad =
  | { ok: true; candidate: Candidate; tickets: TicketKeyRing }
  | { ok: false; errors: ConfigDiagnostic[]; warnings: ConfigDiagnostic[] };

export async function loadInitial(configFile: string, env: NodeJS.ProcessEnv): Promise<InitialLoad> {
  const tickets = newTicketKeyRing(generateTicketKeys());
  const result = await buildCandidate({
    configFile,
    env,
    currentHash: null,
    generation: 1,
    ticketKeys: wireTicketKeys(tickets),
    health: {},
    now: Date.now(),
  });
  if (result.kind === 'rejected') return { ok: false, errors: result.errors, warnings: result.warnings };
  if (result.kind === 'unchanged') throw new Error('unreachable: no current hash at start');
  return { ok: true, candidate: result, tickets };
}
