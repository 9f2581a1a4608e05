// Rule specs and normalisers of the rate-limit and request/response shaping middleware types, in
// the registry's shape (type, aliases, rule spec, normalize). Everything with a meaning for what
// reaches a backend or a client is checked here, at load: header names and values, regular
// expressions, sizes, URLs. A wrong value is an error with its position, never a warning.
import { isAbsolute, resolve } from 'node:path';
import { checkHeaderName, checkMethod, checkPath } from '../checks.ts';
import { arr, bool, duration, type Field, int, map, type ObjectSpec, obj, statusRange, str } from '../spec.ts';
import type { Plain } from '../walk.ts';
import { MiddlewareCode, type MiddlewareType, type RuleContext } from './definition.ts';
import type {
  AccessLogRule,
  AddPrefixRule,
  BodyLimitRule,
  CookieSpec,
  CorsRule,
  ErrorInterceptorRule,
  InterceptedError,
  RateLimitKeySource,
  RateLimitRule,
  RateLimitUnit,
  RedirectRegexRule,
  RedirectRule,
  RedirectSchemeRule,
  RequestHeadersRule,
  ResponseHeadersRule,
  StripQueryRule,
} from './limits-types.ts';

export const LimitsCode = {
  header: 'GH_CONFIG_HEADER',
  regex: 'GH_CONFIG_REGEX',
  size: 'GH_CONFIG_SIZE',
} as const;

// ---- value checks ----

/** Headers a rule may not set or remove: they frame the message or the connection. */
export const RESERVED_HEADERS = new Set([
  'content-length',
  'transfer-encoding',
  'connection',
  'upgrade',
  'trailer',
  'keep-alive',
  'te',
  'proxy-connection',
]);

export function checkRuleHeaderName(value: string): string | null {
  const bad = checkHeaderName(value);
  if (bad !== null) return bad;
  if (RESERVED_HEADERS.has(value.toLowerCase())) {
    return `\`${value}\` frames the message or the connection; a middleware may not set or remove it`;
  }
  return null;
}

export function checkFieldValue(value: string): string | null {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c < 32 && c !== 9) || c === 127)
      return 'a header value may not contain CR, LF, NUL or other control characters';
  }
  return null;
}

/** Go's RE2 syntax as Goma reads it, in JavaScript: `(?P<name>` is `(?<name>`. */
export function toJsPattern(pattern: string): string {
  return pattern.replaceAll('(?P<', '(?<');
}

export function checkRegex(value: string): string | null {
  try {
    new RegExp(toJsPattern(value));
    return null;
  } catch (error) {
    return `not a valid regular expression: ${(error as Error).message}`;
  }
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1000,
  kb: 1000,
  ki: 1024,
  kib: 1024,
  m: 1000 ** 2,
  mb: 1000 ** 2,
  mi: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1000 ** 3,
  gb: 1000 ** 3,
  gi: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1000 ** 4,
  tb: 1000 ** 4,
  ti: 1024 ** 4,
  tib: 1024 ** 4,
};

/** bodyLimit sizes as Goma documents them: `K`/`KB` are 1000, `Ki`/`KiB` 1024, up to `T`/`Ti`. */
export function parseBodyLimit(value: string | number): number | null {
  if (typeof value === 'number') return Number.isInteger(value) && value > 0 ? value : null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value);
  if (!m) return null;
  const unit = SIZE_UNITS[(m[2] as string).toLowerCase()];
  if (unit === undefined) return null;
  const bytes = Math.round(Number(m[1]) * unit);
  return bytes > 0 ? bytes : null;
}

function checkUrl(value: string): string | null {
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return `"${value}" is not an http or https URL`;
    return checkFieldValue(value);
  } catch {
    return `"${value}" is not a URL`;
  }
}

function checkCookieName(value: string): string | null {
  return /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(value) ? null : `"${value}" is not a valid cookie name`;
}

function checkCookieText(value: string): string | null {
  // RFC 6265 cookie-octet, and attribute values without `;`.
  return /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*$/.test(value)
    ? null
    : 'a cookie value may not contain spaces, `"`, `,`, `;`, `\\` or control characters';
}

