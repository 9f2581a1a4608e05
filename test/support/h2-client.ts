// The test side of HTTP/2: a localhost server certificate from a CA made for the test, and one
// request over a fresh node:http2 session against the gateway's TLS listener, read to the end (h2Reply).
import { once } from 'node:events';
import http2 from 'node:http2';
import { type CaHandle, createCa, issueCertificate, type LeafHandle } from '@gatehouse/pki';

/** A CA and a server certificate for `localhost`, 127.0.0.1 and `names`, written under `dir`. */
export async function localhostCertificate(
  dir: string,
  names: string[],
): Promise<{ root: CaHandle; server: LeafHandle }> {
  const root = await createCa(dir, { name: 'root' });
  const server = await issueCertificate(root, {
    name: 'server',
    cn: 'localhost',
    dns: ['localhost', ...names],
    ips: ['127.0.0.1'],
    usage: 'server',
  });
  return { root, server };
}

export interface H2Answer {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: string;
}

export interface H2Request {
  /** The TLS server name (and the name in the session's URL); `localhost` when not given. */
  servername?: string;
  authority: string;
  path: string;
  /** Request fields; `:method` defaults to GET. */
  headers?: Record<string, string>;
  body?: string;
}

/** One request on its own session to the TLS listener on `port`, trusting `ca`. */
export async function h2Request(port: number, ca: string, request: H2Request): Promise<H2Answer> {
  const servername = request.servername ?? 'localhost';
  const session = http2.connect(`https://${servername}:${port}`, {
    ca,
    servername,
    host: '127.0.0.1',
  } as http2.SecureClientSessionOptions);
  session.on('error', () => {});
  try {
    const stream = session.request({ ':path': request.path, ':authority': request.authority, ...request.headers });
    stream.end(request.body);
    const { headers, body } = await h2Reply(stream);
    return { status: Number(headers[':status']), headers, body };
  } finally {
    session.close();
  }
}

/** The response headers and the whole body (as text) of a stream whose request was sent. */
export async function h2Reply(
  stream: http2.ClientHttp2Stream,
): Promise<{ headers: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader; body: string }> {
  const [headers] = (await once(stream, 'response')) as [http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader];
  let body = '';
  stream.setEncoding('utf8').on('data', (chunk: string) => {
    body += chunk;
  });
  await once(stream, 'end');
  return { headers, body };
}
