// One HTTP(S) request from a test to a listener on loopback (or a unix socket), read to the end:
// status, headers and body as text. Each call opens its own connection unless given an agent, so
// consecutive requests may land on any worker. HTTP/2 is in h2-client.ts.
import { type Agent, type IncomingHttpHeaders, type IncomingMessage, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface CallOptions {
  port?: number;
  /** A unix socket instead of 127.0.0.1:`port`. */
  socketPath?: string;
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /**
   * The gateway may refuse the body while it is still being sent (over a size limit) and answer
   * anyway: a broken pipe or a reset on the request side is then not an error.
   */
  bodyMayBeCut?: boolean;
  /** A keep-alive agent to reuse connections; by default a fresh connection (`agent: false`). */
  agent?: Agent | false;
  localAddress?: string;
  /** Speak HTTPS, trusting `ca` and sending `servername` as SNI. */
  https?: { ca: string; servername: string };
  /** A request that takes longer fails with an error naming its path. */
  timeoutMs?: number;
}

export function call(options: CallOptions): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const common = {
      method: options.method ?? 'GET',
      path: options.path,
      headers: options.headers,
      agent: options.agent ?? false,
      ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
      ...(options.socketPath === undefined
        ? { host: '127.0.0.1', port: options.port }
        : { socketPath: options.socketPath }),
    };
    const onResponse = (res: IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    };
    const req = options.https
      ? httpsRequest({ ...common, ca: options.https.ca, servername: options.https.servername }, onResponse)
      : httpRequest(common, onResponse);
    const timeoutMs = options.timeoutMs ?? 15_000;
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${common.method} ${options.path} timed out`)));
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (options.bodyMayBeCut && (error.code === 'EPIPE' || error.code === 'ECONNRESET')) return;
      reject(error);
    });
    req.end(options.body);
  });
}

/** GET `path` from 127.0.0.1:`port` on a fresh connection. */
export function get(port: number, path: string, headers: Record<string, string> = {}): Promise<Reply> {
  return call({ port, path, headers });
}
