// `basicAuth`: HTTP Basic credentials checked against the configured users. The parse of the
// header is pure; the hash check is synchronous for the cheap schemes and off the event loop for
// bcrypt (a step with a bcrypt hash keeps the worker's verifier thread running while it lives); a success is cached (verification-cache.ts). An unknown user costs the same check as a
// known one, so response time does not tell which users exist.
import type { MiddlewareConfigOf, BasicAuthUser } from '@gatehouse/config';
import { bcryptGate } from './bcrypt-gate.ts';
import { bcryptVerifier } from './bcrypt-verifier.ts';
import { verifyPassword } from './password.ts';
import { answer, type MiddlewareAnswer, type MiddlewareRequest, type MiddlewareStep, type StepResult } from './step.ts';
import { VerificationCache } from './verification-cache.ts';

/** `Basic dXNlcjpwYXNz` → [user, password]; null when the header is missing or malformed. */
export function parseBasicCredentials(header: string | undefined): [string, string] | null {
  if (header === undefined || header.length < 7) return null;
  if (header.slice(0, 6).toLowerCase() !== 'basic ') return null;
  const encoded = header.slice(6).trim();
  if (encoded === '' || !/^[A-Za-z0-9+/]+=*$/.test(encoded)) return null;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return null;
  return [decoded.slice(0, colon), decoded.slice(colon + 1)];
}

/** The `WWW-Authenticate` value for a realm (quotes and backslashes escaped). */
export function basicChallenge(realm: string): string {
  return `Basic realm="${realm.replace(/["\\]/g, '\\$&')}", charset="UTF-8"`;
}

const FORWARDED_USER_HEADER = 'username';
const BUSY = answer(503, 'GH_AUTH_BUSY', 'too many password checks at once; retry shortly', 'busy', {
  'retry-after': '1',
});

export class BasicAuthStep implements MiddlewareStep {
  readonly name: string;
  readonly type = 'basicAuth';
  private readonly users: Map<string, BasicAuthUser>;
  /** Checked for unknown users, so that they take as long as known ones. */
  private readonly decoy: BasicAuthUser | null;
  private readonly forwardUsername: boolean;
  private readonly missing: MiddlewareAnswer;
  private readonly wrong: MiddlewareAnswer;
  private readonly cache: VerificationCache;
  /** Holds the verifier thread from construction until close(). */
  private holdsVerifier: boolean;

  constructor(config: MiddlewareConfigOf<'basicAuth'>, cache = new VerificationCache()) {
    this.name = config.name;
    this.users = new Map(config.rule.users.map((u) => [u.username, u]));
    this.decoy = config.rule.users.find((u) => u.scheme === 'bcrypt') ?? config.rule.users[0] ?? null;
    this.forwardUsername = config.rule.forwardUsername;
    const challenge = { 'www-authenticate': basicChallenge(config.rule.realm) };
    this.missing = answer(401, 'GH_AUTH_REQUIRED', 'authentication required', 'missing_credentials', challenge);
    this.wrong = answer(401, 'GH_AUTH_INVALID', 'invalid credentials', 'bad_credentials', challenge);
    this.cache = cache;
    this.holdsVerifier = config.rule.users.some((u) => u.scheme === 'bcrypt');
    if (this.holdsVerifier) bcryptVerifier.acquire();
  }

  close(): void {
    if (!this.holdsVerifier) return;
    this.holdsVerifier = false;
    bcryptVerifier.release();
  }

  onRequest(r: MiddlewareRequest): StepResult | Promise<StepResult> {
    const headers = r.req.headers;
    // Whatever the client says its user name is, the backend hears only ours.
    if (this.forwardUsername) delete headers[FORWARDED_USER_HEADER];
    const credentials = parseBasicCredentials(headers.authorization);
    if (credentials === null) return this.missing;
    const [username, password] = credentials;
    const user = this.users.get(username);
    const checked = user ?? this.decoy;
    if (checked === null) return this.wrong;
    const key = this.cache.keyOf(username, password, checked.hash);
    if (user !== undefined && this.cache.has(key, Date.now())) return this.accept(r, username);
    const verdict = verifyPassword(checked.scheme, checked.hash, password, bcryptGate);
    if (verdict === null) return BUSY;
    if (typeof verdict === 'boolean') return this.settle(r, user, username, key, verdict);
    return verdict.then((ok) => this.settle(r, user, username, key, ok));
  }

  private settle(
    r: MiddlewareRequest,
    user: BasicAuthUser | undefined,
    name: string,
    key: string,
    ok: boolean,
  ): StepResult {
    if (!ok || user === undefined) return this.wrong;
    this.cache.remember(key, Date.now());
    return this.accept(r, name);
  }

  private accept(r: MiddlewareRequest, username: string): StepResult {
    r.authUser = username;
    if (this.forwardUsername) r.req.headers[FORWARDED_USER_HEADER] = username;
    return null;
  }
}
