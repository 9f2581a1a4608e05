// Rule specs of the authentication and access-control middleware types, and their normalisation.
// Everything that can be wrong with a rule is found here, at load: a hash Gatehouse cannot check,
// a claims expression that does not parse, two JWT key sources, a malformed address range.
import { isIP } from 'node:net';
import { isAbsolute, join, resolve } from 'node:path';
import { checkHeaderName } from '../checks.ts';
import { parseCidr } from '../cidr.ts';
import { arr, bool, duration, int, obj, str, union, anything } from '../spec.ts';
import type { Plain } from '../walk.ts';
import { ClaimsExpressionError, parseClaimsExpression } from './claims-expression.ts';
import { MiddlewareCode, type MiddlewareType } from './definition.ts';
import type {
  AccessPolicyRule,
  AccessRule,
  BasicAuthRule,
  BasicAuthUser,
  ForwardAuthRule,
  JwtAuthRule,
  JwtKeySource,
  KeyTextRef,
  PasswordScheme,
  UserAgentBlockRule,
} from './types.ts';

const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);

const httpUrl = (what: string) =>
  str({
    check: (value) => {
      try {
        const url = new URL(value);
        if (url.protocol === 'http:' || url.protocol === 'https:') return null;
      } catch {}
      return `${what} "${value}" is not an http:// or https:// URL`;
    },
    expected: 'an http:// or https:// URL',
  });
const headerName = () => str({ check: checkHeaderName, expected: 'a header name' });

// ---- access ----

const access: MiddlewareType = {
  type: 'access',
  aliases: [],
  summary: 'Refuses the matching `paths` with `statusCode`.',
  differences: 'Empty `paths` blocks the whole route (Goma: blocks nothing).',
  ruleRequired: false,
  rule: obj({
    statusCode: {
      spec: int(100, 599),
      default: 403,
      description: 'Status of the refusal.',
    },
  }),
  normalize: (rule): AccessRule => ({ statusCode: typeof rule.statusCode === 'number' ? rule.statusCode : 403 }),
};

// ---- basicAuth ----

const BCRYPT = /^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/;
const APR1 = /^\$apr1\$[./A-Za-z0-9]{1,8}\$[./A-Za-z0-9]{22}$/;
const SHA1 = /^\{SHA\}[A-Za-z0-9+/]{27}=$/;

/** The scheme of a configured password, or what is wrong with it. */
export function passwordScheme(hash: string): PasswordScheme | { error: string } {
  if (hash.startsWith('$2')) return BCRYPT.test(hash) ? 'bcrypt' : { error: 'is not a valid bcrypt hash' };
  if (hash.startsWith('$apr1$')) return APR1.test(hash) ? 'apr1' : { error: 'is not a valid Apache $apr1$ hash' };
  if (hash.startsWith('{SHA}')) return SHA1.test(hash) ? 'sha1' : { error: 'is not a valid {SHA} hash' };
  if (/^\$[0-9a-z]+\$/.test(hash)) {
    return { error: `uses the hash scheme \`${hash.split('$')[1]}\`, which Gatehouse cannot check` };
  }
  if (hash === '') return { error: 'is empty' };
  return 'plain';
}

