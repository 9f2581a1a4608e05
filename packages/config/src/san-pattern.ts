// `allowedSANs` entries: a SAN type and a value glob. The type is explicit (`DNS:`, `URI:`, `IP:`,
// `email:`) so that a pattern for one kind of name never matches another: without a prefix an entry
// matches DNS names only (a URI such as `spiffe://x/*` needs `URI:`). Pure; shared by the validator
// and the data plane, which compiles the globs once per snapshot.

export type SanType = 'DNS' | 'URI' | 'IP' | 'email';
export type SanPattern = { type: SanType; value: string } | { error: string };

const PREFIXES: ReadonlyArray<[string, SanType]> = [
  ['dns:', 'DNS'],
  ['uri:', 'URI'],
  ['ip address:', 'IP'],
  ['ip:', 'IP'],
  ['email:', 'email'],
];

export function parseSanPattern(text: string): SanPattern {
  const lower = text.toLowerCase();
  for (const [prefix, type] of PREFIXES) {
    if (lower.startsWith(prefix)) {
      const value = text.slice(prefix.length);
      return value === '' ? { error: `\`${text}\` has no value after the prefix` } : { type, value };
    }
  }
  const colon = text.indexOf(':');
  if (colon !== -1) {
    return {
      error: `\`${text.slice(0, colon + 1)}\` is not a SAN type: write \`DNS:\`, \`URI:\`, \`IP:\` or \`email:\` (an entry without a prefix matches DNS names)`,
    };
  }
  return text === '' ? { error: 'an empty entry matches nothing' } : { type: 'DNS', value: text };
}

/** For the spec table: what is wrong with an entry, or null. */
export function checkSanPattern(text: string): string | null {
  const parsed = parseSanPattern(text);
  return 'error' in parsed ? parsed.error : null;
}
