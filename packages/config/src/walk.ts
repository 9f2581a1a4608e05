// Walks the YAML syntax tree against the spec table. It checks every key and value in one pass,
// records the exact position of each, expands `${ENV}`, converts durations, sizes, addresses and
// certificate references, and fills defaults. Problems become diagnostics; the walk never stops
// early, so the operator sees every mistake at once. The result is plain data for normalize.ts.
import {
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  type LineCounter,
  type Node,
  type Pair,
  type Scalar,
} from 'yaml';
import { parseListenAddress } from './address.ts';
import { ConfigCode, type DiagnosticList } from './diagnostics.ts';
import { parseDuration } from './duration.ts';
import { expandEnv } from './env.ts';
import { materialRef } from './material-ref.ts';
import { isOffValue } from './off-value.ts';
import { parseSize } from './size.ts';
import type { Field, ObjectSpec, Spec } from './spec.ts';
import { closest } from './suggest.ts';
import type { SourcePos } from './types.ts';

export interface WalkContext {
  doc: Document;
  text: string;
  lineCounter: LineCounter;
  file: string;
  configDir: string;
  env: Record<string, string | undefined>;
  diags: DiagnosticList;
  /** Position of each value present in the file, by key path. */
  values: Map<string, SourcePos>;
  /** Position of each key present in the file, by key path. */
  keys: Map<string, SourcePos>;
  /** The whole spec, to say where a key that is unknown here does belong. */
  root: ObjectSpec;
}

const homes = new WeakMap<ObjectSpec, Map<string, string>>();

/** Where else in the spec `key` is valid (the first such place), for misplaced keys. */
function elsewhere(root: ObjectSpec, key: string): string | undefined {
  let index = homes.get(root);
  if (!index) {
    const found = new Map<string, string>();
    const visit = (spec: Spec, path: string, seen: Set<Spec>) => {
      if (seen.has(spec)) return;
      seen.add(spec);
      if (spec.kind === 'array') return visit(spec.items, `${path}[]`, seen);
      if (spec.kind === 'map') return visit(spec.values, `${path}.<name>`, seen);
      if (spec.kind === 'union') {
        for (const option of spec.options) visit(option, path, seen);
        return;
      }
      if (spec.kind !== 'object') return;
      for (const [name, field] of Object.entries(spec.fields)) {
        if (field.gomaUnsupported || field.alias || field.deprecated) continue;
        const here = childPath(path, name);
        if (!found.has(name)) found.set(name, path === '' ? 'the top level' : path);
        visit(field.spec, here, seen);
      }
    };
    // Routes first: they are where most keys live, and where a user looks.
    const routes = root.fields.routes;
    if (routes) visit(routes.spec, 'routes', new Set());
    visit(root, '', new Set());
    index = found;
    homes.set(root, index);
  }
  return index.get(key);
}

export type Plain = Record<string, unknown>;

/**
 * A YAML value kept as a node, to be walked later with `walk` against a spec chosen then, in the
 * context (file, line counter) it came from: an extra config file's node is not the main file's.
 */
export class YamlValue {
  readonly node: unknown;
  readonly at: SourcePos;
  readonly ctx: WalkContext;
  constructor(node: unknown, at: SourcePos, ctx: WalkContext) {
    this.node = node;
    this.at = at;
    this.ctx = ctx;
  }
}

const scalarKinds = new Set([
  'string',
  'integer',
  'duration',
  'size',
  'address',
  'material',
  'status-range',
  'literal',
]);

