// How `gatehouse reload|restart|status` reach a running instance: its admin unix socket or admin
// TCP address, named on the command line or read from the config file; and, when neither answers,
// its pid file for a plain signal. Only the client side of admin-server.ts. The admin token comes
// from --token-file, else $GATEHOUSE_ADMIN_TOKEN, else the config file's `gateway.admin.token`.
import { readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { expandEnv, parseConfig } from '@gatehouse/config';
import { parse as parseYaml } from 'yaml';
import { ControlError, errorMessage } from './errors.ts';

export const DEFAULT_CONFIG_FILE = '/etc/gatehouse/gatehouse.yaml';

export type AdminEndpoint = { kind: 'socket'; path: string } | { kind: 'tcp'; host: string; port: number };

export interface AdminLocation {
  /** Tried in order until one answers. */
  endpoints: AdminEndpoint[];
  /** For the signal fallback. */
  pidFile: string | null;
  /** Sent as `Authorization: Bearer`; null: none known. */
  token: string | null;
  /** Where the settings came from, for messages: `--socket`, `config /etc/gatehouse/gatehouse.yaml`. */
  source: string;
}

export interface LocateOptions {
  socket?: string | null;
  admin?: string | null;
  config?: string | null;
  /** A file that holds the admin token (its first line). */
  tokenFile?: string | null;
  env?: NodeJS.ProcessEnv;
}

export interface AdminResponse {
  status: number;
  contentType: string;
  text: string;
  endpoint: AdminEndpoint;
}

export function describeEndpoint(endpoint: AdminEndpoint): string {
  if (endpoint.kind === 'socket') return `unix:${endpoint.path}`;
  return endpoint.host.includes(':') ? `[${endpoint.host}]:${endpoint.port}` : `${endpoint.host}:${endpoint.port}`;
}

/**
 * An admin address as written in the config or on the command line (`127.0.0.1:9180`, `[::1]:9180`,
 * `:9180`, `localhost:9180`) as a place to connect to. A wildcard host (all interfaces) is reached on
 * loopback.
 */
export function parseAdminAddress(raw: string): AdminEndpoint {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(raw.trim());
  const port = match ? Number(match[3]) : Number.NaN;
  if (!match || !(port > 0 && port < 65536)) {
    throw new ControlError(
      'GH_ADMIN_ADDRESS',
      `"${raw}" is not an admin address; write host:port, e.g. 127.0.0.1:9180`,
    );
  }
  let host = match[1] ?? match[2] ?? '';
  if (host === '' || host === '0.0.0.0' || host === '*') host = '127.0.0.1';
  if (host === '::') host = '::1';
  return { kind: 'tcp', host, port };
}

interface RawAdmin {
  address: string | null;
  socket: string | null;
  pidFile: string | null;
  token: string | null;
}

/**
 * The admin settings of a config file. A file that no longer validates (the operator is about to
 * reload a broken edit) still names the running instance's socket, so its `gateway.admin` block is
 * then read as plain YAML.
 */
async function adminFromConfig(file: string, env: NodeJS.ProcessEnv): Promise<RawAdmin> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ControlError(
      'GH_CONFIG_UNREADABLE',
      `cannot read config file ${file} to find the running gateway (${errorMessage(error)}); pass --socket PATH or --admin HOST:PORT`,
    );
  }
  // Relative paths are relative to the config file, as for certificate files.
  const relative = (p: string | null) => (p === null ? null : resolve(dirname(file), p));
  const loaded = parseConfig(text, file, env);
  if (loaded.ok) {
    const admin = loaded.config.gateway.admin;
    return {
      address: admin.address?.raw ?? null,
      socket: relative(admin.socket),
      pidFile: relative(admin.pidFile),
      token: admin.token,
    };
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch {
    raw = null;
  }
  const section = (raw as { gateway?: { admin?: Record<string, unknown> } } | null)?.gateway?.admin ?? {};
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);
  const token = str(section.token);
  const expanded = token === null ? null : expandEnv(token, env);
  return {
    address: str(section.address),
    socket: relative(str(section.socket)),
    pidFile: relative(str(section.pidFile)),
    token: expanded?.ok ? expanded.value || null : null,
  };
}

