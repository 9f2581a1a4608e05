// `jwtAuth`: a Bearer token verified with jose against exactly one key source. The accepted
// algorithms come from the key type when the config does not list them, so an HMAC token is never
// checked against a public key (algorithm confusion) and `alg: none` never verifies. Every refusal
// is a 401 with a `WWW-Authenticate: Bearer` challenge naming the problem (RFC 6750).
import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import type { MiddlewareConfigOf, JwtAuthRule } from '@gatehouse/config';
import {
  type ClaimsExpression,
  claimValue,
  evaluateClaims,
  parseClaimsExpression,
} from '@gatehouse/config/claims-expression';
import { algorithmsForKey } from '@gatehouse/pki/middleware-keys';
import { createLocalJWKSet, errors, type JWTPayload, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { isHeaderSafe } from './header-safe.ts';
import { DEFAULT_JWKS_OPTIONS, RemoteKeySet } from './jwks.ts';
import { answer, type MiddlewareAnswer, type MiddlewareRequest, type MiddlewareStep, type StepResult } from './step.ts';

const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'];
const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/** The key (or key lookup) and algorithms of a rule; throws when the key material is unusable. */
export function jwtVerifier(rule: JwtAuthRule): {
  key: KeyObject | JWTVerifyGetKey;
  algorithms: string[];
  remote: RemoteKeySet | null;
} {
  const source = rule.source;
  switch (source.kind) {
    case 'secret':
      return {
        key: createSecretKey(Buffer.from(source.secret, 'utf8')),
        algorithms: rule.algorithms ?? [...HMAC_ALGORITHMS],
        remote: null,
      };
    case 'publicKey': {
      if (source.key.text === null) throw new Error('publicKey was not read by the primary');
      const key = createPublicKey(source.key.text);
      const possible = algorithmsForKey(key);
      return { key, algorithms: rule.algorithms ?? possible, remote: null };
    }
    case 'jwksFile': {
      if (source.jwks.text === null) throw new Error('jwksFile was not read by the primary');
      return {
        key: createLocalJWKSet(JSON.parse(source.jwks.text)),
        algorithms: rule.algorithms ?? ASYMMETRIC,
        remote: null,
      };
    }
    case 'jwksUrl': {
      const remote = new RemoteKeySet(source.url, {
        refreshMs: rule.jwksRefreshMs,
        cooldownMs: rule.jwksMinRefreshMs,
        timeoutMs: DEFAULT_JWKS_OPTIONS.timeoutMs,
      });
      return { key: remote.getKey, algorithms: rule.algorithms ?? ASYMMETRIC, remote };
    }
  }
}

/** The token of `Authorization: Bearer <token>`; null when there is none. */
export function bearerToken(header: string | undefined): string | null {
  if (header === undefined || header.length < 8) return null;
  if (header.slice(0, 7).toLowerCase() !== 'bearer ') return null;
  const token = header.slice(7).trim();
  return token === '' ? null : token;
}

function challenge(error: string | null, description: string | null): Record<string, string> {
  let value = 'Bearer realm="gatehouse"';
  if (error !== null) value += `, error="${error}"`;
  if (description !== null) value += `, error_description="${description}"`;
  return { 'www-authenticate': value };
}

function refusal(reason: string, message: string, error: string | null): MiddlewareAnswer {
  const code = reason === 'missing_token' ? 'GH_AUTH_REQUIRED' : 'GH_AUTH_INVALID';
  return answer(401, code, message, reason, challenge(error, error === null ? null : message));
}

export const JWT_REFUSALS = {
  missing: refusal('missing_token', 'a bearer token is required', null),
  malformed: refusal('malformed_token', 'the token is malformed', 'invalid_token'),
  expired: refusal('expired', 'the token has expired', 'invalid_token'),
  notYetValid: refusal('not_yet_valid', 'the token is not valid yet', 'invalid_token'),
  issuer: refusal('wrong_issuer', 'the token has the wrong issuer', 'invalid_token'),
  audience: refusal('wrong_audience', 'the token is not for this audience', 'invalid_token'),
  algorithm: refusal('algorithm_not_allowed', 'the token algorithm is not accepted', 'invalid_token'),
  signature: refusal('bad_signature', 'the token signature is invalid', 'invalid_token'),
  unknownKey: refusal('unknown_key', 'the token was signed by an unknown key', 'invalid_token'),
  claims: refusal('claims_rejected', 'the token claims are not accepted', 'invalid_token'),
  claim: refusal('claim_invalid', 'a token claim is invalid', 'invalid_token'),
} as const;

/** The refusal for a jose verification error (anything unexpected is an invalid token). */
export function refusalFor(error: unknown): MiddlewareAnswer {
  if (error instanceof errors.JWTExpired) return JWT_REFUSALS.expired;
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf') return JWT_REFUSALS.notYetValid;
    if (error.claim === 'iss') return JWT_REFUSALS.issuer;
    if (error.claim === 'aud') return JWT_REFUSALS.audience;
    return JWT_REFUSALS.claim;
  }
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported)
    return JWT_REFUSALS.algorithm;
  if (error instanceof errors.JWSSignatureVerificationFailed) return JWT_REFUSALS.signature;
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
    return JWT_REFUSALS.unknownKey;
  }
  return JWT_REFUSALS.malformed;
}

