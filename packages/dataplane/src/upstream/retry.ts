// When a failed upstream attempt may be sent again to another backend. Only idempotent requests
// without a body are retried, and only before any response byte reached the client.
import { ERROR_KINDS, type ErrorKind } from '../errors.ts';
import type { CompiledRoute } from '../generation.ts';

export function isIdempotent(method: string): boolean {
  return method === 'GET' || method === 'HEAD' || method === 'OPTIONS' || method === 'PUT' || method === 'DELETE';
}

/** The slice of a request's progress the decision reads. */
export interface RetryProgress {
  readonly retryable: boolean;
  readonly responded: boolean;
  readonly retries: number;
  readonly route: CompiledRoute | null;
}

/** Pure: retry after `kind`? `headersSent`: the client already has a response head. */
export function shouldRetry(attempt: RetryProgress, kind: ErrorKind, headersSent: boolean): boolean {
  const route = attempt.route;
  if (route === null || !attempt.retryable || attempt.responded || headersSent) return false;
  if (attempt.retries >= route.retryAttempts) return false;
  if (kind === ERROR_KINDS.upstreamConnect || kind === ERROR_KINDS.upstreamConnectTimeout) return route.retryOnConnect;
  // A reset before any response byte is safe to retry whether the socket was fresh or reused
  // (nginx's proxy_next_upstream error, Envoy's reset).
  if (kind === ERROR_KINDS.upstreamReset) return route.retryOnReset;
  return false;
}
