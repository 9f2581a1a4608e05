// acme-client talks through one shared axios instance. Two things are set on it once per process:
// the CA each ACME server's TLS is checked against (`acme.caBundle`, by the directory's origin), and
// a note of the last Retry-After each server sent, so that our own backoff respects rate limits.
// acme-client's own retries are cut to one short one: the manager's backoff does the waiting, in
// the background, instead of a request that hangs for a minute.
import { Agent } from 'node:https';
import { rootCertificates } from 'node:tls';
import * as acme from 'acme-client';
import { parseRetryAfter } from './renewal.ts';

interface AcmeAxiosDefaults {
  acmeSettings: { retryMaxAttempts: number; retryDefaultDelay: number };
}

/** One request to the ACME server (acme-client polls for validation with its own short requests). */
export const REQUEST_TIMEOUT_MS = 30_000;

const agents = new Map<string, Agent>();
const retryAfter = new Map<string, number>();
const transportErrors = new Map<string, string>();

interface ResponseHandler {
  fulfilled: (value: unknown) => unknown;
  rejected: (error: unknown) => unknown;
  synchronous: boolean;
  runWhen: null;
}
let installed = false;

function originOf(url: string | undefined): string {
  try {
    return new URL(url ?? '').origin;
  } catch {
    return '';
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  (acme.axios.defaults as unknown as AcmeAxiosDefaults).acmeSettings.retryMaxAttempts = 1;
  (acme.axios.defaults as unknown as AcmeAxiosDefaults).acmeSettings.retryDefaultDelay = 1;
  // axios waits forever by default: a server that accepts and never answers would hold the
  // provider's order queue, and with it every name of that provider.
  acme.axios.defaults.timeout = REQUEST_TIMEOUT_MS;
  acme.axios.interceptors.request.use((config) => {
    const agent = agents.get(originOf(config.url));
    if (agent) config.httpsAgent = agent;
    return config;
  });
  acme.axios.interceptors.response.use((response) => {
    if (response.status === 429 || response.status === 503) {
      const header = response.headers['retry-after'] as string | undefined;
      const ms = parseRetryAfter(header, Date.now());
      if (ms !== null) retryAfter.set(originOf(response.config.url), ms);
    }
    return response;
  });
  // acme-client 5.4 cannot report a connection that fails for good: its retry handler then reads
  // `config` of a response that never came and throws a TypeError instead. A handler placed in
  // front of it (axios runs `handlers` in order) notes what really happened.
  const handlers = (acme.axios.interceptors.response as unknown as { handlers: ResponseHandler[] }).handlers;
  handlers.unshift({
    fulfilled: (value) => value,
    rejected: (error) => {
      const failure = error as { response?: unknown; code?: string; message?: string; config?: { url?: string } };
      if (failure.response === undefined) {
        transportErrors.set(originOf(failure.config?.url), [failure.code, failure.message].filter(Boolean).join(': '));
      }
      return Promise.reject(error);
    },
    synchronous: false,
    runWhen: null,
  });
}

/** The ACME server at `directoryUrl` is checked against the system roots plus `caPem`. */
export function trustFor(directoryUrl: string, caPem: string | null): void {
  install();
  const origin = originOf(directoryUrl);
  agents.get(origin)?.destroy();
  if (caPem === null) agents.delete(origin);
  else agents.set(origin, new Agent({ ca: [...rootCertificates, caPem], keepAlive: true }));
}

/** The Retry-After the server at `directoryUrl` last asked for (ms), once; null when none. */
export function takeRetryAfter(directoryUrl: string): number | null {
  const origin = originOf(directoryUrl);
  const ms = retryAfter.get(origin) ?? null;
  retryAfter.delete(origin);
  return ms;
}

/**
 * What went wrong, in words an operator can act on: the network error behind acme-client's
 * TypeError when the server could not be reached, else the error's own message (for an ACME
 * problem document, the server's `detail`).
 */
export function failureDetail(error: unknown, directoryUrl: string): string {
  const origin = originOf(directoryUrl);
  const transport = transportErrors.get(origin);
  transportErrors.delete(origin);
  if (error instanceof TypeError && transport) return `cannot reach ${origin}: ${transport}`;
  return error instanceof Error ? error.message : String(error);
}
