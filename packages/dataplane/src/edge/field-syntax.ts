// Field syntax of RFC 9110 / 9112, checked with char-code loops and lookup tables: no regex and no
// allocation. Shared by the framing guard and the header rules.

// RFC 9110 tchar: ! # $ % & ' * + - . ^ _ ` | ~ DIGIT ALPHA
export const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 48; c <= 57; c++) TCHAR[c] = 1;
for (let c = 65; c <= 90; c++) TCHAR[c] = 1;
for (let c = 97; c <= 122; c++) TCHAR[c] = 1;

// Characters of a Host value: reg-name / IP-literal, and a port (RFC 3986 authority without userinfo).
const HOSTCHAR = new Uint8Array(128);
for (const c of "-._~!$&'()*+,;=:[]%") HOSTCHAR[c.charCodeAt(0)] = 1;
for (let c = 48; c <= 57; c++) HOSTCHAR[c] = 1;
for (let c = 65; c <= 90; c++) HOSTCHAR[c] = 1;
for (let c = 97; c <= 122; c++) HOSTCHAR[c] = 1;

export function isToken(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 128 || TCHAR[c] === 0) return false;
  }
  return true;
}

/** field-value: VCHAR, obs-text, SP and HTAB; no CR, LF, NUL or other control character. */
export function isFieldValue(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c < 32 && c !== 9) || c === 127) return false;
  }
  return true;
}

export function isHostValue(value: string): boolean {
  if (value.length === 0) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 128 || HOSTCHAR[c] === 0) return false;
  }
  return true;
}

/** ASCII case-insensitive equality against a lower-case literal, without allocating. */
export function equalsLower(value: string, lower: string): boolean {
  if (value.length !== lower.length) return false;
  for (let i = 0; i < value.length; i++) {
    let c = value.charCodeAt(i);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** Value without leading/trailing SP/HTAB equals `lower`, ASCII case-insensitively. */
export function trimmedEqualsLower(value: string, lower: string): boolean {
  return trimmedRangeEqualsLower(value, 0, value.length, lower);
}

/** The same for `value` from `start` to `end` (a member of a list), without slicing it out. */
export function trimmedRangeEqualsLower(value: string, start: number, end: number, lower: string): boolean {
  while (start < end && isOws(value.charCodeAt(start))) start++;
  while (end > start && isOws(value.charCodeAt(end - 1))) end--;
  if (end - start !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    let c = value.charCodeAt(start + i);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}

function isOws(c: number): boolean {
  return c === 32 || c === 9;
}

/** 1*DIGIT, optionally surrounded by OWS; -1 when it is anything else (a list, a sign, empty). */
export function parseContentLength(value: string): number {
  let start = 0;
  let end = value.length;
  while (start < end && isOws(value.charCodeAt(start))) start++;
  while (end > start && isOws(value.charCodeAt(end - 1))) end--;
  if (start === end || end - start > 15) return -1;
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = value.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    n = n * 10 + (c - 48);
  }
  return n;
}