export function childPath(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function lastKey(path: string): string {
  const match = /([^.[\]]+)(\[\d+\])?$/.exec(path);
  return match ? (match[1] as string) : path;
}

export function position(
  ctx: WalkContext,
  node: Node | null | undefined,
  path: string,
  fallback: SourcePos,
): SourcePos {
  const offset = node?.range?.[0];
  if (offset === undefined) return { ...fallback, path };
  return positionAt(ctx, offset, path);
}

export function positionAt(ctx: WalkContext, offset: number, path: string): SourcePos {
  const { line, col } = ctx.lineCounter.linePos(offset);
  return { file: ctx.file, line, col, path };
}

function resolve(ctx: WalkContext, node: unknown): Node | null {
  if (node === null || node === undefined) return null;
  if (isAlias(node)) return (node.resolve(ctx.doc) as Node | undefined) ?? null;
  return node as Node;
}

function describe(node: Node | null, value?: unknown): string {
  if (isMap(node)) return 'a map';
  if (isSeq(node)) return 'a list';
  const v = value === undefined && isScalar(node) ? node.value : value;
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

function isNullish(node: Node | null): boolean {
  return node === null || (isScalar(node) && node.value === null);
}

/** A scalar's value after `${ENV}` expansion; an expanded plain scalar is re-typed as YAML would. */
function scalarValue(ctx: WalkContext, node: Scalar, at: SourcePos): { ok: true; value: unknown } | { ok: false } {
  let value: unknown = node.value;
  if (typeof value === 'string' && value.includes('${')) {
    const expansion = expandEnv(value, ctx.env);
    if (!expansion.ok) {
      const quoted = node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE' ? 1 : 0;
      const start = node.range?.[0];
      const where = start === undefined ? at : positionAt(ctx, start + quoted + expansion.index, at.path);
      ctx.diags.error(
        ConfigCode.env,
        where,
        `${at.path}: environment variable \`${expansion.name}\` is not set`,
        `set ${expansion.name}, or give a default: \`\${${expansion.name}:-VALUE}\``,
      );
      return { ok: false };
    }
    value = expansion.value;
    if (node.type === 'PLAIN' || node.type === undefined) {
      const text = expansion.value.trim();
      if (/^-?\d+(\.\d+)?$/.test(text)) value = Number(text);
      else if (text === 'true' || text === 'false') value = text === 'true';
    }
  }
  return { ok: true, value };
}

/** The text of a plain number as written (so `1.10` stays `1.10` where a string is wanted). */
function sourceText(ctx: WalkContext, node: Scalar, value: unknown): string {
  const range = node.range;
  if (typeof value === 'number' && range && (node.type === 'PLAIN' || node.type === undefined)) {
    return ctx.text.slice(range[0], range[1]).trim();
  }
  return String(value);
}

function typeError(
  ctx: WalkContext,
  spec: Spec,
  at: SourcePos,
  expected: string,
  got: string,
  hint: string | null = null,
) {
  const subject = at.path === '' ? 'the file' : lastKey(at.path);
  ctx.diags.error(
    spec.code ?? ConfigCode.type,
    at,
    `${at.path}: ${subject} must be ${expected} (got ${got})`,
    hint ?? spec.hint ?? null,
  );
}

/** Walks `node` against `spec`; undefined means "invalid, already reported". */
export function walk(ctx: WalkContext, spec: Spec, rawNode: unknown, path: string, fallback: SourcePos): unknown {
  const node = resolve(ctx, rawNode);
  const at = position(ctx, rawNode as Node | null, path, fallback);
  ctx.values.set(path, at);
  switch (spec.kind) {
    case 'object':
      return walkObject(ctx, spec, node, path, at);
    case 'array': {
      if (!isSeq(node)) {
        typeError(ctx, spec, at, 'a list', describe(node), 'write one item per line, each starting with `- `');
        return undefined;
      }
      return node.items.map((item, index) => walk(ctx, spec.items, item, `${path}[${index}]`, at));
    }
    case 'map': {
      if (!isMap(node)) {
        typeError(ctx, spec, at, 'a map of names', describe(node));
        return undefined;
      }
      const out: Plain = {};
      for (const { key, keyNode, value } of entries(ctx, node, path, at)) {
        const keyPath = childPath(path, key);
        ctx.keys.set(keyPath, position(ctx, keyNode, keyPath, at));
        out[key] = walk(ctx, spec.values, value, keyPath, ctx.keys.get(keyPath) as SourcePos);
      }
      return out;
    }
    case 'union': {
      const option = pickOption(spec.options, node);
      if (!option) {
        typeError(ctx, spec, at, spec.expected, describe(node));
        return undefined;
      }
      return walk(ctx, option, rawNode, path, fallback);
    }
    case 'any':
      if (spec.keepNode) return new YamlValue(rawNode, at, ctx);
      return node ? node.toJSON() : null;
    default:
      return walkScalar(ctx, spec, node, at);
  }
}

/**
 * Goma reads its file with Go's yaml.v3, which takes YAML 1.1 booleans (`yes`, `off`, ...) for a
 * bool field when they are written plain; so do we, so that such a file runs unchanged.
 */
function yaml11Boolean(node: Scalar, value: unknown): boolean | null {
  if (typeof value !== 'string' || (node.type !== 'PLAIN' && node.type !== undefined)) return null;
  const word = value.toLowerCase();
  if (word === 'yes' || word === 'on' || word === 'y') return true;
  if (word === 'no' || word === 'off' || word === 'n') return false;
  return null;
}

function pickOption(options: Spec[], node: Node | null): Spec | undefined {
  if (isMap(node)) return options.find((o) => o.kind === 'object' || o.kind === 'any');
  if (isSeq(node)) return options.find((o) => o.kind === 'array' || o.kind === 'any');
  if (isScalar(node) && (typeof node.value === 'boolean' || yaml11Boolean(node, node.value) !== null)) {
    return options.find((o) => o.kind === 'boolean');
  }
  if (isScalar(node)) return options.find((o) => scalarKinds.has(o.kind));
  return undefined;
}

function walkScalar(ctx: WalkContext, spec: Spec, node: Node | null, at: SourcePos): unknown {
  if (!isScalar(node)) {
    typeError(ctx, spec, at, expectedOf(spec), describe(node));
    return undefined;
  }
  const read = scalarValue(ctx, node, at);
  if (!read.ok) return undefined;
  const value = read.value;
  const key = lastKey(at.path);
  switch (spec.kind) {
    case 'string': {
      if (typeof value !== 'string' && typeof value !== 'number') {
        typeError(ctx, spec, at, spec.expected ?? 'a string', describe(node, value));
        return undefined;
      }
      let text = typeof value === 'number' ? sourceText(ctx, node, value) : value;
      if (text === '' && spec.emptyIsAbsent) return undefined;
      if (spec.enum) {
        const lower = text.toLowerCase();
        const aliased = spec.aliases?.[lower] ?? spec.aliases?.[text];
        const match = aliased ?? spec.enum.find((e) => e.toLowerCase() === lower);
        if (match === undefined) {
          const near = closest(text, spec.enum);
          ctx.diags.error(
            spec.code ?? ConfigCode.enum,
            at,
            `${at.path}: ${key} must be one of ${spec.enum.map((e) => `\`${e}\``).join(', ')} (got ${JSON.stringify(text)})`,
            near ? `did you mean \`${near}\`?` : (spec.hint ?? null),
          );
          return undefined;
        }
        text = match;
      }
      if (spec.check) {
        const problem = spec.check(text);
        if (problem) {
          ctx.diags.error(spec.code ?? ConfigCode.type, at, `${at.path}: ${problem}`, spec.hint ?? null);
          return undefined;
        }
      }
      return text;
    }
    case 'boolean': {
      const yaml11 = yaml11Boolean(node, value);
      if (yaml11 !== null) return yaml11;
      if (typeof value !== 'boolean') {
        typeError(ctx, spec, at, '`true` or `false`', describe(node, value));
        return undefined;
      }
      return value;
    }
    case 'integer': {
      const min = spec.minimum;
      const max = spec.maximum;
      const range =
        min !== undefined && max !== undefined
          ? ` from ${min} to ${max}`
          : min !== undefined
            ? ` >= ${min}`
            : max !== undefined
              ? ` <= ${max}`
              : '';
      if (
        typeof value !== 'number' ||
        !Number.isInteger(value) ||
        (min !== undefined && value < min) ||
        (max !== undefined && value > max)
      ) {
        const code = spec.code ?? (typeof value === 'number' ? ConfigCode.range : ConfigCode.type);
        ctx.diags.error(
          code,
          at,
          `${at.path}: ${key} must be a whole number${range} (got ${describe(node, value)})`,
          spec.hint ?? null,
        );
        return undefined;
      }
      return value;
    }
    case 'duration': {
      const ms = parseDuration(value);
      if (ms === null) {
        ctx.diags.error(
          spec.code ?? ConfigCode.duration,
          at,
          `${at.path}: ${describe(node, value)} is not a duration`,
          'write a duration such as `500ms`, `15s`, `1m` or `1h30m`, or a whole number of seconds',
        );
        return undefined;
      }
      return ms;
    }
    case 'size': {
      const bytes = parseSize(value);
      if (bytes === null) {
        ctx.diags.error(
          spec.code ?? ConfigCode.size,
          at,
          `${at.path}: ${describe(node, value)} is not a size`,
          'write a size such as `16KiB`, `10MiB`, `10MB`, or a whole number of bytes',
        );
        return undefined;
      }
      return bytes;
    }
    case 'address': {
      if (value === false || value === '') return null;
      if (typeof value !== 'string') {
        const hint = typeof value === 'number' ? `write \`":${value}"\` to listen on all interfaces` : null;
        typeError(
          ctx,
          spec,
          at,
          'a listen address such as `":8080"` or `"127.0.0.1:9180"`',
          describe(node, value),
          hint,
        );
        return undefined;
      }
      const parsed = parseListenAddress(value);
      if ('error' in parsed) {
        ctx.diags.error(
          spec.code ?? ConfigCode.address,
          at,
          `${at.path}: "${value}" is not a listen address: ${parsed.error}`,
          'write `:PORT`, `HOST:PORT` or `[IPv6]:PORT`; `""` turns the listener off',
        );
        return undefined;
      }
      return parsed;
    }
    case 'material': {
      if (typeof value !== 'string') {
        typeError(ctx, spec, at, 'a file path, PEM text or base64 of PEM', describe(node, value));
        return undefined;
      }
      if (value.trim() === '') {
        // Empty trust material is no trust at all: an empty `clientCA` would leave Node's public
        // root store in its place. So it is an error, however the emptiness came about.
        const raw = typeof node.value === 'string' ? node.value : '';
        const viaEnv = raw.includes('${');
        ctx.diags.error(
          ConfigCode.emptyMaterial,
          at,
          `${at.path}: ${key} is empty${viaEnv ? ` (${raw.trim()} expands to ${JSON.stringify(value)})` : ''}`,
          viaEnv
            ? 'set the variable to a file path, PEM text or base64 of PEM, or remove the key'
            : 'give a file path, PEM text or base64 of PEM, or remove the key',
        );
        return undefined;
      }
      return materialRef(value, spec.material, ctx.configDir, at);
    }
    case 'status-range':
      return statusRange(ctx, spec, value, node, at);
    case 'literal':
      if (!spec.values.includes(value as string | number)) {
        ctx.diags.error(
          spec.code ?? ConfigCode.enum,
          at,
          `${at.path}: ${key} must be ${spec.values.map((v) => JSON.stringify(v)).join(' or ')} (got ${describe(node, value)})`,
          spec.hint ?? null,
        );
        return undefined;
      }
      return value;
    default:
      return undefined;
  }
}