// ---- spec helpers ----

const headerName = () => str({ check: checkRuleHeaderName, code: LimitsCode.header, expected: 'a header name' });
const headerValue = () => str({ check: checkFieldValue, code: LimitsCode.header, expected: 'a header value' });
const regex = () => str({ check: checkRegex, code: LimitsCode.regex, expected: 'a regular expression' });
const headerList = () => arr(str({ check: checkHeaderName, code: LimitsCode.header, expected: 'a header name' }));

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
function strings(value: unknown): string[] {
  return list(value).filter((v): v is string => typeof v === 'string');
}
function text(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}
function num(value: unknown, fallback: number): number {
  return typeof value === 'number' ? value : fallback;
}
function section(value: unknown): Plain {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Plain) : {};
}
/** A walked `map` of header name → value: lower-cased names, values as written. */
function headerPairs(value: unknown, ctx: RuleContext, path: string): Array<[string, string]> | null {
  const out: Array<[string, string]> = [];
  let ok = true;
  for (const [name, v] of Object.entries(section(value))) {
    const problem = checkRuleHeaderName(name);
    if (problem !== null) {
      ctx.error(LimitsCode.header, `${path}.${name}`, `${problem}`);
      ok = false;
      continue;
    }
    if (typeof v !== 'string') {
      ok = false;
      continue;
    }
    out.push([name.toLowerCase(), v]);
  }
  return ok ? out : null;
}

// ---- CORS: responseHeaders.cors, and the deprecated route and gateway `cors` blocks ----

/** What `responseHeaders.cors` allows without `allowMethods` (Goma's documented default). */
const MIDDLEWARE_CORS_METHODS = ['GET', 'POST', 'OPTIONS'];

export function corsSpec(block: boolean): ObjectSpec {
  return obj({
    enabled: {
      spec: bool(),
      default: block,
      description: block
        ? 'Turns CORS on (default on, as in Goma). `false` on a route also turns off the gateway block.'
        : 'Turns CORS on (default off, as in Goma).',
    },
    origins: {
      spec: arr(str({ check: checkFieldValue, expected: 'an origin' })),
      ...(block ? {} : { default: [] }),
      description: block
        ? 'Allowed origins: exact (`https://app.example.com`), `*`, or `*.example.com` (any subdomain). Required.'
        : 'Allowed origins: exact (`https://app.example.com`), `*`, or `*.example.com` (any subdomain). Empty: `*` (not with `allowCredentials`).',
    },
    allowMethods: {
      spec: arr(str({ check: checkMethod, expected: 'an HTTP method' })),
      default: [],
      description: block
        ? 'Methods allowed in preflights. Empty: any (the method the preflight asks for), as in Goma.'
        : `Methods allowed in preflights. Empty: ${MIDDLEWARE_CORS_METHODS.join(', ')}.`,
    },
    allowedHeaders: {
      spec: headerList(),
      default: [],
      description: 'Request headers allowed in preflights. Empty: the ones the preflight asks for.',
    },
    exposeHeaders: { spec: headerList(), default: [], description: 'Response headers scripts may read.' },
    maxAge: { spec: int(0, 86_400 * 365), description: 'Seconds a browser may cache a preflight answer.' },
    allowCredentials: {
      spec: bool(),
      default: false,
      description: 'Allow cookies and credentials; an allowed origin is then echoed, never sent as `*`.',
    },
    headers: {
      spec: map(headerValue()),
      description: 'Extra response headers on CORS answers (deprecated in Goma; use responseHeaders).',
    },
  });
}

/**
 * The normalised CORS rule, or null when it is off. `block`: a deprecated route or gateway block,
 * which says nothing (Goma's `cors: {}`, or its empty `origins: []` and `headers: {}`, which allow
 * no origin there either) unless it names something; a written `enabled` names something (the
 * default is on), so a block switched on without origins is an error rather than a block that silently does nothing.
 */
