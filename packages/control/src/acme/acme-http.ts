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

const agents = new Map<string, Agent>();
const retryAfter = new Map<string, number>();
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