function statusRange(
  ctx: WalkContext,
  spec: Spec,
  value: unknown,
  node: Node,
  at: SourcePos,
): [number, number] | undefined {
  const fail = () => {
    ctx.diags.error(
      spec.code ?? ConfigCode.status,
      at,
      `${at.path}: ${describe(node, value)} is not an HTTP status or status range`,
      'write a status from 100 to 599 (`200`), a range (`"200-399"`) or a class (`"2xx"`)',
    );
    return undefined;
  };
  const valid = (n: number) => Number.isInteger(n) && n >= 100 && n <= 599;
  if (typeof value === 'number') return valid(value) ? [value, value] : fail();
  if (typeof value !== 'string') return fail();
  const text = value.trim();
  const cls = /^([1-5])xx$/i.exec(text);
  if (cls) return [Number(cls[1]) * 100, Number(cls[1]) * 100 + 99];
  const range = /^(\d{3})\s*-\s*(\d{3})$/.exec(text);
  if (range) {
    const low = Number(range[1]);
    const high = Number(range[2]);
    return valid(low) && valid(high) && low <= high ? [low, high] : fail();
  }
  if (/^\d{3}$/.test(text) && valid(Number(text))) return [Number(text), Number(text)];
  return fail();
}

function expectedOf(spec: Spec): string {
  switch (spec.kind) {
    case 'string':
      return spec.expected ?? 'a string';
    case 'boolean':
      return '`true` or `false`';
    case 'integer':
      return 'a whole number';
    case 'duration':
      return 'a duration such as `15s`';
    case 'size':
      return 'a size such as `16KiB`';
    case 'address':
      return 'a listen address such as `":8080"`';
    case 'material':
      return 'a file path, PEM text or base64 of PEM';
    case 'status-range':
      return 'an HTTP status or range';
    case 'literal':
      return spec.values.map((v) => JSON.stringify(v)).join(' or ');
    default:
      return 'a value';
  }
}