export function normalizeCors(raw: Plain, ctx: RuleContext, path: string, block = false): CorsRule | null {
  if (raw.enabled === false) return null;
  if (
    block &&
    !ctx.present(`${path}.enabled`) &&
    ['origins', 'allowMethods', 'allowedHeaders', 'exposeHeaders'].every((k) => list(raw[k]).length === 0) &&
    Object.keys(section(raw.headers)).length === 0 &&
    raw.allowCredentials !== true &&
    typeof raw.maxAge !== 'number'
  ) {
    return null;
  }
  const origins = strings(raw.origins).map((o) => o.toLowerCase());
  // Goma's block with no origins allows none, its middleware allows `*`; either reading of an empty
  // list is a surprise here, and with credentials the second would hand every site the session.
  if (origins.length === 0 && (block || raw.allowCredentials === true)) {
    ctx.error(
      MiddlewareCode.rule,
      `${path}.origins`,
      block ? 'a CORS block needs `origins`' : 'with `allowCredentials`, list the allowed `origins`',
      'list the origins allowed to call this route (`*` allows any)',
    );
    return null;
  }
  const headers = headerPairs(raw.headers, ctx, `${path}.headers`) ?? [];
  const methods = strings(raw.allowMethods).map((m) => m.toUpperCase());
  return {
    origins,
    // Empty in a block: any method (the preflight's own is echoed), as Goma's block does.
    allowMethods: methods.length > 0 || block ? methods : MIDDLEWARE_CORS_METHODS,
    allowedHeaders: strings(raw.allowedHeaders),
    exposeHeaders: strings(raw.exposeHeaders),
    maxAge: typeof raw.maxAge === 'number' ? raw.maxAge : null,
    allowCredentials: raw.allowCredentials === true,
    headers,
  };
}

// ---- the types ----

const permanent: Field = {
  spec: bool(),
  default: false,
  description: '`true`: 301 (permanent); `false`: 302 (temporary).',
};

const rateLimit: MiddlewareType = {
  type: 'rateLimit',
  aliases: [],
  summary: 'Limits requests per client key with a token bucket; 429 over the limit, 403 while banned.',
  differences:
    'The limit holds for the whole instance whatever the worker count (Goma: per process), and across instances through `gateway.redis`; idle keys are forgotten (Goma never prunes); `onStoreError` is new.',
  ruleRequired: true,
  rule: obj({
    unit: {
      spec: str({ enum: ['second', 'minute', 'hour'] }),
      default: 'second',
      description: 'Time unit of `requestsPerUnit`.',
    },
    requestsPerUnit: {
      spec: int(1),
      required: true,
      description: 'Requests allowed per unit (the refill rate of the bucket).',
    },
    burst: {
      spec: int(0),
      default: 0,
      description: 'Extra requests a client may make at once; the bucket holds requestsPerUnit + burst.',
    },
    banAfter: {
      spec: int(0),
      default: 0,
      description: 'Refused requests (within `banDuration` of each other) after which the key is banned; 0: never.',
    },
    banDuration: { spec: duration(), default: '10m', description: 'How long a ban lasts (403 until it ends).' },
    keyStrategy: {
      description: 'What identifies a client.',
      spec: obj({
        source: {
          spec: str({ enum: ['ip', 'header', 'cookie'] }),
          default: 'ip',
          description:
            '`ip`: the client address (X-Forwarded-For only from `gateway.proxy.trustedProxies`); `header` or `cookie`: that value, or the address when the request has none.',
        },
        name: { spec: str(), description: 'Header or cookie name (for `header` and `cookie`).' },
      }),
    },
    onStoreError: {
      spec: str({ enum: ['local', 'deny'] }),
      default: 'local',
      description:
        'With `gateway.redis`, while Redis is unreachable: `local` counts in this instance alone, `deny` answers 503.',
    },
  }),
  normalize(raw, ctx): RateLimitRule | null {
    const key = section(raw.keyStrategy);
    const source = (text(key.source) ?? 'ip') as RateLimitKeySource;
    const name = text(key.name);
    if (source !== 'ip' && (name === null || name === '')) {
      ctx.error(
        MiddlewareCode.rule,
        `${ctx.path}.keyStrategy.name`,
        `source \`${source}\` needs a \`name\``,
        `write the ${source} name, e.g. \`name: ${source === 'header' ? 'X-API-Key' : 'session'}\``,
      );
      return null;
    }
    if (source === 'header' && name !== null) {
      const problem = checkHeaderName(name);
      if (problem !== null) {
        ctx.error(LimitsCode.header, `${ctx.path}.keyStrategy.name`, `${problem}`);
        return null;
      }
    }
    return {
      unit: (text(raw.unit) ?? 'second') as RateLimitUnit,
      requestsPerUnit: num(raw.requestsPerUnit, 1),
      burst: num(raw.burst, 0),
      banAfter: num(raw.banAfter, 0),
      banDurationMs: num(raw.banDuration, 600_000),
      keySource: source,
      keyName: source === 'ip' ? null : source === 'header' ? (name as string).toLowerCase() : name,
      onStoreError: text(raw.onStoreError) === 'deny' ? 'deny' : 'local',
    };
  },
};