async function tokenFromFile(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ControlError('GH_ADMIN_TOKEN', `cannot read the admin token file ${file}: ${errorMessage(error)}`);
  }
  const token = text.split('\n')[0]!.trim();
  if (token === '') throw new ControlError('GH_ADMIN_TOKEN', `the admin token file ${file} is empty`);
  return token;
}

export async function locateAdmin(opts: LocateOptions): Promise<AdminLocation> {
  const env = opts.env ?? process.env;
  const given = opts.tokenFile ? await tokenFromFile(opts.tokenFile) : env.GATEHOUSE_ADMIN_TOKEN || null;
  if (opts.socket) {
    return {
      endpoints: [{ kind: 'socket', path: resolve(opts.socket) }],
      pidFile: null,
      token: given,
      source: '--socket',
    };
  }
  if (opts.admin) return { endpoints: [parseAdminAddress(opts.admin)], pidFile: null, token: given, source: '--admin' };
  const file = resolve(opts.config ?? env.GATEHOUSE_CONFIG ?? DEFAULT_CONFIG_FILE);
  const admin = await adminFromConfig(file, env);
  const endpoints: AdminEndpoint[] = [];
  if (admin.socket) endpoints.push({ kind: 'socket', path: admin.socket });
  if (admin.address) endpoints.push(parseAdminAddress(admin.address));
  return { endpoints, pidFile: admin.pidFile, token: given ?? admin.token, source: `config ${file}` };
}

/** Errors that mean "nobody is there", as opposed to a gateway that answered badly. */
function isUnreachable(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'EACCES' || code === 'ENOTSOCK';
}