const basicAuth: MiddlewareType = {
  type: 'basicAuth',
  aliases: ['basic'],
  summary:
    'HTTP Basic authentication against `users` (bcrypt `$2a$`/`$2b$`/`$2y$`, `{SHA}`, Apache `$apr1$`, or plaintext with a warning); 401 with `WWW-Authenticate: Basic realm="..."`.',
  differences:
    'Empty `paths` protects the whole route (Goma: protects nothing). `$2b$` bcrypt and `$apr1$` hashes are checked (Goma takes `$2b$` for plaintext and always fails `$apr1$`); a hash in an unknown `$scheme$` is an error, not a plaintext password.',
  ruleRequired: true,
  rule: obj({
    realm: { spec: str(), default: 'Restricted', description: 'Realm of the `WWW-Authenticate` challenge.' },
    forwardUsername: {
      spec: bool(),
      default: false,
      description:
        'Send the authenticated user name to the backend in the `username` header (a client-sent one is removed).',
    },
    users: {
      spec: arr(
        union(
          '{username, password} or "user:hash"',
          obj({
            username: { spec: str(), required: true, description: 'User name.' },
            password: { spec: str(), required: true, description: 'Password hash (or plaintext, with a warning).' },
          }),
          str(),
        ),
      ),
      required: true,
      description: 'Users, as `{username, password}` or `"user:hash"` (htpasswd lines).',
    },
  }),
  normalize(rule, ctx): BasicAuthRule | null {
    const users: BasicAuthUser[] = [];
    const seen = new Set<string>();
    let ok = true;
    list(rule.users).forEach((entry, index) => {
      const path = `${ctx.path}.users[${index}]`;
      let username: string | null = null;
      let hash: string | null = null;
      if (typeof entry === 'string') {
        const colon = entry.indexOf(':');
        if (colon > 0) {
          username = entry.slice(0, colon);
          hash = entry.slice(colon + 1);
        }
      } else if (entry !== null && typeof entry === 'object') {
        username = text((entry as Plain).username);
        hash = text((entry as Plain).password);
      }
      if (username === null || hash === null || username === '') {
        if (typeof entry === 'string') {
          ctx.error(MiddlewareCode.rule, path, `"user:hash" expected (got "${entry.slice(0, 40)}")`, null);
        }
        ok = false;
        return;
      }
      if (username.includes(':')) {
        ctx.error(
          MiddlewareCode.rule,
          path,
          `user name "${username}" contains \`:\``,
          'Basic credentials cannot carry it',
        );
        ok = false;
        return;
      }
      if (seen.has(username)) {
        ctx.error(MiddlewareCode.rule, path, `user "${username}" is listed twice`, 'keep one entry per user');
        ok = false;
        return;
      }
      seen.add(username);
      const scheme = passwordScheme(hash);
      if (typeof scheme !== 'string') {
        ctx.error(
          MiddlewareCode.rule,
          path,
          `the password of "${username}" ${scheme.error}`,
          'use a bcrypt hash: `htpasswd -nbB USER PASSWORD`',
        );
        ok = false;
        return;
      }
      if (scheme === 'plain') {
        ctx.warning(
          MiddlewareCode.plaintextPassword,
          path,
          `the password of "${username}" is stored in plaintext`,
          'store a bcrypt hash instead: `htpasswd -nbB USER PASSWORD`',
        );
      }
      users.push({ username, scheme, hash });
    });
    if (ok && users.length === 0) {
      ctx.error(MiddlewareCode.rule, `${ctx.path}.users`, 'basicAuth needs at least one user', null);
      return null;
    }
    if (!ok) return null;
    return {
      realm: text(rule.realm) ?? 'Restricted',
      forwardUsername: rule.forwardUsername === true,
      users,
    };
  },
};

// ---- jwtAuth ----

export const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;
export const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;

const base64Text = /^[A-Za-z0-9+/=\s_-]+$/;

/** A key given as text: inline (PEM or JSON), base64 of it, or a file path (read by the primary). */
export function keyTextRef(value: string, configDir: string, at: KeyTextRef['at'], inlineMark: string): KeyTextRef {
  const trimmed = value.trim();
  if (trimmed.includes(inlineMark)) return { form: 'inline', path: null, text: trimmed, at };
  const compact = trimmed.replace(/\s+/g, '');
  if (compact.length >= 16 && base64Text.test(compact) && !compact.includes('/')) {
    const decoded = Buffer.from(compact, 'base64').toString('utf8');
    if (decoded.includes(inlineMark)) return { form: 'base64', path: null, text: decoded.trim(), at };
  }
  const path = isAbsolute(trimmed) ? resolve(trimmed) : resolve(join(configDir, trimmed));
  return { form: 'file', path, text: null, at };
}