const bodyLimit: MiddlewareType = {
  type: 'bodyLimit',
  aliases: [],
  summary: 'Refuses request bodies larger than `limit` with 413, counted as they stream (never buffered).',
  differences: 'A body is counted while it streams, so a chunked body without Content-Length is limited too.',
  ruleRequired: true,
  rule: obj({
    limit: {
      spec: str({ expected: 'a size such as `1MiB` or `512KB`' }),
      required: true,
      description: 'Largest body: a number of bytes, SI (`K`, `KB`, `M`, ... = 1000) or IEC (`Ki`, `KiB`, ... = 1024).',
    },
  }),
  normalize(raw, ctx): BodyLimitRule | null {
    const bytes = typeof raw.limit === 'string' ? parseBodyLimit(raw.limit) : null;
    if (bytes === null) {
      ctx.error(
        LimitsCode.size,
        `${ctx.path}.limit`,
        `${JSON.stringify(raw.limit)} is not a size`,
        'write a size such as `1MiB`, `512KB` or `1048576`',
      );
      return null;
    }
    return { limitBytes: bytes };
  },
};

const requestHeaders: MiddlewareType = {
  type: 'requestHeaders',
  aliases: [],
  summary: 'Removes, then sets, request headers before the backend sees them (an empty value deletes).',
  differences: 'Framing headers (Content-Length, Transfer-Encoding, Connection, Upgrade, Trailer) are refused at load.',
  ruleRequired: true,
  rule: obj({
    setHeaders: { spec: map(headerValue()), description: 'Header → value; `""` deletes the header.' },
    removeHeaders: { spec: arr(headerName()), default: [], description: 'Headers removed first.' },
  }),
  normalize(raw, ctx): RequestHeadersRule | null {
    const set = headerPairs(raw.setHeaders, ctx, `${ctx.path}.setHeaders`);
    if (set === null) return null;
    const remove = strings(raw.removeHeaders).map((h) => h.toLowerCase());
    if (set.length === 0 && remove.length === 0) {
      ctx.error(MiddlewareCode.rule, ctx.path, `needs \`setHeaders\` or \`removeHeaders\``);
      return null;
    }
    return { set, remove };
  },
};

const cookieAttributes = obj({
  path: { spec: str({ check: checkCookieText }), description: 'Path attribute.' },
  Path: { spec: str({ check: checkCookieText }), alias: 'path', description: 'Another spelling of `path`.' },
  domain: { spec: str({ check: checkCookieText }), description: 'Domain attribute.' },
  Domain: { spec: str({ check: checkCookieText }), alias: 'domain', description: 'Another spelling of `domain`.' },
  maxAge: { spec: int(), description: 'Max-Age in seconds; negative deletes the cookie.' },
  MaxAge: { spec: int(), alias: 'maxAge', description: 'Another spelling of `maxAge`.' },
  secure: { spec: bool(), default: false, description: 'Secure attribute.' },
  Secure: { spec: bool(), alias: 'secure', description: 'Another spelling of `secure` (Goma docs).' },
  httpOnly: { spec: bool(), default: false, description: 'HttpOnly attribute.' },
  HttpOnly: { spec: bool(), alias: 'httpOnly', description: 'Another spelling of `httpOnly` (Goma docs).' },
  sameSite: {
    spec: str({ enum: ['Strict', 'Lax', 'None'] }),
    description: 'SameSite attribute; `None` implies Secure.',
  },
  SameSite: { spec: str({ enum: ['Strict', 'Lax', 'None'] }), alias: 'sameSite', description: 'Goma docs spelling.' },
});

