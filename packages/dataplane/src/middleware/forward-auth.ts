// `forwardAuth`: asks an auth service whether the request may pass, as Traefik and Goma do. The
// auth request is a GET through one pooled keep-alive agent per step, bounded by `timeout`; a
// timeout or transport error refuses the request (503), it is never forwarded unchecked.
//   2xx → pass; the mapped auth response headers go to the backend request (client-sent copies
//         removed first) and the chosen Set-Cookie lines to the client response.
//   401 with authSignIn → 302 to the sign-in page (the request URL appended when it ends in `=`).
//   anything else → its status, WWW-Authenticate and Location relayed.
import { Agent as HttpAgent, type IncomingMessage, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { MiddlewareConfigOf, ForwardAuthRule } from '@gatehouse/config';
import { isHeaderSafe } from './header-safe.ts';
import { answer, type MiddlewareAnswer, type MiddlewareRequest, type MiddlewareStep, type StepResult } from './step.ts';

const UNAVAILABLE = answer(503, 'GH_AUTH_UNAVAILABLE', 'the authentication service is unavailable', 'auth_unavailable');

/** The cookie name of one Set-Cookie line. */
function cookieName(line: string): string {
  const eq = line.indexOf('=');
  return (eq === -1 ? line : line.slice(0, eq)).trim();
}

/** The Set-Cookie lines of the auth response that go to the client (all when `names` is empty). */
export function selectCookies(lines: readonly string[] | undefined, names: readonly string[]): string[] {
  if (lines === undefined) return [];
  return names.length === 0 ? [...lines] : lines.filter((line) => names.includes(cookieName(line)));
}

/** `authSignIn`, with the original URL appended (encoded) when it ends with `=`. */
export function signInLocation(signIn: string, originalUrl: string): string {
  return signIn.endsWith('=') ? signIn + encodeURIComponent(originalUrl) : signIn;
}

/** `target` with `params` set (replacing any the client sent under those names). */
export function withQueryParams(target: string, params: ReadonlyArray<[string, string]>): string {
  if (params.length === 0) return target;
  const q = target.indexOf('?');
  const path = q === -1 ? target : target.slice(0, q);
  const query = new URLSearchParams(q === -1 ? '' : target.slice(q + 1));
  for (const [name, value] of params) query.set(name, value);
  const text = query.toString();
  return text === '' ? path : `${path}?${text}`;
}

/** The answer for a non-2xx auth response. Pure. */
export function authRefusal(
  rule: ForwardAuthRule,
  status: number,
  headers: IncomingMessage['headers'],
  originalUrl: string,
): MiddlewareAnswer {
  const cookies = selectCookies(headers['set-cookie'], rule.addAuthCookiesToResponse);
  const extra: Record<string, string | string[]> = {};
  if (cookies.length > 0) extra['set-cookie'] = cookies;
  if (status === 401 && rule.authSignIn !== null) {
    extra.location = signInLocation(rule.authSignIn, originalUrl);
    return answer(302, 'GH_AUTH_SIGN_IN', 'sign in first', 'sign_in_redirect', extra);
  }
  const challenge = headers['www-authenticate'];
  if (typeof challenge === 'string' && isHeaderSafe(challenge)) extra['www-authenticate'] = challenge;
  const location = headers.location;
  if (status >= 300 && status < 400 && typeof location === 'string' && isHeaderSafe(location))
    extra.location = location;
  const relayed = status >= 300 && status <= 599 ? status : 502;
  return answer(relayed, 'GH_AUTH_DENIED', 'the authentication service refused the request', `auth_${relayed}`, extra);
}

export class ForwardAuthStep implements MiddlewareStep {
  readonly name: string;
  readonly type = 'forwardAuth';
  private readonly rule: ForwardAuthRule;
  private readonly url: URL;
  private readonly agent: HttpAgent;
  private readonly send: typeof httpRequest;

  constructor(config: MiddlewareConfigOf<'forwardAuth'>) {
    this.name = config.name;
    this.rule = config.rule;
    this.url = new URL(config.rule.authUrl);
    const tls = this.url.protocol === 'https:';
    const pool = { keepAlive: true, maxSockets: 64, maxFreeSockets: 16, timeout: 30_000, scheduling: 'lifo' as const };
    this.agent = tls
      ? new HttpsAgent({ ...pool, rejectUnauthorized: !config.rule.insecureSkipVerify })
      : new HttpAgent(pool);
    this.send = tls ? (httpsRequest as typeof httpRequest) : httpRequest;
  }

  onRequest(r: MiddlewareRequest): Promise<StepResult> {
    const rule = this.rule;
    const incoming = r.req.headers;
    const proto = r.secure ? 'https' : 'http';
    const host = incoming.host ?? (incoming[':authority'] as string | undefined) ?? '';
    const originalUrl = `${proto}://${host}${r.target}`;
    const headers: Record<string, string> = {
      'x-forwarded-method': r.method,
      'x-forwarded-proto': proto,
      'x-forwarded-host': host,
      'x-forwarded-uri': r.target,
      'x-forwarded-for': r.clientAddress(),
      'x-real-ip': r.clientAddress(),
      'x-original-url': originalUrl,
      'x-request-id': r.requestId,
    };
    const copy = (name: string) => {
      const value = incoming[name];
      if (typeof value === 'string') headers[name] = value;
      else if (Array.isArray(value)) headers[name] = value.join(name === 'cookie' ? '; ' : ', ');
    };
    copy('authorization');
    copy('cookie');
    copy('user-agent');
    for (const name of rule.authRequestHeaders) copy(name);
    if (rule.forwardHostHeaders && host !== '') headers.host = host;
    // The backend must only see what the auth service said, never a client's own copy.
    for (const [, to] of rule.authResponseHeaders) delete incoming[to];
    return new Promise<StepResult>((resolve) => {
      let settled = false;
      const finish = (result: StepResult) => {
        if (settled) return;
        settled = true;
        resolve(result);
      };
      const request = this.send(this.url, { method: 'GET', headers, agent: this.agent, timeout: rule.timeoutMs });
      const deadline = setTimeout(() => request.destroy(new Error('auth request timed out')), rule.timeoutMs);
      request.on('timeout', () => request.destroy(new Error('auth request timed out')));
      request.on('error', () => {
        clearTimeout(deadline);
        finish(UNAVAILABLE);
      });
      request.on('response', (response) => {
        clearTimeout(deadline);
        response.resume();
        response.on('error', () => {});
        const status = response.statusCode ?? 502;
        if (status >= 200 && status < 300) finish(this.accept(r, response));
        else finish(authRefusal(rule, status, response.headers, originalUrl));
      });
      request.end();
    });
  }

  private accept(r: MiddlewareRequest, response: IncomingMessage): StepResult {
    const rule = this.rule;
    const headers = r.req.headers;
    for (const [from, to] of rule.authResponseHeaders) {
      const value = response.headers[from];
      const text = Array.isArray(value) ? value.join(', ') : value;
      if (typeof text === 'string' && isHeaderSafe(text)) headers[to] = text;
    }
    if (rule.authResponseHeadersAsParams.length > 0) {
      const params: Array<[string, string]> = [];
      for (const [from, to] of rule.authResponseHeadersAsParams) {
        const value = response.headers[from];
        if (typeof value === 'string') params.push([to, value]);
      }
      r.target = withQueryParams(r.target, params);
    }
    for (const line of selectCookies(response.headers['set-cookie'], rule.addAuthCookiesToResponse)) {
      r.addResponseHeader('set-cookie', line);
    }
    const user = response.headers['x-auth-user'] ?? response.headers['x-forwarded-user'];
    if (typeof user === 'string') r.authUser = user;
    return null;
  }

  close(): void {
    // Auth requests still running for the retired generation get their full timeout.
    setTimeout(() => this.agent.destroy(), this.rule.timeoutMs + 1_000).unref();
  }
}