const jwtAuth: MiddlewareType = {
  type: 'jwtAuth',
  aliases: ['jwt'],
  summary:
    'Bearer JWT validation with exactly one key source (`secret`, `publicKey`, `jwksUrl`, `jwksFile`), `issuer`, `audience`, `exp`/`nbf` (30 s leeway) and `claimsExpression`; 401 with `WWW-Authenticate: Bearer error="..."`.',
  differences:
    'Empty `paths` protects the whole route (Goma: protects nothing). The JWKS is fetched in the background and refreshed on an unknown `kid` at most every 30 s (Goma fetches it per request). Two key sources, an algorithm of the wrong family for the key, or a claims expression that does not parse are errors at load.',
  ruleRequired: true,
  rule: obj({
    secret: { spec: str(), description: 'Shared secret (HMAC: HS256/384/512).' },
    publicKey: {
      spec: str(),
      description: 'RSA, EC or Ed25519 public key: PEM, base64 of PEM, or a file path (read by the primary, watched).',
    },
    jwksUrl: { spec: httpUrl('jwksUrl'), description: 'URL of a JSON Web Key Set, fetched in the background.' },
    jwksFile: { spec: str(), description: 'JSON Web Key Set: a file path, or the JSON inline.' },
    algorithms: {
      spec: arr(str({ enum: [...HMAC_ALGORITHMS, ...ASYMMETRIC_ALGORITHMS] })),
      description:
        'Accepted `alg` values. Default: HS256/384/512 for `secret`; the asymmetric family of the key otherwise.',
    },
    algo: {
      spec: str({ enum: [...HMAC_ALGORITHMS, ...ASYMMETRIC_ALGORITHMS] }),
      deprecated: 'write `algorithms: [ALG]`',
      description: 'Goma: one accepted algorithm.',
    },
    alg: {
      spec: str({ enum: [...HMAC_ALGORITHMS, ...ASYMMETRIC_ALGORITHMS] }),
      deprecated: 'write `algorithms: [ALG]`',
      description: 'Goma: one accepted algorithm.',
    },
    issuer: { spec: str({ emptyIsAbsent: true }), description: 'Required `iss`.' },
    audience: { spec: str({ emptyIsAbsent: true }), description: "Required `aud` (one of the token's audiences)." },
    claimsExpression: {
      spec: str({ emptyIsAbsent: true }),
      description: "Goma's claims language: `Equals`, `Prefix`, `Contains`, `OneOf`, `!`, `&&`, `||`, parentheses.",
    },
    forwardHeaders: {
      spec: anything(),
      description: 'Map of request header → claim (dotted path) sent to the backend; client-sent ones are removed.',
    },
    forwardAuthorization: {
      spec: bool(),
      default: true,
      description: 'Forward the `Authorization` header to the backend.',
    },
    jwksRefreshInterval: {
      spec: duration(),
      default: '5m',
      description: 'Gatehouse: how often the `jwksUrl` key set is fetched again in the background.',
    },
    jwksMinRefreshInterval: {
      spec: duration(),
      default: '30s',
      description:
        'Gatehouse: a token with an unknown `kid` fetches the key set again, at most this often (a rotated key is picked up; made-up kids cost nothing).',
    },
  }),
  normalize(rule, ctx): JwtAuthRule | null {
    let ok = true;
    const sources: JwtKeySource[] = [];
    const written: string[] = [];
    if (typeof rule.secret === 'string' && rule.secret !== '') {
      sources.push({ kind: 'secret', secret: rule.secret });
      written.push('secret');
    }
    if (typeof rule.publicKey === 'string' && rule.publicKey.trim() !== '') {
      const at = ctx.at(`${ctx.path}.publicKey`);
      sources.push({ kind: 'publicKey', key: keyTextRef(rule.publicKey, ctx.configDir, at, '-----BEGIN') });
      written.push('publicKey');
    }
    if (typeof rule.jwksUrl === 'string' && rule.jwksUrl !== '') {
      sources.push({ kind: 'jwksUrl', url: rule.jwksUrl });
      written.push('jwksUrl');
    }
    if (typeof rule.jwksFile === 'string' && rule.jwksFile.trim() !== '') {
      const at = ctx.at(`${ctx.path}.jwksFile`);
      sources.push({ kind: 'jwksFile', jwks: keyTextRef(rule.jwksFile, ctx.configDir, at, '{') });
      written.push('jwksFile');
    }
    const source = sources[0];
    if (sources.length !== 1 || source === undefined) {
      ctx.error(
        MiddlewareCode.rule,
        sources.length === 0 ? ctx.path : `${ctx.path}.${written[1]}`,
        sources.length === 0
          ? 'jwtAuth needs a key: one of `secret`, `publicKey`, `jwksUrl`, `jwksFile`'
          : `jwtAuth takes exactly one key source; this rule has ${written.map((w) => `\`${w}\``).join(' and ')}`,
        'keep exactly one of `secret`, `publicKey`, `jwksUrl`, `jwksFile`',
      );
      return null;
    }
    let algorithms: string[] | null = null;
    for (const key of ['algorithms', 'algo', 'alg'] as const) {
      const value = rule[key];
      if (value === undefined) continue;
      const given = (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string');
      if (algorithms !== null) {
        ctx.error(
          MiddlewareCode.rule,
          `${ctx.path}.${key}`,
          `\`${key}\` repeats \`algorithms\``,
          'keep only `algorithms`',
        );
        ok = false;
      }
      algorithms = given;
    }
    if (algorithms !== null) {
      const hmac = source.kind === 'secret';
      const wrong = algorithms.filter((a) => (HMAC_ALGORITHMS as readonly string[]).includes(a) !== hmac);
      if (algorithms.length === 0) {
        ctx.error(
          MiddlewareCode.rule,
          `${ctx.path}.algorithms`,
          '`algorithms` is empty',
          'leave it out for the safe default',
        );
        ok = false;
      } else if (wrong.length > 0) {
        ctx.error(
          MiddlewareCode.rule,
          `${ctx.path}.algorithms`,
          `${wrong.join(', ')} cannot be used with \`${source.kind}\`: ${hmac ? 'a shared secret takes HS256/384/512 only' : 'an asymmetric key never verifies HMAC tokens'}`,
          'leave `algorithms` out to get the algorithms of the key type',
        );
        ok = false;
      }
    }
    const expression = text(rule.claimsExpression);
    if (expression !== null) {
      try {
        parseClaimsExpression(expression);
      } catch (error) {
        if (!(error instanceof ClaimsExpressionError)) throw error;
        ctx.error(
          MiddlewareCode.rule,
          `${ctx.path}.claimsExpression`,
          `claimsExpression: ${error.message} (at character ${error.offset + 1})`,
          "write calls such as `Equals('role', 'admin')` joined with `&&`, `||`, `!` and parentheses",
        );
        ok = false;
      }
    }
    const forwardHeaders: Array<[string, string]> = [];
    const headers = rule.forwardHeaders;
    if (headers !== undefined && headers !== null) {
      if (typeof headers !== 'object' || Array.isArray(headers)) {
        ctx.error(
          MiddlewareCode.rule,
          `${ctx.path}.forwardHeaders`,
          'forwardHeaders must be a map of header: claim',
          null,
        );
        ok = false;
      } else {
        for (const [name, claim] of Object.entries(headers as Plain)) {
          const problem = checkHeaderName(name);
          if (problem !== null || typeof claim !== 'string' || claim === '') {
            ctx.error(
              MiddlewareCode.rule,
              `${ctx.path}.forwardHeaders.${name}`,
              problem ?? `forwardHeaders.${name} must name a claim`,
              'write `X-User-ID: sub`',
            );
            ok = false;
            continue;
          }
          forwardHeaders.push([name.toLowerCase(), claim]);
        }
      }
    }
    if (!ok) return null;
    return {
      source,
      algorithms,
      issuer: text(rule.issuer),
      audience: text(rule.audience),
      claimsExpression: expression,
      forwardHeaders,
      forwardAuthorization: rule.forwardAuthorization !== false,
      clockToleranceMs: 30_000,
      jwksRefreshMs: typeof rule.jwksRefreshInterval === 'number' ? rule.jwksRefreshInterval : 300_000,
      jwksMinRefreshMs: typeof rule.jwksMinRefreshInterval === 'number' ? rule.jwksMinRefreshInterval : 30_000,
    };
  },
};