const responseHeaders: MiddlewareType = {
  type: 'responseHeaders',
  aliases: [],
  summary: 'Sets or removes response headers, sets cookies, Cache-Control and CORS, on every response.',
  differences:
    'Goma applies `setHeaders` to 200 responses only; Gatehouse to every response unless `statuses` is given. CORS preflights are answered 204 by the gateway.',
  ruleRequired: true,
  rule: obj({
    setHeaders: {
      spec: map(headerValue()),
      description:
        'Header → value (`{route.name}`, `{route.path}`, `{gateway.version}` are filled in); `""` removes it.',
    },
    setCookies: {
      description: 'Cookies set on every response.',
      default: [],
      spec: arr(
        obj({
          name: { spec: str({ check: checkCookieName }), required: true, description: 'Cookie name.' },
          value: { spec: str({ check: checkCookieText }), default: '', description: 'Cookie value.' },
          attributes: { spec: cookieAttributes, description: 'Cookie attributes.' },
        }),
      ),
    },
    cacheControl: { spec: headerValue(), description: 'Cache-Control value, replacing the backend one.' },
    cors: { spec: corsSpec(false), description: 'Cross-origin resource sharing.' },
    statuses: {
      spec: arr(statusRange()),
      default: [],
      description:
        'Statuses (`200`, `"200-299"`) whose responses get `setHeaders`, cookies and Cache-Control. Empty: all.',
    },
  }),
  normalize(raw, ctx): ResponseHeadersRule | null {
    const set = headerPairs(raw.setHeaders, ctx, `${ctx.path}.setHeaders`);
    if (set === null) return null;
    const setCookies: CookieSpec[] = list(raw.setCookies).map((c) => {
      const cookie = section(c);
      const a = section(cookie.attributes);
      return {
        name: text(cookie.name) ?? '',
        value: text(cookie.value) ?? '',
        path: text(a.path),
        domain: text(a.domain),
        maxAge: typeof a.maxAge === 'number' ? a.maxAge : null,
        secure: a.secure === true,
        httpOnly: a.httpOnly === true,
        sameSite: (text(a.sameSite) as CookieSpec['sameSite']) ?? null,
      };
    });
    const cors = raw.cors === undefined ? null : normalizeCors(section(raw.cors), ctx, `${ctx.path}.cors`);
    return {
      set,
      setCookies,
      cacheControl: text(raw.cacheControl),
      cors,
      statuses: list(raw.statuses) as Array<[number, number]>,
    };
  },
};

const redirect: MiddlewareType = {
  type: 'redirect',
  aliases: [],
  summary: 'Answers every request with a redirect to `url`.',
  differences: 'None.',
  ruleRequired: true,
  rule: obj({
    url: {
      spec: str({ check: checkUrl, expected: 'an http or https URL' }),
      required: true,
      description: 'Target URL.',
    },
    permanent,
  }),
  normalize: (raw): RedirectRule => ({ url: text(raw.url) ?? '', permanent: raw.permanent === true }),
};

const redirectScheme: MiddlewareType = {
  type: 'redirectScheme',
  aliases: [],
  summary: 'Redirects requests that did not come with `scheme` to the same host and path with it.',
  differences:
    'The scheme is the one Gatehouse saw, or X-Forwarded-Proto only from `gateway.proxy.trustedProxies` (a client cannot fake it).',
  ruleRequired: true,
  rule: obj({
    scheme: { spec: str({ enum: ['http', 'https'] }), required: true, description: 'Target scheme.' },
    port: { spec: int(1, 65_535), description: "Target port; default: the scheme's (not written in the URL)." },
    permanent,
  }),
  normalize: (raw): RedirectSchemeRule => ({
    scheme: text(raw.scheme) === 'http' ? 'http' : 'https',
    port: typeof raw.port === 'number' ? raw.port : null,
    permanent: raw.permanent === true,
  }),
};

