// The worker's logger and the access log: one pino JSON line per request, written asynchronously
// (sonic-boom, `sync: false`) so a slow stdout never blocks the event loop. `format: pretty` uses
// pino-pretty, and only when stdout is a terminal; GATEHOUSE_LOG_FORMAT overrides the config.
import type { LogConfig } from '@gatehouse/config';
import pino from 'pino';
import { LineBatch, type LineSink } from './log-batch.ts';
import type { AccessLogFields } from './middleware/shaping/access-log-fields.ts';

export type Logger = pino.Logger;

/** A route or one of its backends: its `"route":…,"backend":…` part of the access line (accessLabels). */
export interface AccessLabelled {
  readonly accessLabels: string;
}

/** What one access-log line reports; filled in by the forwarder as the request goes. */
export interface AccessRecord {
  /** Never needs escaping: a client's id is passed on only when it does not (request/headers.ts). */
  requestId: string;
  routeName: string | null;
  backendEndpoint: string | null;
  /** The route and backend named by routeName and backendEndpoint, whose labels are escaped once. */
  route: AccessLabelled | null;
  backend: AccessLabelled | null;
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
  /** The middleware that answered instead of the backend. */
  deniedBy: string | null;
  /** The user or token subject a middleware authenticated. */
  authUser: string | null;
  /** Request headers, query parameters and cookies an accessLog middleware asked for. */
  logFields?: AccessLogFields | null;
}

export type LogFormat = 'json' | 'pretty';

/** On a JSON logger: the destination its access lines are written to directly (see writeAccessLine). */
const kAccessDestination = Symbol('gatehouse.accessDestination');
type FastLogger = Logger & { [kAccessDestination]?: { write(line: string): unknown } };
/** pino's numeric level of `info`: access lines are info lines. */
const INFO_LEVEL = 30;

export function effectiveFormat(configured: LogFormat): LogFormat {
  const env = process.env.GATEHOUSE_LOG_FORMAT;
  const format = env === 'json' || env === 'pretty' ? env : configured;
  return format === 'pretty' && process.stdout.isTTY !== true ? 'json' : format;
}

let destination: pino.DestinationStream | null = null;
let jsonLines: LineBatch | null = null;

/** Lines are gathered up to this many characters per write(2)... */
const LOG_BATCH_CHARS = 8192;
/** ...and written at least this often, so a quiet gateway's lines still appear promptly. */
const LOG_FLUSH_MS = 50;

function jsonDestination(): LineBatch {
  // One write(2) per batch of lines rather than per request: under load the access log costs a
  // fraction of a syscall per request. The batch (log-batch.ts) gathers; sonic-boom writes each
  // batch at once, asynchronously.
  if (jsonLines === null) {
    const sonic = pino.destination({ dest: 1, sync: false, minLength: 0, contentMode: 'buffer' });
    // In buffer mode sonic-boom's write takes the Buffer its types do not declare.
    jsonLines = new LineBatch(sonic as unknown as LineSink, LOG_BATCH_CHARS, LOG_FLUSH_MS);
    // pino flushes sonic-boom's buffer at exit; the lines still in the batch go first.
    process.once('exit', flushLogs);
  }
  return jsonLines;
}

async function prettyDestination(): Promise<pino.DestinationStream> {
  const { default: pretty } = await import('pino-pretty');
  return pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', sync: false });
}

/** Builds the worker's logger for a log config; call again when the format changes. */
export async function createLogger(log: LogConfig): Promise<{ logger: Logger; format: LogFormat }> {
  const format = effectiveFormat(log.format);
  const batch = format === 'json' ? jsonDestination() : null;
  destination = batch ?? (await prettyDestination());
  const logger = pino(
    {
      level: log.level,
      base: { pid: process.pid, role: 'worker' },
      formatters: { level: (label) => ({ level: label }) },
    },
    // The logger's own lines are events and go out at once; access lines are gathered (see log-batch.ts).
    batch === null ? destination : (batch.events as pino.DestinationStream),
  );
  if (batch !== null) (logger as FastLogger)[kAccessDestination] = batch;
  return { logger, format };
}

/** Writes everything buffered (before a worker exits). */
export function flushLogs(): void {
  try {
    jsonLines?.flushSync();
  } catch {
    // nothing buffered or stdout gone: there is no one left to tell
  }
}

/**
 * One access line. On a JSON logger it is built here as one string with the fields in a fixed order
 * (exactly what pino would write: level, time, pid, role, the fields, msg) and handed to the same
 * asynchronous batched destination: pino's generic serialiser walks and re-escapes an object per
 * request, which was most of the access log's cost. Values that come from the client or the config
 * are escaped (`jsonString`); the rest are numbers or fixed tokens. Other formats go through pino.
 */
