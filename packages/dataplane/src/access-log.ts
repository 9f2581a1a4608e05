// The worker's logger and the access log: one pino JSON line per request, written asynchronously
// (sonic-boom, `sync: false`) so a slow stdout never blocks the event loop. `format: pretty` uses
// pino-pretty, and only when stdout is a terminal; GATEHOUSE_LOG_FORMAT overrides the config.
import type { LogConfig } from '@gatehouse/config';
import pino from 'pino';

export type Logger = pino.Logger;

/** What one access-log line reports; filled in by the forwarder as the request goes. */
export interface AccessRecord {
  requestId: string;
  routeName: string | null;
  backendEndpoint: string | null;
  method: string;
  path: string;
  status: number;
  bytes: number;
  durationMs: number;
  tlsVersion: string | null;
  tlsResumed: boolean | null;
  clientSubject: string | null;
  upstreamConnectMs: number;
  upstreamResponseMs: number;
  retries: number;
  errorCode: string | null;
  clientAborted: boolean;
}

export type LogFormat = 'json' | 'pretty';

export function effectiveFormat(configured: LogFormat): LogFormat {
  const env = process.env.GATEHOUSE_LOG_FORMAT;
  const format = env === 'json' || env === 'pretty' ? env : configured;
  return format === 'pretty' && process.stdout.isTTY !== true ? 'json' : format;
}

let destination: pino.DestinationStream | null = null;
let asyncDestination: ReturnType<typeof pino.destination> | null = null;

/** Lines are gathered up to this many bytes per write(2)... */
const LOG_BATCH_BYTES = 8192;
/** ...and written at least this often, so a quiet gateway's lines still appear promptly. */
const LOG_FLUSH_MS = 50;

function jsonDestination(): pino.DestinationStream {
  // One write(2) per batch of lines rather than per request: under load the access log costs a
  // fraction of a syscall per request.
  if (asyncDestination === null) {
    asyncDestination = pino.destination({
      dest: 1,
      sync: false,
      minLength: LOG_BATCH_BYTES,
      periodicFlush: LOG_FLUSH_MS,
    } as Parameters<typeof pino.destination>[0]);
  }
  return asyncDestination;
}

async function prettyDestination(): Promise<pino.DestinationStream> {
  const { default: pretty } = await import('pino-pretty');
  return pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', sync: false });
}

/** Builds the worker's logger for a log config; call again when the format changes. */
export async function createLogger(log: LogConfig): Promise<{ logger: Logger; format: LogFormat }> {
  const format = effectiveFormat(log.format);
  destination = format === 'pretty' ? await prettyDestination() : jsonDestination();
  const logger = pino(
    {
      level: log.level,
      base: { pid: process.pid, role: 'worker' },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
  return { logger, format };
}

/** Writes everything buffered (before a worker exits). */
export function flushLogs(): void {
  try {
    asyncDestination?.flushSync();
  } catch {
    // nothing buffered or stdout gone: there is no one left to tell
  }
}

/** One access line. The object literal is the line itself: pino serialises it once. */
export function writeAccessLine(logger: Logger, r: AccessRecord): void {
  logger.info(
    {
      reqId: r.requestId,
      route: r.routeName,
      backend: r.backendEndpoint,
      method: r.method,
      path: r.path,
      status: r.status,
      bytes: r.bytes,
      durationMs: Math.round(r.durationMs * 1000) / 1000,
      tls: r.tlsVersion ?? undefined,
      resumed: r.tlsResumed ?? undefined,
      clientSubject: r.clientSubject ?? undefined,
      upstreamConnectMs: r.upstreamConnectMs >= 0 ? Math.round(r.upstreamConnectMs * 1000) / 1000 : undefined,
      upstreamResponseMs: r.upstreamResponseMs >= 0 ? Math.round(r.upstreamResponseMs * 1000) / 1000 : undefined,
      retries: r.retries,
      error: r.errorCode ?? undefined,
      aborted: r.clientAborted ? true : undefined,
    },
    'request',
  );
}
