// The commands `gatehouse demo` prints for the newcomer to try, with what each one shows. The demo's
// end-to-end test runs exactly these lines, so they are data, built in one place.
import { isAbsolute, relative } from 'node:path';
import type { DemoAuth } from './auth.ts';
import type { DemoMaterial, DemoPorts } from './layout.ts';

export interface TryLine {
  /** What the command shows, printed as a comment above it. */
  title: string;
  /** The HTTP status curl prints last, or `refused` when the TLS handshake fails (curl exits non-zero). */
  expect: number | 'refused';
  command: string;
}

/** Appended to commands that reach Gatehouse, so that each answer ends with its status. */
const STATUS = `-w '\\nHTTP %{http_code}\\n'`;

/** Quotes for a POSIX shell only when needed, so that the common case stays copy-paste friendly. */
export function shellQuote(text: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/** Paths under the current directory are printed relative to it: shorter, and what the user typed. */
function display(path: string, cwd: string): string {
  const r = relative(cwd, path);
  return shellQuote(r.startsWith('..') || isAbsolute(r) ? path : r);
}

export function tryLines(ports: DemoPorts, m: DemoMaterial, cwd: string, auth: DemoAuth): TryLine[] {
  const f = (path: string) => display(path, cwd);
  const https = `https://localhost:${ports.webSecure}`;
  return [
    {
      title: 'Plain HTTP, shared 3:1 between "blue" and "green" (run it a few times)',
      expect: 200,
      command: `curl -sS ${STATUS} http://localhost:${ports.web}/`,
    },
    {
      title: 'HTTPS with the demo client certificate: mTLS into Gatehouse, then mTLS out to "green"',
      expect: 200,
      command: `curl -sS ${STATUS} --cacert ${f(m.ca)} --cert ${f(m.clientCert)} --key ${f(m.clientKey)} ${https}/secure`,
    },
    {
      title: 'HTTPS without a client certificate: 401 from Gatehouse, and no backend sees the request',
      expect: 401,
      command: `curl -sS ${STATUS} --cacert ${f(m.ca)} ${https}/secure`,
    },
    {
      title: 'HTTPS with a certificate from a CA the gateway does not trust: 401, with the reason',
      expect: 401,
      command: `curl -sS ${STATUS} --cacert ${f(m.ca)} --cert ${f(m.rogueCert)} --key ${f(m.rogueKey)} ${https}/secure`,
    },
    {
      title:
        '"green" itself, with your client certificate: it accepts only Gatehouse\'s, so it refuses you (TLS 1.3 refuses after the handshake: curl reports an empty reply or a reset)',
      expect: 'refused',
      command: `curl -sS --cacert ${f(m.backendCa)} --cert ${f(m.clientCert)} --key ${f(m.clientKey)} https://localhost:${ports.green}/`,
    },
    {
      title: `HTTP Basic with the demo user (${auth.user}/${auth.password}): the backend sees who it is`,
      expect: 200,
      command: `curl -sS ${STATUS} -u ${auth.user}:${auth.password} http://localhost:${ports.web}/admin`,
    },
    {
      title: 'Without credentials: 401 and a Basic challenge from Gatehouse, and no backend sees the request',
      expect: 401,
      command: `curl -sS -i ${STATUS} http://localhost:${ports.web}/admin`,
    },
    {
      title: 'A bearer token (JWT) signed with the demo secret: verified by Gatehouse, its subject forwarded',
      expect: 200,
      command: `curl -sS ${STATUS} -H ${shellQuote(`Authorization: Bearer ${auth.token}`)} http://localhost:${ports.web}/api`,
    },
    {
      title: 'A token with a forged signature: 401 with the reason in WWW-Authenticate',
      expect: 401,
      command: `curl -sS -i ${STATUS} -H ${shellQuote(`Authorization: Bearer ${auth.token.slice(0, -4)}AAAA`)} http://localhost:${ports.web}/api`,
    },
    {
      title: 'What the gateway sees: workers, routes, backend health, certificates',
      expect: 200,
      command: `curl -sS http://127.0.0.1:${ports.admin}/status`,
    },
  ];
}