/**
 * A claim as header text: strings as they are, arrays joined with `,`, objects as JSON. null for a
 * missing claim or one that a header cannot carry (control characters): the header is left out.
 */
export function claimHeaderValue(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  let text: string;
  if (typeof value === 'string') text = value;
  else if (Array.isArray(value)) text = value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(',');
  else if (typeof value === 'object') text = JSON.stringify(value);
  else text = String(value);
  return isHeaderSafe(text) ? text : null;
}

export class JwtAuthStep implements MiddlewareStep {
  readonly name: string;
  readonly type = 'jwtAuth';
  private readonly key: KeyObject | JWTVerifyGetKey;
  private readonly remote: RemoteKeySet | null;
  private readonly options: { algorithms: string[]; issuer?: string; audience?: string; clockTolerance: number };
  private readonly expression: ClaimsExpression | null;
  private readonly forwardHeaders: ReadonlyArray<[string, string]>;
  private readonly forwardAuthorization: boolean;

  constructor(config: MiddlewareConfigOf<'jwtAuth'>) {
    this.name = config.name;
    const rule = config.rule;
    const verifier = jwtVerifier(rule);
    this.key = verifier.key;
    this.remote = verifier.remote;
    this.options = {
      algorithms: verifier.algorithms,
      ...(rule.issuer === null ? {} : { issuer: rule.issuer }),
      ...(rule.audience === null ? {} : { audience: rule.audience }),
      clockTolerance: Math.round(rule.clockToleranceMs / 1000),
    };
    this.expression = rule.claimsExpression === null ? null : parseClaimsExpression(rule.claimsExpression);
    this.forwardHeaders = rule.forwardHeaders;
    this.forwardAuthorization = rule.forwardAuthorization;
    this.remote?.start();
  }

  onRequest(r: MiddlewareRequest): StepResult | Promise<StepResult> {
    const headers = r.req.headers;
    // Client-sent copies of the headers we fill from claims never reach the backend.
    for (const [name] of this.forwardHeaders) delete headers[name];
    const token = bearerToken(headers.authorization);
    if (token === null) return JWT_REFUSALS.missing;
    return jwtVerify(token, this.key as KeyObject, this.options).then(
      ({ payload }) => this.accept(r, payload),
      refusalFor,
    );
  }

  private accept(r: MiddlewareRequest, payload: JWTPayload): StepResult {
    if (this.expression !== null && !evaluateClaims(this.expression, payload)) return JWT_REFUSALS.claims;
    r.authUser = typeof payload.sub === 'string' ? payload.sub : null;
    const headers = r.req.headers;
    for (const [name, claim] of this.forwardHeaders) {
      const value = claimHeaderValue(claimValue(payload, claim));
      if (value !== null) headers[name] = value;
    }
    if (!this.forwardAuthorization) delete headers.authorization;
    return null;
  }

  close(): void {
    this.remote?.close();
  }
}
