// The one spelling of a request path that routing, policy and the backend all see. Two servers that
// read `/site/../admin`, `/%61dmin` or `//admin` differently would let a request pass a prefix's
// policy and reach another prefix's resource, so the path is rewritten once, before routing:
//   1. percent-encoded unreserved characters (ALPHA DIGIT - . _ ~) are decoded (RFC 3986 §6.2.2.2),
//      the other escapes keep their meaning and get upper-case hex (§6.2.2.1);
//   2. repeated slashes are merged (nginx `merge_slashes on`, Envoy `merge_slashes`);
//   3. dot segments are removed (RFC 3986 §5.2.4, Envoy `normalize_path`); `..` stops at the root.
// Refused (400), because no spelling of them is safe to pass on: an encoded `/` or `\` (a backend
// that decodes it sees another path than the router did), an encoded NUL, a raw `\` (read as `/` by
// some servers), a malformed escape, a dot segment spelled with an escape (`%2e%2e`: only an attack
// writes it, and backends disagree on whether it is one), and a dot segment with a parameter
// (`..;` is `..` to Tomcat and Spring, a plain name to everyone else), and a fragment (`#` is
// never sent by a client, and `/admin#x` would miss the `/admin` prefix here and be `/admin` there).
// The query string is never touched. A path that holds no `%`, `\`, `//` or `/.` needs no work:
// one char-code scan, no allocation, and the same string comes back.

import { ERROR_KINDS, type ErrorKind } from '../errors.ts';

/** Why a path has no canonical form; each is a 400. */
export const PATH_REFUSAL = {
  encodedSlash: ERROR_KINDS.pathEncodedSlash,
  encodedNul: ERROR_KINDS.pathEncodedNul,
  backslash: ERROR_KINDS.pathBackslash,
  badEscape: ERROR_KINDS.pathBadEscape,
  encodedDot: ERROR_KINDS.pathEncodedDot,
  dotParameter: ERROR_KINDS.pathDotParameter,
  fragment: ERROR_KINDS.pathFragment,
} as const;

const SLASH = 47;
const DOT = 46;
const PERCENT = 37;
const BACKSLASH = 92;
const SEMICOLON = 59;
const HASH = 35;

// RFC 3986 unreserved: ALPHA / DIGIT / "-" / "." / "_" / "~"
const UNRESERVED = new Uint8Array(128);
for (let c = 48; c <= 57; c++) UNRESERVED[c] = 1;
for (let c = 65; c <= 90; c++) UNRESERVED[c] = 1;
for (let c = 97; c <= 122; c++) UNRESERVED[c] = 1;
for (const c of '-._~') UNRESERVED[c.charCodeAt(0)] = 1;

const HEX = '0123456789ABCDEF';

/** The value of one hex digit's char code, or -1. */
export function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/**
 * Is the text at `i` (just after a `/`) the start of a segment that needs work: empty (`//`), a dot
 * segment (`.`, `..`), or a dot segment with a parameter (`.;`, `..;`)?
 */
function segmentNeedsWork(path: string, i: number, end: number): boolean {
  if (i >= end) return false;
  const c = path.charCodeAt(i);
  if (c === SLASH) return true;
  if (c !== DOT) return false;
  if (i + 1 >= end) return true;
  let d = path.charCodeAt(i + 1);
  if (d === SLASH || d === SEMICOLON) return true;
  if (d !== DOT) return false;
  if (i + 2 >= end) return true;
  d = path.charCodeAt(i + 2);
  return d === SLASH || d === SEMICOLON;
}

/**
 * The canonical form of an origin-form request target (`/path?query`), or why it is refused.
 * Anything that does not start with `/` (`*`) comes back unchanged.
 */
export function canonicalPath(target: string): string | ErrorKind {
  if (target.charCodeAt(0) !== SLASH) return target;
  let end = target.indexOf('?');
  if (end === -1) end = target.length;
  else if (target.indexOf('#', end) !== -1) return PATH_REFUSAL.fragment;
  for (let i = 0; i < end; i++) {
    const c = target.charCodeAt(i);
    if (c === HASH) return PATH_REFUSAL.fragment;
    if (c === PERCENT || c === BACKSLASH || (c === SLASH && segmentNeedsWork(target, i + 1, end))) {
      return rebuild(target, end);
    }
  }
  return target;
}

/** The slow path: decode, split into segments, resolve, join. Rare, so plain strings and an array. */
function rebuild(target: string, end: number): string | ErrorKind {
  const out: string[] = [];
  let segment = '';
  /** The current segment holds a dot that came from `%2E`. */
  let escapedDot = false;
  let i = 1;
  for (;;) {
    const c = i < end ? target.charCodeAt(i) : SLASH;
    if (c === SLASH) {
      const last = i >= end;
      if (segment === '.' || segment === '..') {
        if (escapedDot) return PATH_REFUSAL.encodedDot;
        if (segment === '..') out.pop();
        if (last) out.push('');
      } else if (segment.length > 0) {
        if (isDotWithParameter(segment)) return PATH_REFUSAL.dotParameter;
        out.push(segment);
      } else if (last) {
        // A trailing slash is part of the name (`/dir/` is not `/dir`); repeated ones merge.
        out.push('');
      }
      if (last) break;
      segment = '';
      escapedDot = false;
      i++;
      continue;
    }
    if (c === BACKSLASH) return PATH_REFUSAL.backslash;
    if (c !== PERCENT) {
      segment += target[i];
      i++;
      continue;
    }
    const hi = i + 2 < end ? hexValue(target.charCodeAt(i + 1)) : -1;
    const lo = hi === -1 ? -1 : hexValue(target.charCodeAt(i + 2));
    if (lo === -1) return PATH_REFUSAL.badEscape;
    const byte = hi * 16 + lo;
    if (byte === SLASH || byte === BACKSLASH) return PATH_REFUSAL.encodedSlash;
    if (byte === 0) return PATH_REFUSAL.encodedNul;
    if (byte < 128 && UNRESERVED[byte] === 1) {
      segment += String.fromCharCode(byte);
      if (byte === DOT) escapedDot = true;
    } else {
      segment += `%${HEX[hi]}${HEX[lo]}`;
    }
    i += 3;
  }
  const path = `/${out.join('/')}`;
  return end === target.length ? path : path + target.slice(end);
}

/** `.;x` or `..;x`: a dot segment to servers that strip path parameters before resolving. */
function isDotWithParameter(segment: string): boolean {
  if (segment.charCodeAt(0) !== DOT) return false;
  const at = segment.charCodeAt(1) === DOT ? 2 : 1;
  return segment.charCodeAt(at) === SEMICOLON;
}
