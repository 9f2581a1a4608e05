// Goma's claims language for jwtAuth: `Equals`, `Prefix`, `Contains`, `OneOf` over claims, with
// `!`, `&&`, `||` (that precedence) and parentheses. Parsed once (at load to report mistakes, and
// again in the worker to compile); evaluating is a walk over a small tree, with no regex.
//
//   Equals('email_verified', true) && (OneOf('role', 'admin', 'ops') || !Prefix('sub', 'svc-'))

export type ClaimsFunction = 'Equals' | 'Prefix' | 'Contains' | 'OneOf';
export type ClaimsExpression =
  | { op: 'call'; fn: ClaimsFunction; claim: string; values: string[] }
  | { op: 'not'; expr: ClaimsExpression }
  | { op: 'and' | 'or'; left: ClaimsExpression; right: ClaimsExpression };

export class ClaimsExpressionError extends Error {
  readonly code = 'GH_CLAIMS_EXPRESSION';
  /** 0-based offset in the expression text. */
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.name = 'ClaimsExpressionError';
    this.offset = offset;
  }
}

const FUNCTIONS: Record<string, { min: number; max: number }> = {
  Equals: { min: 1, max: 1 },
  Prefix: { min: 1, max: 1 },
  Contains: { min: 1, max: Number.POSITIVE_INFINITY },
  OneOf: { min: 1, max: Number.POSITIVE_INFINITY },
};

type Token =
  | { t: 'ident' | 'value'; v: string; at: number }
  | { t: '(' | ')' | ',' | '!' | '&&' | '||' | 'end'; at: number };

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '(' || c === ')' || c === ',' || c === '!') {
      out.push({ t: c, at: i });
      i++;
      continue;
    }
    if ((c === '&' || c === '|') && text[i + 1] === c) {
      out.push({ t: c === '&' ? '&&' : '||', at: i });
      i += 2;
      continue;
    }
    if (c === "'" || c === '"' || c === '`') {
      const end = text.indexOf(c, i + 1);
      if (end === -1) throw new ClaimsExpressionError(`unterminated string starting with ${c}`, i);
      out.push({ t: 'value', v: text.slice(i + 1, end), at: i });
      i = end + 1;
      continue;
    }
    const word = /^[A-Za-z0-9_.:@+-]+/.exec(text.slice(i));
    if (word === null) throw new ClaimsExpressionError(`unexpected character \`${c}\``, i);
    const value = word[0];
    out.push({ t: /^[A-Z][A-Za-z]*$/.test(value) && value in FUNCTIONS ? 'ident' : 'value', v: value, at: i });
    i += value.length;
  }
  out.push({ t: 'end', at: text.length });
  return out;
}

/** Parses an expression; throws ClaimsExpressionError with the offset of the mistake. */
export function parseClaimsExpression(text: string): ClaimsExpression {
  const tokens = tokenize(text);
  let pos = 0;
  const peek = () => tokens[pos] as Token;
  const next = () => tokens[pos++] as Token;
  const expect = (t: Token['t'], what: string) => {
    const token = next();
    if (token.t !== t) throw new ClaimsExpressionError(`expected ${what}`, token.at);
    return token;
  };
  const or = (): ClaimsExpression => {
    let left = and();
    while (peek().t === '||') {
      next();
      left = { op: 'or', left, right: and() };
    }
    return left;
  };
  const and = (): ClaimsExpression => {
    let left = not();
    while (peek().t === '&&') {
      next();
      left = { op: 'and', left, right: not() };
    }
    return left;
  };
  const not = (): ClaimsExpression => {
    if (peek().t === '!') {
      next();
      return { op: 'not', expr: not() };
    }
    return primary();
  };
  const primary = (): ClaimsExpression => {
    const token = next();
    if (token.t === '(') {
      const inner = or();
      expect(')', '`)`');
      return inner;
    }
    if (token.t !== 'ident') {
      const shown = token.t === 'value' ? `\`${token.v}\`` : token.t === 'end' ? 'the end' : `\`${token.t}\``;
      throw new ClaimsExpressionError(
        `expected Equals, Prefix, Contains, OneOf, \`!\` or \`(\`, found ${shown}`,
        token.at,
      );
    }
    const fn = token.v as ClaimsFunction;
    const arity = FUNCTIONS[fn] as { min: number; max: number };
    expect('(', `\`(\` after ${fn}`);
    const args: string[] = [];
    for (;;) {
      const arg = next();
      if (arg.t !== 'value') throw new ClaimsExpressionError(`expected a claim name or a value in ${fn}(...)`, arg.at);
      args.push(arg.v);
      const sep = next();
      if (sep.t === ')') break;
      if (sep.t !== ',') throw new ClaimsExpressionError(`expected \`,\` or \`)\` in ${fn}(...)`, sep.at);
    }
    const [claim, ...values] = args as [string, ...string[]];
    if (values.length < arity.min || values.length > arity.max) {
      const wanted = arity.max === 1 ? 'one value' : 'at least one value';
      throw new ClaimsExpressionError(`${fn} takes a claim name and ${wanted}`, token.at);
    }
    return { op: 'call', fn, claim, values };
  };
  const expression = or();
  const rest = peek();
  if (rest.t !== 'end') throw new ClaimsExpressionError('unexpected text after the expression', rest.at);
  return expression;
}

/** A claim by name; a dotted name that is not itself a claim walks nested objects (`user.role`). */
export function claimValue(claims: Readonly<Record<string, unknown>>, name: string): unknown {
  if (Object.hasOwn(claims, name)) return claims[name];
  let value: unknown = claims;
  for (const part of name.split('.')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, part)) {
      return undefined;
    }
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** A scalar claim as the text Goma compares (`true`, `42`); objects and null compare as nothing. */
function scalarText(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return null;
}

function test(fn: ClaimsFunction, value: unknown, values: readonly string[]): boolean {
  if (Array.isArray(value)) {
    // An array claim must hold the value as an element, never merely as a substring of one.
    const each = fn === 'Contains' ? 'OneOf' : fn;
    return value.some((item) => !Array.isArray(item) && test(each, item, values));
  }
  const text = scalarText(value);
  if (text === null) return false;
  switch (fn) {
    case 'Equals':
    case 'OneOf':
      return values.includes(text);
    case 'Prefix':
      return text.startsWith(values[0] as string);
    case 'Contains':
      // A string claim contains the value as text (a space-separated `scope`).
      return values.some((v) => (typeof value === 'string' ? text.includes(v) : text === v));
  }
}

/** Evaluates a parsed expression over the verified claims. A missing claim never matches. */
export function evaluateClaims(expression: ClaimsExpression, claims: Readonly<Record<string, unknown>>): boolean {
  switch (expression.op) {
    case 'call': {
      const value = claimValue(claims, expression.claim);
      return value !== undefined && test(expression.fn, value, expression.values);
    }
    case 'not':
      return !evaluateClaims(expression.expr, claims);
    case 'and':
      return evaluateClaims(expression.left, claims) && evaluateClaims(expression.right, claims);
    case 'or':
      return evaluateClaims(expression.left, claims) || evaluateClaims(expression.right, claims);
  }
}