// ---- forwardAuth ----

/** `"src: Dst"` or `Name` → [src, dst]. */
function mapping(entry: string): [string, string] | null {
  const colon = entry.indexOf(':');
  const from = (colon === -1 ? entry : entry.slice(0, colon)).trim();
  const to = (colon === -1 ? entry : entry.slice(colon + 1)).trim();
  if (from === '' || to === '') return null;
  return [from, to];
}

const forwardAuth: MiddlewareType = {
  type: 'forwardAuth',
  aliases: [],
  summary:
    'Asks `authUrl` (with X-Forwarded-Method/-Proto/-Host/-Uri/-For) whether the request may pass: 2xx passes and copies the mapped headers; 401 with `authSignIn` redirects (302); otherwise the auth status and `WWW-Authenticate` are relayed. A timeout or transport error is 503.',
  differences:
    'Empty `paths` protects the whole route (Goma: protects nothing). New key `timeout` (default 5s); an unreachable or slow auth service refuses the request (503).',
  ruleRequired: true,
  rule: obj({
    authUrl: { spec: httpUrl('authUrl'), required: true, description: 'URL of the auth service.' },
    authSignIn: {
      spec: { ...httpUrl('authSignIn'), emptyIsAbsent: true },
      description:
        'Where a 401 from the auth service redirects (302); the request URL is appended when it ends with `=`.',
    },
    authRequestHeaders: {
      spec: arr(headerName()),
      default: [],
      description: 'Client request headers copied to the auth request (Cookie and Authorization are always copied).',
    },
    authResponseHeaders: {
      spec: arr(str()),
      default: [],
      description: 'Auth response headers copied to the backend request: `Name` or `"src: Dst"`.',
    },
    authResponseHeadersAsParams: {
      spec: arr(str()),
      default: [],
      description: 'Auth response headers added as query parameters: `Name` or `"src: param"`.',
    },
    addAuthCookiesToResponse: {
      spec: arr(str()),
      default: [],
      description: 'Cookies (Set-Cookie) of the auth response passed to the client on success; empty: all of them.',
    },
    forwardHostHeaders: {
      spec: bool(),
      default: false,
      description: "Send the client's Host to the auth service.",
    },
    enableHostForwarding: {
      spec: bool(),
      alias: 'forwardHostHeaders',
      description: 'Goma: another name of `forwardHostHeaders`.',
    },
    insecureSkipVerify: {
      spec: bool(),
      default: false,
      description: "Do not verify the auth service's certificate. For development only.",
    },
    skipInsecureVerify: {
      spec: bool(),
      alias: 'insecureSkipVerify',
      description: 'Goma: another name of `insecureSkipVerify`.',
    },
    timeout: {
      spec: duration(),
      default: '5s',
      description: 'Whole auth request; a timeout refuses the request with 503.',
    },
  }),
  normalize(rule, ctx): ForwardAuthRule | null {
    let ok = true;
    const mapped = (key: string, lowerTarget: boolean): Array<[string, string]> =>
      list(rule[key]).flatMap((entry, index) => {
        const pair = typeof entry === 'string' ? mapping(entry) : null;
        const bad =
          pair === null || checkHeaderName(pair[0]) !== null || (lowerTarget && checkHeaderName(pair[1]) !== null);
        if (bad) {
          ctx.error(
            MiddlewareCode.rule,
            `${ctx.path}.${key}[${index}]`,
            `"${String(entry)}" is not \`Name\` or \`"src: Dst"\``,
            null,
          );
          ok = false;
          return [];
        }
        const [from, to] = pair as [string, string];
        return [[from.toLowerCase(), lowerTarget ? to.toLowerCase() : to] as [string, string]];
      });
    const authResponseHeaders = mapped('authResponseHeaders', true);
    const authResponseHeadersAsParams = mapped('authResponseHeadersAsParams', false);
    if (!ok) return null;
    return {
      authUrl: text(rule.authUrl) ?? '',
      authSignIn: text(rule.authSignIn),
      authRequestHeaders: list(rule.authRequestHeaders).map((h) => String(h).toLowerCase()),
      authResponseHeaders,
      authResponseHeadersAsParams,
      addAuthCookiesToResponse: list(rule.addAuthCookiesToResponse).map(String),
      forwardHostHeaders: rule.forwardHostHeaders === true,
      insecureSkipVerify: rule.insecureSkipVerify === true,
      timeoutMs: typeof rule.timeout === 'number' ? rule.timeout : 5_000,
    };
  },
};

