// Checking a Basic password against the configured hash. bcrypt runs in @node-rs/bcrypt off the
// event loop (bcrypt-verifier.ts: a low-priority thread, or libuv's thread pool); `{SHA}` and Apache's `$apr1$` (MD5-crypt, 1000
// MD5 rounds, well under a millisecond) are computed here with node:crypto. Every comparison of
// secrets is constant-time.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { PasswordScheme } from '@gatehouse/config';
import type { BcryptGate } from './bcrypt-gate.ts';
import { bcryptVerifier } from './bcrypt-verifier.ts';

const ITOA64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function md5(...parts: Buffer[]): Buffer {
  const hash = createHash('md5');
  for (const part of parts) hash.update(part);
  return hash.digest();
}

function to64(value: number, count: number): string {
  let out = '';
  let v = value;
  for (let i = 0; i < count; i++) {
    out += ITOA64[v & 0x3f];
    v >>>= 6;
  }
  return out;
}

/** Apache's MD5-crypt (`$apr1$salt$hash`) of `password` with `salt` (at most 8 characters used). */
export function apr1(password: string, salt: string): string {
  const magic = '$apr1$';
  const pw = Buffer.from(password, 'utf8');
  const s = Buffer.from(salt.slice(0, 8), 'utf8');
  const alternate = md5(pw, s, pw);
  const ctx = createHash('md5');
  ctx.update(pw);
  ctx.update(magic);
  ctx.update(s);
  for (let left = pw.length; left > 0; left -= 16) ctx.update(alternate.subarray(0, Math.min(left, 16)));
  for (let i = pw.length; i > 0; i >>= 1) ctx.update(i & 1 ? Buffer.of(0) : pw.subarray(0, 1));
  let final = ctx.digest();
  for (let i = 0; i < 1000; i++) {
    const round = createHash('md5');
    round.update(i & 1 ? pw : final);
    if (i % 3) round.update(s);
    if (i % 7) round.update(pw);
    round.update(i & 1 ? final : pw);
    final = round.digest();
  }
  const f = final;
  const b = (i: number) => f[i] as number;
  const encoded =
    to64((b(0) << 16) | (b(6) << 8) | b(12), 4) +
    to64((b(1) << 16) | (b(7) << 8) | b(13), 4) +
    to64((b(2) << 16) | (b(8) << 8) | b(14), 4) +
    to64((b(3) << 16) | (b(9) << 8) | b(15), 4) +
    to64((b(4) << 16) | (b(10) << 8) | b(5), 4) +
    to64(b(11), 2);
  return `${magic}${salt.slice(0, 8)}$${encoded}`;
}

/** Constant-time equality of two strings of any length (compares fixed-size digests). */
export function constantTimeEqual(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
}

/** Checks a password synchronously for the cheap schemes; null for bcrypt (use verifyPassword). */
export function verifyCheap(scheme: PasswordScheme, hash: string, password: string): boolean | null {
  switch (scheme) {
    case 'sha1':
      return constantTimeEqual(hash, `{SHA}${createHash('sha1').update(password, 'utf8').digest('base64')}`);
    case 'apr1': {
      const salt = hash.slice(6, hash.indexOf('$', 6));
      return constantTimeEqual(hash, apr1(password, salt));
    }
    case 'plain':
      return constantTimeEqual(hash, password);
    case 'bcrypt':
      return null;
  }
}

/**
 * Any scheme; bcrypt off the event loop (its comparison is constant-time in the library), through
 * `gate` when one is given. null: the gate is full, the check was not run.
 */
export function verifyPassword(
  scheme: PasswordScheme,
  hash: string,
  password: string,
  gate: BcryptGate | null = null,
): Promise<boolean> | boolean | null {
  const cheap = verifyCheap(scheme, hash, password);
  if (cheap !== null) return cheap;
  return gate === null ? bcryptVerifier.verify(password, hash) : gate.run(password, hash);
}