const regexRule = (what: string) =>
  obj({
    pattern: { spec: regex(), required: true, description: `Regular expression matched against the ${what}.` },
    replacement: {
      spec: str({ check: checkFieldValue }),
      required: true,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: describes Go's `${1}` replacement syntax
      description: 'Replacement; `$1` or `${1}` for groups (Go syntax, as Goma).',
    },
  });

const redirectRegex: MiddlewareType = {
  type: 'redirectRegex',
  aliases: [],
  summary: 'Redirects requests whose path and query match `pattern` to `replacement`.',
  differences: 'None.',
  ruleRequired: true,
  rule: obj({ ...regexRule('request path and query').fields, permanent }),
  normalize: (raw): RedirectRegexRule => ({
    pattern: toJsPattern(text(raw.pattern) ?? ''),
    replacement: text(raw.replacement) ?? '',
    permanent: raw.permanent === true,
  }),
};

const rewriteRegex: MiddlewareType = {
  type: 'rewriteRegex',
  aliases: [],
  summary: 'Rewrites the path sent to the backend; the result is normalised again and stays in its route.',
  differences: "Goma's `{{goma.headers.X}}` and `{{goma.query.x}}` tokens are not supported (refused at load).",
  ruleRequired: true,
  rule: regexRule('path'),
  normalize(raw, ctx) {
    const replacement = text(raw.replacement) ?? '';
    if (replacement.includes('{{')) {
      ctx.error(
        MiddlewareCode.rule,
        `${ctx.path}.replacement`,
        `request tokens (\`{{goma.headers.X}}\`, \`{{goma.query.x}}\`) are not supported`,
        'use capture groups (`$1`) only',
      );
      return null;
    }
    return { pattern: toJsPattern(text(raw.pattern) ?? ''), replacement };
  },
};

const addPrefix: MiddlewareType = {
  type: 'addPrefix',
  aliases: [],
  summary: 'Puts `prefix` in front of the path sent to the backend.',
  differences: 'None.',
  ruleRequired: true,
  rule: obj({ prefix: { spec: str({ check: checkPath }), required: true, description: 'Prefix, starting with `/`.' } }),
  normalize: (raw): AddPrefixRule => ({ prefix: text(raw.prefix) ?? '/' }),
};

const stripQuery: MiddlewareType = {
  type: 'stripQuery',
  aliases: [],
  summary: 'Removes the named query parameters before forwarding.',
  differences: 'An invalid `pathPattern` is a load error (Goma: the rule silently matches nothing).',
  ruleRequired: true,
  rule: obj({
    params: { spec: arr(str()), required: true, description: 'Query parameter names to remove.' },
    methods: {
      spec: arr(str({ check: checkMethod, expected: 'an HTTP method' })),
      default: [],
      description: 'Only for these methods; empty: all.',
    },
    pathPattern: { spec: regex(), description: 'Only for paths matching this regular expression.' },
  }),
  normalize(raw, ctx): StripQueryRule | null {
    const params = strings(raw.params);
    if (params.length === 0) {
      ctx.error(MiddlewareCode.rule, `${ctx.path}.params`, `name at least one query parameter`);
      return null;
    }
    const pattern = text(raw.pathPattern);
    return {
      params,
      methods: strings(raw.methods).map((m) => m.toUpperCase()),
      pathPattern: pattern === null || pattern === '' ? null : toJsPattern(pattern),
    };
  },
};

const DEFAULT_INTERCEPT_BYTES = 64 * 1024;