export function writeAccessLine(logger: Logger, r: AccessRecord): void {
  const destination = (logger as FastLogger)[kAccessDestination];
  if (destination === undefined) {
    writeAccessLineWithPino(logger, r);
    return;
  }
  if (logger.levelVal > INFO_LEVEL) return;
  const labels = r.backend !== null ? r.backend.accessLabels : r.route !== null ? r.route.accessLabels : NO_ROUTE;
  let line = `{"level":"info","time":${Date.now()}${linePrefix}"reqId":"${r.requestId}",${labels},"method":${jsonString(
    r.method,
  )},"path":${jsonString(r.path)},"status":${r.status},"bytes":${r.bytes},"durationMs":${millisecondsJson(r.durationMs)}`;
  if (r.tlsVersion !== null) line += `,"tls":${jsonString(r.tlsVersion)}`;
  if (r.tlsResumed !== null) line += r.tlsResumed ? ',"resumed":true' : ',"resumed":false';
  if (r.clientSubject !== null) line += `,"clientSubject":${jsonString(r.clientSubject)}`;
  if (r.upstreamConnectMs >= 0) line += `,"upstreamConnectMs":${millisecondsJson(r.upstreamConnectMs)}`;
  if (r.upstreamResponseMs >= 0) line += `,"upstreamResponseMs":${millisecondsJson(r.upstreamResponseMs)}`;
  line += `,"retries":${r.retries}`;
  if (r.errorCode !== null) line += `,"error":${jsonString(r.errorCode)}`;
  if (r.deniedBy !== null) line += `,"middleware":${jsonString(r.deniedBy)}`;
  if (r.authUser !== null) line += `,"user":${jsonString(r.authUser)}`;
  if (r.clientAborted) line += ',"aborted":true';
  if (r.logFields != null) line += logFieldsJson(r.logFields);
  destination.write(`${line},"msg":"request"}\n`);
}

/** `,"pid":N,"role":"worker",`: the logger's base bindings, fixed for the life of the process. */
const linePrefix = `,"pid":${process.pid},"role":"worker",`;

/** `"route":…,"backend":…` of the access line, for a route (backend null) or one of its backends. */
export function accessLabels(route: string, backend: string | null): string {
  return `"route":${jsonString(route)},"backend":${backend === null ? 'null' : jsonString(backend)}`;
}
/** The labels of a request that matched no route. */
const NO_ROUTE = '"route":null,"backend":null';

/** Above this many microseconds (31 years) the text comes from the number itself. */
const MAX_EXACT_MICROSECONDS = 1e15;

/**
 * Milliseconds rounded to the microsecond, as JSON number text: exactly String(Math.round(ms * 1000)
 * / 1000), written from the integer count of microseconds, which is cheaper than turning a fraction
 * into its shortest decimal form. (Below 1e15 µs that form is the count with the point moved three
 * places and trailing zeros dropped: a double holds 15 significant digits exactly.)
 */
export function millisecondsJson(ms: number): string {
  const us = Math.round(ms * 1000);
  if (!(us >= 0 && us < MAX_EXACT_MICROSECONDS)) return String(us / 1000);
  const whole = Math.floor(us / 1000);
  const fraction = us - whole * 1000;
  if (fraction === 0) return `${whole}`;
  if (fraction % 100 === 0) return `${whole}.${fraction / 100}`;
  if (fraction % 10 === 0) return `${whole}.${fraction < 100 ? '0' : ''}${fraction / 10}`;
  return `${whole}.${fraction < 10 ? '00' : fraction < 100 ? '0' : ''}${fraction}`;
}

/** A JSON string literal; a plain scan first, because nearly every value needs no escaping. */
export function jsonString(value: string): string {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 32 || c === 34 || c === 92 || c >= 127) return JSON.stringify(value);
  }
  return `"${value}"`;
}

/** The same line through pino (pretty format, or a logger built elsewhere). */
function writeAccessLineWithPino(logger: Logger, r: AccessRecord): void {
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
      middleware: r.deniedBy ?? undefined,
      user: r.authUser ?? undefined,
      aborted: r.clientAborted ? true : undefined,
      ...(r.logFields ?? {}),
    },
    'request',
  );
}

/** `,"headers":{...},"query":{...},"cookies":{...}` for the fields an accessLog middleware set. */
function logFieldsJson(f: AccessLogFields): string {
  let out = '';
  if (f.headers !== undefined) out += `,"headers":${JSON.stringify(f.headers)}`;
  if (f.query !== undefined) out += `,"query":${JSON.stringify(f.query)}`;
  if (f.cookies !== undefined) out += `,"cookies":${JSON.stringify(f.cookies)}`;
  return out;
}
