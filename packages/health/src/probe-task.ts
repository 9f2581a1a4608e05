// One active health probe, run inside the scheduler's piscina pool (a worker thread of the
// primary, never a data-plane worker). A GET to the backend's health path with the route's own
// outbound TLS identity, so that a backend that insists on a client certificate can be checked.
// A fresh connection every time (`agent: false`, `Connection: close`): a probe must see what a
// new connection would see, not a pooled socket that happened to survive.
//
// Never throws and never hangs: every outcome, a refused connection, a bad certificate or a
// backend that accepts and stays silent, becomes a failed result with the reason in words,
// within `timeoutMs`.
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { ResolvedUpstreamTls } from '@gatehouse/pki';
import { describeStatusRanges, isHealthyStatus, type ProbeResult } from './state.ts';

/** The documented default when a health check gives no timeout. */
export const DEFAULT_PROBE_TIMEOUT_MS = 5_000;

/** A health body is read (so the backend can finish cleanly) up to this many bytes, then dropped. */
const MAX_BODY_BYTES = 64 * 1024;

export type ProbeTls = Pick<ResolvedUpstreamTls, 'ca' | 'cert' | 'key' | 'servername' | 'rejectUnauthorized'>;

/** Plain data: it is structured-cloned into the pool's thread. */
export interface ProbeTask {
  protocol: 'http:' | 'https:';
  hostname: string;
  port: number;
  /** Path and query to GET, already joined with the backend's base path. */
  path: string;
  timeoutMs: number;
  healthyStatuses: Array<[number, number]>;
  /** The route's outbound TLS; null = defaults (system roots, verify, SNI = hostname). */
  tls: ProbeTls | null;
}

export default function probe(task: ProbeTask): Promise<ProbeResult> {
  return new Promise<ProbeResult>((resolve) => {
    const at = Date.now();
    const started = performance.now();
    const timeoutMs = task.timeoutMs > 0 ? task.timeoutMs : DEFAULT_PROBE_TIMEOUT_MS;
    let status: number | null = null;
    let latencyMs: number | null = null;
    let settled = false;

    const judged = (): ProbeResult => {
      if (status !== null && isHealthyStatus(status, task.healthyStatuses)) {
        return { ok: true, status, latencyMs, error: null, at };
      }
      const error =
        status === null
          ? 'no response'
          : `status ${status} is not healthy (healthy: ${describeStatusRanges(task.healthyStatuses)})`;
      return { ok: false, status, latencyMs, error, at };
    };
    const failed = (error: string): ProbeResult => ({ ok: false, status: null, latencyMs: null, error, at });

    let req: ReturnType<typeof httpRequest> | null = null;
    const finish = (result: ProbeResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req?.destroy();
      resolve(result);
    };
    // Once the status is known the verdict is too; a body that never ends does not fail a probe.
    const timer = setTimeout(
      () => finish(status !== null ? judged() : failed(`timeout after ${timeoutMs} ms`)),
      timeoutMs,
    );

    const onResponse = (res: IncomingMessage): void => {
      status = res.statusCode ?? null;
      latencyMs = Math.round((performance.now() - started) * 100) / 100;
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > MAX_BODY_BYTES) finish(judged());
      });
      res.on('end', () => finish(judged()));
      res.on('error', () => finish(judged()));
      res.on('close', () => finish(judged()));
    };

    try {
      const options: RequestOptions & Record<string, unknown> = {
        method: 'GET',
        hostname: task.hostname,
        port: task.port,
        path: task.path,
        agent: false,
        headers: { 'user-agent': 'gatehouse-health-check', accept: '*/*', connection: 'close' },
      };
      if (task.protocol === 'https:') {
        const tls = task.tls;
        const servername = tls?.servername ?? (isIP(task.hostname) === 0 ? task.hostname : undefined);
        if (servername !== undefined) options.servername = servername;
        options.rejectUnauthorized = tls?.rejectUnauthorized ?? true;
        if (tls?.ca) options.ca = tls.ca;
        if (tls?.cert) options.cert = tls.cert;
        if (tls?.key) options.key = tls.key;
        req = httpsRequest(options, onResponse);
      } else {
        req = httpRequest(options, onResponse);
      }
      req.on('error', (error) => finish(status !== null ? judged() : failed(describeProbeError(error, task))));
      req.end();
    } catch (error) {
      finish(failed(`probe could not start: ${(error as Error).message}`));
    }
  });
}

const UNTRUSTED = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);

/** A socket or TLS error in words an operator can act on. */
export function describeProbeError(error: Error, task: Pick<ProbeTask, 'hostname' | 'port' | 'tls'>): string {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
      return error.message === 'socket hang up' ? 'connection closed before a response' : 'connection reset';
    case 'EPIPE':
      return 'connection reset';
    case 'ETIMEDOUT':
      return 'connect timeout';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `host not found: ${task.hostname}`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable';
    case 'CERT_HAS_EXPIRED':
      return 'upstream certificate expired';
    case 'CERT_NOT_YET_VALID':
      return 'upstream certificate not yet valid';
    case 'CERT_REVOKED':
      return 'upstream certificate revoked';
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `upstream certificate does not match ${task.tls?.servername ?? task.hostname}`;
  }
  if (UNTRUSTED.has(code)) return `upstream certificate not trusted (${code})`;
  if (code.startsWith('ERR_SSL_') || code === 'EPROTO') {
    // OpenSSL says it in its own words: `...:SSL routines:<function>:<reason>:<file>:<line>:`.
    const reason = (/SSL routines:[^:]*:([^:]+):/.exec(error.message)?.[1] ?? code).toLowerCase();
    const tag = `${code} ${reason}`.toLowerCase().replaceAll('_', ' ');
    if (tag.includes('certificate required')) return 'backend requires a client certificate';
    if (tag.includes('bad certificate') || tag.includes('unknown ca') || tag.includes('certificate unknown')) {
      return 'backend rejected the client certificate';
    }
    if (tag.includes('wrong version number') || tag.includes('packet length too long')) {
      return 'TLS handshake failed: the backend does not speak TLS on this port';
    }
    return `TLS handshake failed: ${reason}`;
  }
  return code ? `${error.message} (${code})` : error.message;
}