interface Entry {
  key: string;
  keyNode: Node;
  value: unknown;
}

/** The map's own pairs, then those merged in with `<<: *anchor` for keys not given directly. */
function entries(ctx: WalkContext, map: Node, path: string, at: SourcePos): Entry[] {
  const own: Entry[] = [];
  const merged: Entry[] = [];
  for (const pair of (map as unknown as { items: Pair[] }).items) {
    const keyNode = pair.key as Node | null;
    if (!isScalar(keyNode) || (typeof keyNode.value !== 'string' && typeof keyNode.value !== 'number')) {
      ctx.diags.error(ConfigCode.type, position(ctx, keyNode, path, at), `${path || 'file'}: keys must be plain names`);
      continue;
    }
    const key = String(keyNode.value);
    if (key === '<<') {
      const target = resolve(ctx, pair.value);
      const sources = isSeq(target) ? target.items.map((i) => resolve(ctx, i)) : [target];
      for (const source of sources) {
        if (!isMap(source)) continue;
        for (const inner of source.items) {
          const innerKey = inner.key as Node | null;
          if (isScalar(innerKey)) merged.push({ key: String(innerKey.value), keyNode: innerKey, value: inner.value });
        }
      }
      continue;
    }
    own.push({ key, keyNode, value: pair.value });
  }
  const ownKeys = new Set(own.map((e) => e.key));
  return [...own, ...merged.filter((e) => !ownKeys.has(e.key))];
}