const errorInterceptor: MiddlewareType = {
  type: 'errorInterceptor',
  aliases: [],
  summary: "Replaces the body of the backend's error answers with the listed status codes.",
  differences:
    'Only backend answers up to `maxBodySize` (with a Content-Length) are replaced, over HTTP/1.1 and HTTP/2 alike; larger or streamed ones pass untouched. A `file` is read by the primary (missing: a config error) and reloaded when it changes.',
  ruleRequired: true,
  rule: obj({
    enabled: { spec: bool(), default: true, description: '`false` turns it off.' },
    contentType: {
      spec: headerValue(),
      description: 'Content-Type of the replacement bodies. Default: from the body (JSON, HTML or text).',
    },
    errors: {
      required: true,
      description: 'Statuses to intercept.',
      spec: arr(
        obj({
          statusCode: { spec: int(100, 599), description: 'Status to intercept.' },
          code: { spec: int(100, 599), alias: 'statusCode', deprecated: 'write `statusCode`', description: 'Goma v1.' },
          status: {
            spec: int(100, 599),
            alias: 'statusCode',
            deprecated: 'write `statusCode`',
            description: 'Goma v1.',
          },
          body: { spec: str(), description: "Replacement body. Neither body nor file: Gatehouse's error body." },
          file: {
            spec: str(),
            description:
              'File holding the replacement body, read by the primary at load and reload (missing: a config error); instead of `body`.',
          },
        }),
      ),
    },
    maxBodySize: {
      spec: str(),
      default: '64KiB',
      description: 'Backend error answers larger than this pass through untouched.',
    },
  }),
  normalize(raw, ctx): ErrorInterceptorRule | null {
    const errors: InterceptedError[] = [];
    let ok = true;
    list(raw.errors).forEach((e, i) => {
      const entry = section(e);
      const path = `${ctx.path}.errors[${i}]`;
      if (typeof entry.statusCode !== 'number') {
        ctx.error(MiddlewareCode.rule, path, `needs \`statusCode\``);
        ok = false;
        return;
      }
      const body = text(entry.body);
      const file = text(entry.file)?.trim() ?? null;
      if (file !== null && body !== null) {
        ctx.error(MiddlewareCode.rule, `${path}.file`, 'give `body` or `file`, not both');
        ok = false;
        return;
      }
      if (file === '') {
        ctx.error(MiddlewareCode.rule, `${path}.file`, 'is empty', 'name the file that holds the page');
        ok = false;
        return;
      }
      // A `file` is read by the primary at every build (a missing one is an error at this entry's
      // line) and watched like certificate files, so that an edit is served after the reload.
      errors.push({
        statusCode: entry.statusCode,
        body,
        file: file === null ? null : isAbsolute(file) ? resolve(file) : resolve(ctx.configDir, file),
        at: ctx.at(file === null ? path : `${path}.file`),
      });
    });
    const max = parseBodyLimit(text(raw.maxBodySize) ?? '64KiB');
    if (max === null) {
      ctx.error(LimitsCode.size, `${ctx.path}.maxBodySize`, `not a size`);
      ok = false;
    }
    if (!ok || raw.enabled === false) return ok ? { contentType: '', errors: [], maxBodyBytes: 0 } : null;
    return { contentType: text(raw.contentType) ?? '', errors, maxBodyBytes: max ?? DEFAULT_INTERCEPT_BYTES };
  },
};

const accessLog: MiddlewareType = {
  type: 'accessLog',
  aliases: [],
  summary: 'Adds the named request headers, query parameters and cookies to the access line.',
  differences:
    'Values are cut at `maxValueLength`; only named fields are logged (Authorization and Cookie only if named).',
  ruleRequired: true,
  rule: obj({
    headers: { spec: headerList(), default: [], description: 'Request headers to log.' },
    query: { spec: arr(str()), default: [], description: 'Query parameters to log.' },
    cookies: { spec: arr(str()), default: [], description: 'Cookies to log.' },
    maxValueLength: { spec: int(1, 8192), default: 256, description: 'Longest value logged (characters).' },
  }),
  normalize: (raw): AccessLogRule => ({
    headers: strings(raw.headers).map((h) => h.toLowerCase()),
    query: strings(raw.query),
    cookies: strings(raw.cookies),
    maxValueLength: num(raw.maxValueLength, 256),
  }),
};

/** Every type this file defines, for the registry. */
export const limitsMiddlewareTypes: readonly MiddlewareType[] = [
  rateLimit,
  bodyLimit,
  requestHeaders,
  responseHeaders,
  redirect,
  redirectScheme,
  redirectRegex,
  rewriteRegex,
  addPrefix,
  stripQuery,
  errorInterceptor,
  accessLog,
];
