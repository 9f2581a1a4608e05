// Who may talk to the admin listener. A browser on the operator's machine can be made to send
// requests to a loopback port by any web page (cross-site POSTs, DNS rebinding), and a listener on a
// routable address can be reached by anyone on the network. So, before any endpoint runs:
// - a request that a browser marks as coming from another site (`Origin`, or `Sec-Fetch-Site:
//   cross-site|same-site`) is refused: the admin API is for the CLI, curl and its own page;
// - on TCP, the Host must name the address the connection arrived on, or `localhost`: a rebinding
//   attacker's own domain name never matches;
// - with a token configured, every endpoint but liveness, readiness and the page's static shell
//   (which holds no data) needs `Authorization: Bearer TOKEN`.
// Pure: the server passes the request's headers and the connection's local address.
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

export interface AdminRequestFacts {
  /** Header values as Node gives them (lower-case names). */
  headers: Record<string, string | string[] | undefined>;
  /** `tcp`: the admin address; `socket`: the owner-only unix socket, which no browser can reach. */
  listener: 'tcp' | 'socket';
  /** The address the TCP connection arrived on (`req.socket.localAddress`). */
  localAddress: string | undefined;
  /** Path without query or trailing slash. */
  path: string;
}

export interface AdminRefusal {
  status: 401 | 403;
  code: 'GH_ADMIN_CROSS_SITE' | 'GH_ADMIN_HOST' | 'GH_ADMIN_UNAUTHORIZED';
  message: string;
  headers: Record<string, string>;
}

/**
 * Answer without the token: probes must work without a secret, and the status page's static files
 * (which hold no data) are what asks for the token; a browser cannot send a bearer token when it
 * navigates.
 */
export function isPublicAdminPath(path: string): boolean {
  return (
    path === '/healthz' || path === '/readyz' || path === '/' || path === '/favicon.ico' || path.startsWith('/ui/')
  );
}

/** A token as kept in memory: its digest, so that comparing takes the same time whatever is sent. */
export interface AdminToken {
  readonly digest: Buffer;
}

export function adminToken(token: string | null): AdminToken | null {
  return token === null ? null : { digest: sha256(token) };
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** `127.0.0.1`, `[::1]`: how a local address appears in a Host header. */
function hostForm(address: string): string {
  const plain = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
  return isIP(plain) === 6 ? `[${plain.toLowerCase()}]` : plain;
}

/**
 * True when `host` (a Host header) names `localhost` or the address the connection arrived on. A DNS
 * rebinding page can only send its own domain name, so the name is what matters; any port is
 * accepted, so that an SSH tunnel to another local port still works.
 */
export function hostMatchesListener(host: string, localAddress: string | undefined): boolean {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(host.trim());
  if (!match) return false;
  const name = match[1]!.toLowerCase();
  if (name === 'localhost') return true;
  if (localAddress === undefined) return false;
  const local = hostForm(localAddress);
  if (name === local) return true;
  // `[0:0::1]` and `[::1]` are one address; the URL parser writes both the short way.
  if (name.startsWith('[') && local.startsWith('[')) {
    try {
      return new URL(`http://${name}/`).hostname === local;
    } catch {
      return false;
    }
  }
  return false;
}

function bearer(authorization: string | undefined): string | null {
  if (authorization === undefined) return null;
  const match = /^Bearer[ ]+([\x21-\x7e]+)[ ]*$/i.exec(authorization);
  return match ? match[1]! : null;
}

/** Null when the request may proceed, else why not. */
/**
 * Browsers send `Origin` when they load a module script, even from the page's own origin. The status
 * page's static files hold no data and change nothing, so they alone may be fetched by the page
 * itself: Origin equal to this listener's own origin, which the Host check below also pins.
 */
function ownPageAsset(facts: AdminRequestFacts, origin: string): boolean {
  if (facts.listener !== 'tcp' || !facts.path.startsWith('/ui/')) return false;
  const host = single(facts.headers.host);
  return host !== undefined && origin === `http://${host}`;
}

export function checkAdminAccess(facts: AdminRequestFacts, token: AdminToken | null): AdminRefusal | null {
  const { headers } = facts;
  const origin = single(headers.origin);
  if (origin !== undefined && !ownPageAsset(facts, origin)) {
    return {
      status: 403,
      code: 'GH_ADMIN_CROSS_SITE',
      message: `the admin listener refuses requests sent by web pages (Origin: ${origin.slice(0, 100)})`,
      headers: {},
    };
  }
  const fetchSite = single(headers['sec-fetch-site']);
  if (fetchSite === 'cross-site' || fetchSite === 'same-site') {
    return {
      status: 403,
      code: 'GH_ADMIN_CROSS_SITE',
      message: `the admin listener refuses requests sent by other sites (Sec-Fetch-Site: ${fetchSite})`,
      headers: {},
    };
  }
  if (facts.listener === 'tcp') {
    const host = single(headers.host);
    if (host === undefined || !hostMatchesListener(host, facts.localAddress)) {
      const expected = facts.localAddress ? hostForm(facts.localAddress) : 'the admin address';
      return {
        status: 403,
        code: 'GH_ADMIN_HOST',
        message: `the admin listener answers only to Host ${expected} or localhost (got ${
          host === undefined ? 'none' : JSON.stringify(host.slice(0, 100))
        })`,
        headers: {},
      };
    }
  }
  if (token === null || isPublicAdminPath(facts.path)) return null;
  const sent = bearer(single(headers.authorization));
  if (sent !== null && timingSafeEqual(sha256(sent), token.digest)) return null;
  return {
    status: 401,
    code: 'GH_ADMIN_UNAUTHORIZED',
    message:
      sent === null
        ? `${facts.path} needs Authorization: Bearer <gateway.admin.token>`
        : 'the bearer token does not match gateway.admin.token',
    // A Bearer challenge, never Basic: a browser must not pop up its own password dialog.
    headers: { 'www-authenticate': 'Bearer realm="gatehouse admin"' },
  };
}