/** The value as plain data, aliases resolved: for judging whether a Goma key holds its off value. */
function plainValue(ctx: WalkContext, value: unknown): unknown {
  const node = resolve(ctx, value);
  return node ? node.toJS(ctx.doc) : null;
}

/** The advice part of a Goma key's description (`Goma debug mode; use ...`), if it has one. */
function gomaHint(description: string): string | null {
  const advice = description.split('; ').slice(1).join('; ');
  return advice === '' || /^not supported by Gatehouse\.?$/.test(advice) ? null : advice;
}

function walkObject(
  ctx: WalkContext,
  spec: ObjectSpec,
  node: Node | null,
  path: string,
  at: SourcePos,
): Plain | undefined {
  if (node !== null && !isMap(node)) {
    typeError(ctx, spec, at, 'a map of keys', describe(node));
    return undefined;
  }
  const out: Plain = {};
  const setBy = new Map<string, string>();
  for (const { key, keyNode, value } of node ? entries(ctx, node, path, at) : []) {
    const keyPath = childPath(path, key);
    const keyAt = position(ctx, keyNode, keyPath, at);
    const field: Field | undefined = spec.fields[key];
    if (!field && spec.extensions && key.startsWith('x-')) continue;
    if (!field) {
      const near = closest(key, Object.keys(spec.fields));
      const valid = Object.entries(spec.fields)
        .filter(([, f]) => !f.gomaUnsupported && !f.alias && !f.deprecated)
        .map(([k]) => k);
      ctx.diags.error(
        ConfigCode.unknownKey,
        keyAt,
        `${keyPath}: unknown key \`${key}\``,
        near
          ? `did you mean \`${near}\`?`
          : elsewhere(ctx.root, key)
            ? `\`${key}\` belongs under \`${elsewhere(ctx.root, key)}\`; check the indentation`
            : `valid keys here: ${valid.join(', ')}`,
      );
      continue;
    }
    if (field.gomaUnsupported) {
      ctx.keys.set(keyPath, keyAt);
      if (isOffValue(plainValue(ctx, value))) continue;
      if (field.gomaRefused) {
        ctx.diags.error(
          ConfigCode.unsupportedKey,
          keyAt,
          `${keyPath}: Goma Gateway key \`${key}\` is not supported by Gatehouse; refused rather than ignored, because ignoring it would change what is served`,
          gomaHint(field.description),
        );
      } else {
        ctx.diags.warning(
          ConfigCode.unsupportedKey,
          keyAt,
          `${keyPath}: Goma Gateway key \`${key}\` is not supported by Gatehouse; ignored`,
          gomaHint(field.description),
        );
      }
      continue;
    }
    if (field.deprecated) {
      ctx.diags.warning(ConfigCode.deprecatedKey, keyAt, `${keyPath}: \`${key}\` is deprecated`, field.deprecated);
    }
    const canonical = field.alias ?? key;
    const canonicalPath = childPath(path, canonical);
    const earlier = setBy.get(canonical);
    if (earlier !== undefined) {
      ctx.diags.error(
        ConfigCode.duplicateKey,
        keyAt,
        `${keyPath}: \`${key}\` and \`${earlier}\` set the same thing`,
        `keep only one of \`${earlier}\` and \`${key}\``,
      );
      continue;
    }
    setBy.set(canonical, key);
    const valueNode = resolve(ctx, value);
    if (isNullish(valueNode)) continue; // `key:` with nothing: as if absent (defaults below)
    if (field.offIsAbsent && isOffValue(plainValue(ctx, value))) continue;
    ctx.keys.set(canonicalPath, keyAt);
    out[canonical] = walk(ctx, field.spec, value, canonicalPath, keyAt);
  }
  for (const [key, field] of Object.entries(spec.fields)) {
    if (field.alias || field.gomaUnsupported || key in out) continue;
    const keyPath = childPath(path, key);
    if (field.required) {
      ctx.diags.error(
        ConfigCode.required,
        at,
        `${path || 'file'}: \`${key}\` is required`,
        `add \`${key}:\` (${field.description.replace(/\.$/, '')})`,
      );
      continue;
    }
    if (field.default !== undefined) {
      out[key] = walk(ctx, field.spec, ctx.doc.createNode(field.default), keyPath, at);
      ctx.values.delete(keyPath);
    } else if (field.spec.kind === 'object' && !field.optional) {
      out[key] = walkObject(ctx, field.spec, null, keyPath, at);
    }
  }
  return out;
}