export function adminRequest(
  endpoint: AdminEndpoint,
  method: string,
  path: string,
  timeoutMs: number,
  token: string | null = null,
): Promise<AdminResponse> {
  return new Promise((resolvePromise, reject) => {
    const target =
      endpoint.kind === 'socket' ? { socketPath: endpoint.path } : { host: endpoint.host, port: endpoint.port };
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token !== null) headers.authorization = `Bearer ${token}`;
    const req = request({ ...target, method, path, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () =>
        resolvePromise({
          status: res.statusCode ?? 0,
          contentType: String(res.headers['content-type'] ?? ''),
          text,
          endpoint,
        }),
      );
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => {
      req.destroy(
        new ControlError(
          'GH_ADMIN_TIMEOUT',
          `${method} ${path} on ${describeEndpoint(endpoint)} did not answer within ${timeoutMs} ms`,
        ),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

/** Thrown when the gateway asks for the admin token: a wrong or missing token is not "unreachable". */
export class AdminUnauthorizedError extends ControlError {
  constructor(endpoint: AdminEndpoint, tokenSent: boolean, answer: string) {
    super(
      'GH_ADMIN_UNAUTHORIZED',
      `${describeEndpoint(endpoint)} refused the request (HTTP 401: ${answer}); ${
        tokenSent
          ? "the token sent is not the gateway's gateway.admin.token"
          : 'it has a gateway.admin.token: pass --token-file FILE, set GATEHOUSE_ADMIN_TOKEN, or name the config file with -c'
      }`,
    );
  }
}

/**
 * Sends the request to the first endpoint that is there; throws GH_ADMIN_UNREACHABLE when none is,
 * and AdminUnauthorizedError when the gateway wants a token that was not sent or is wrong.
 */
export async function callAdmin(
  location: AdminLocation,
  method: string,
  path: string,
  timeoutMs: number,
): Promise<AdminResponse> {
  const failures: string[] = [];
  for (const endpoint of location.endpoints) {
    try {
      const response = await adminRequest(endpoint, method, path, timeoutMs, location.token);
      if (response.status === 401) {
        let answer = response.text.trim();
        try {
          answer = (JSON.parse(response.text) as { error?: string }).error ?? answer;
        } catch {
          // not JSON: quote it as it is
        }
        throw new AdminUnauthorizedError(endpoint, location.token !== null, answer.slice(0, 200));
      }
      return response;
    } catch (error) {
      if (!isUnreachable(error)) throw error;
      failures.push(`${describeEndpoint(endpoint)}: ${errorMessage(error)}`);
    }
  }
  const tried = failures.length > 0 ? failures.join('; ') : 'no admin socket or address is configured';
  throw new ControlError('GH_ADMIN_UNREACHABLE', `no running gateway answered (${location.source}): ${tried}`);
}

/** The admin answer, or, when no endpoint answered and a pid file is known, the signal sent instead. */
export type AdminOrSignal =
  | { response: AdminResponse; signalled: null }
  | { response: null; signalled: { pid: number; pidFile: string; reason: string } };

/** POSTs to the admin endpoint; without one that answers, falls back to `signal` through the pid file. */
export async function postAdminOrSignal(
  location: AdminLocation,
  path: string,
  timeoutMs: number,
  signal: NodeJS.Signals,
): Promise<AdminOrSignal> {
  try {
    return { response: await callAdmin(location, 'POST', path, timeoutMs), signalled: null };
  } catch (error) {
    // A gateway that answered "unauthorized" is there: signalling it behind its back would hide that.
    if (!location.pidFile || error instanceof AdminUnauthorizedError) throw error;
    const pid = await signalPidFile(location.pidFile, signal);
    return { response: null, signalled: { pid, pidFile: location.pidFile, reason: errorMessage(error) } };
  }
}

/** Signals the process named in `pidFile`; returns its pid. */
export async function signalPidFile(pidFile: string, signal: NodeJS.Signals): Promise<number> {
  let text: string;
  try {
    text = await readFile(pidFile, 'utf8');
  } catch (error) {
    throw new ControlError('GH_ADMIN_UNREACHABLE', `cannot read pid file ${pidFile}: ${errorMessage(error)}`);
  }
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid <= 0) {
    throw new ControlError('GH_ADMIN_UNREACHABLE', `pid file ${pidFile} does not hold a pid ("${text.trim()}")`);
  }
  try {
    process.kill(pid, signal);
  } catch (error) {
    throw new ControlError('GH_ADMIN_UNREACHABLE', `cannot signal pid ${pid} from ${pidFile}: ${errorMessage(error)}`);
  }
  return pid;
}

/** Parses an admin JSON answer; a non-JSON answer is an error that quotes it. */
export function adminJson<T>(response: AdminResponse): T {
  try {
    return JSON.parse(response.text) as T;
  } catch {
    throw new ControlError(
      'GH_ADMIN_RESPONSE',
      `unexpected answer from ${describeEndpoint(response.endpoint)} (HTTP ${response.status}): ${response.text.slice(0, 200)}`,
    );
  }
}

/** The options every admin command shares, for its usage text. */
export const ADMIN_TARGET_USAGE = `  -c, --config FILE    find the admin socket, address and pid file in this config
                       (default: $GATEHOUSE_CONFIG, else ${DEFAULT_CONFIG_FILE})
      --socket PATH    the admin unix socket of the running gateway
      --admin ADDR     the admin address (host:port) of the running gateway
      --token-file F   the admin token (gateway.admin.token) is the first line of F
                       (default: $GATEHOUSE_ADMIN_TOKEN, else the config file's)
      --timeout MS     how long to wait for the answer`;

export interface AdminCommandArgs extends LocateOptions {
  json: boolean;
  timeoutMs: number;
}

/** Parses the shared admin-command options; throws GH_USAGE with a one-line reason. */
export function parseAdminArgs(argv: string[], defaults: { timeoutMs: number; json?: boolean }): AdminCommandArgs {
  const { values } = parseArgs({
    args: argv,
    allowPositionals: false,
    strict: true,
    options: {
      config: { type: 'string', short: 'c' },
      socket: { type: 'string' },
      admin: { type: 'string' },
      'token-file': { type: 'string' },
      timeout: { type: 'string' },
      ...(defaults.json === undefined ? {} : { json: { type: 'boolean' } }),
    },
  });
  const timeoutMs = values.timeout === undefined ? defaults.timeoutMs : Number(values.timeout);
  if (!(timeoutMs > 0)) throw new ControlError('GH_USAGE', `--timeout wants milliseconds, got "${values.timeout}"`);
  return {
    config: values.config ?? null,
    socket: values.socket ?? null,
    admin: values.admin ?? null,
    tokenFile: values['token-file'] ?? null,
    json: values.json === true,
    timeoutMs,
  };
}