// ---- accessPolicy ----

/** What is wrong with one `sourceRanges` entry (an address, a CIDR or `first-last`), or null. */
export function checkSourceRange(entry: string): string | null {
  const value = entry.trim();
  const dash = value.indexOf('-');
  if (dash !== -1) {
    const first = value.slice(0, dash).trim();
    const last = value.slice(dash + 1).trim();
    const family = isIP(first);
    if (family === 0 || isIP(last) !== family) return `"${entry}" is not a range of two addresses of one family`;
    if (compareAddresses(first, last) > 0) return `"${entry}" starts after it ends`;
    return null;
  }
  const parsed = parseCidr(value);
  return 'error' in parsed ? `"${entry}": ${parsed.error}` : null;
}

/** Orders two addresses of the same family numerically (not octet text by octet text). */
export function compareAddresses(a: string, b: string): number {
  const x = addressBigInt(a);
  const y = addressBigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function addressBigInt(address: string): bigint {
  if (isIP(address) === 4) return address.split('.').reduce((n, part) => (n << 8n) + BigInt(Number(part)), 0n);
  const [head = '', tail = ''] = address.split('::');
  let groups = (address.includes('::') ? [head, tail] : [address]).map((side) => (side === '' ? [] : side.split(':')));
  // An embedded IPv4 tail (`::ffff:1.2.3.4`) is two groups.
  groups = groups.map((side) =>
    side.flatMap((g) => {
      if (!g.includes('.')) return [g];
      const n = Number(addressBigInt(g));
      return [(n >>> 16).toString(16), (n & 0xffff).toString(16)];
    }),
  );
  const [left = [], right = []] = groups;
  const missing = 8 - left.length - right.length;
  const all = address.includes('::') ? [...left, ...Array(missing).fill('0'), ...right] : left;
  return all.reduce((n, g) => (n << 16n) + BigInt(Number.parseInt(g, 16)), 0n);
}

const accessPolicy: MiddlewareType = {
  type: 'accessPolicy',
  aliases: [],
  summary:
    'Allows (`ALLOW`: only these) or denies (`DENY`: all but these) client addresses: IPs, CIDRs or `first-last` ranges, IPv4 and IPv6. The client address follows `gateway.proxy.trustedProxies`.',
  differences:
    'Ranges compare whole addresses (Goma compares octet by octet); `action` must be `ALLOW` or `DENY` (Goma takes anything else for ALLOW).',
  ruleRequired: true,
  rule: obj({
    action: {
      spec: str({ enum: ['ALLOW', 'DENY'] }),
      required: true,
      description: '`ALLOW`: only `sourceRanges` pass. `DENY`: `sourceRanges` are refused (403).',
    },
    sourceRanges: {
      spec: arr(str({ check: checkSourceRange, expected: 'an address, CIDR or range' })),
      required: true,
      description: 'Addresses (`10.0.0.1`), CIDRs (`10.0.0.0/8`, `2001:db8::/32`) or ranges (`10.0.0.1-10.0.0.50`).',
    },
  }),
  normalize(rule, ctx): AccessPolicyRule | null {
    const ranges = list(rule.sourceRanges).filter((r): r is string => typeof r === 'string');
    if (ranges.length !== list(rule.sourceRanges).length) return null;
    if (ranges.length === 0) {
      ctx.error(MiddlewareCode.rule, `${ctx.path}.sourceRanges`, 'accessPolicy needs at least one source range', null);
      return null;
    }
    if (rule.action !== 'ALLOW' && rule.action !== 'DENY') return null;
    return { action: rule.action, sourceRanges: ranges.map((r) => r.trim()) };
  },
};

// ---- userAgentBlock ----

const userAgentBlock: MiddlewareType = {
  type: 'userAgentBlock',
  aliases: [],
  summary: 'Refuses (403) requests whose User-Agent contains one of `userAgents`, ignoring case.',
  differences: 'None beyond the meaning of empty `paths` (the whole route).',
  ruleRequired: true,
  rule: obj({
    userAgents: {
      spec: arr(str()),
      required: true,
      description: 'Substrings of the User-Agent to refuse, case-insensitive.',
    },
  }),
  normalize(rule, ctx): UserAgentBlockRule | null {
    const agents = list(rule.userAgents)
      .filter((a): a is string => typeof a === 'string')
      .map((a) => a.trim().toLowerCase());
    if (agents.length === 0 || agents.includes('')) {
      ctx.error(MiddlewareCode.rule, `${ctx.path}.userAgents`, 'userAgents needs at least one non-empty entry', null);
      return null;
    }
    return { userAgents: agents };
  },
};

export const authMiddlewareTypes: MiddlewareType[] = [
  access,
  basicAuth,
  jwtAuth,
  forwardAuth,
  accessPolicy,
  userAgentBlock,
];
