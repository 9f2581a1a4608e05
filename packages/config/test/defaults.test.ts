// Defaults live in one place, the spec table: the walk fills every default the table declares, and
// normalize.ts only converts. These tests check that writing every default out by hand changes
// nothing in the normalised config, and that normalize.ts keeps no second copy of a default. With
// schema.test.ts (every key changes GatewayConfig), the value of a key left out is therefore the
// table's default, converted.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { configSpec } from '../src/schema.ts';
import type { ObjectSpec, Spec } from '../src/spec.ts';
import { everyBlock, ok } from './helpers.ts';

type Plain = Record<string, unknown>;

function isPlain(value: unknown): value is Plain {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Every key of every object spec whose default the walk below wrote out. */
const reached = new Map<ObjectSpec, Set<string>>();

/** Writes every default of `spec` that `data` leaves out, at every level `data` has; counts them. */
function writeDefaults(spec: Spec, data: unknown, path: string, written: string[]): void {
  if (spec.kind === 'array' && Array.isArray(data)) {
    for (const item of data) writeDefaults(spec.items, item, `${path}[]`, written);
    return;
  }
  if (spec.kind === 'map' && isPlain(data)) {
    for (const value of Object.values(data)) writeDefaults(spec.values, value, `${path}.*`, written);
    return;
  }
  if (spec.kind !== 'object' || !isPlain(data)) return;
  const spelled = new Set(Object.entries(spec.fields).flatMap(([k, f]) => (k in data ? [f.alias ?? k] : [])));
  for (const [key, field] of Object.entries(spec.fields)) {
    if (field.alias || field.gomaUnsupported) continue;
    const keyPath = path ? `${path}.${key}` : key;
    if (spelled.has(key)) {
      writeDefaults(field.spec, data[key], keyPath, written);
    } else if (field.default !== undefined) {
      data[key] = structuredClone(field.default);
      written.push(keyPath);
      reached.set(spec, (reached.get(spec) ?? new Set()).add(key));
    } else if (field.spec.kind === 'object' && !field.optional) {
      // The walk fills a block left out as it fills one written empty.
      data[key] = {};
      writeDefaults(field.spec, data[key], keyPath, written);
    }
  }
}

/** The normalised config without source positions (writing keys out moves lines). */
function positionless(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(positionless);
  if (!isPlain(value)) return value;
  const out: Plain = {};
  for (const [key, inner] of Object.entries(value)) {
    if (key === 'at' || (isPlain(inner) && 'line' in inner && 'col' in inner)) continue;
    out[key] = positionless(inner);
  }
  return out;
}

/** Defaults whose object spec the walk above never reached, by one path each. */
function unreached(spec: ObjectSpec, path: string, out: string[], seen = new Set<ObjectSpec>()): string[] {
  if (seen.has(spec)) return out;
  seen.add(spec);
  for (const [key, field] of Object.entries(spec.fields)) {
    if (field.alias || field.gomaUnsupported) continue;
    const keyPath = path ? `${path}.${key}` : key;
    if (field.default !== undefined && !reached.get(spec)?.has(key)) out.push(keyPath);
    let inner: Spec = field.spec;
    let innerPath = keyPath;
    while (inner.kind === 'array' || inner.kind === 'map') {
      innerPath += inner.kind === 'array' ? '[]' : '.*';
      inner = inner.kind === 'array' ? inner.items : inner.values;
    }
    if (inner.kind === 'object') unreached(inner, innerPath, out, seen);
  }
  return out;
}

describe('defaults come from the spec table only', () => {
  /** Writes every default `implicit` leaves out and checks that the normalised config stays the same. */
  function sameWithDefaultsWritten(implicit: Plain): string[] {
    const explicit = structuredClone(implicit);
    const written: string[] = [];
    writeDefaults(configSpec, explicit, '', written);
    assert.deepEqual(
      positionless(ok(stringify(explicit))),
      positionless(ok(stringify(implicit))),
      `defaults written: ${written.join(', ')}`,
    );
    return written;
  }

  it('a file with every default written out normalises exactly as one that leaves them out', () => {
    // `healthCheck: {}` is Goma's "not set": a key without a default makes the block present.
    const implicit = structuredClone(everyBlock) as Plain;
    ((implicit.routes as Plain[])[0] as Plain).healthCheck = { healthyStatuses: [200] };
    ((implicit.routes as Plain[])[0] as Plain).tls = {};
    (implicit.gateway as Plain).extraConfig = { directory: 'extra' };
    (implicit.gateway as Plain).providers = { file: { directory: 'more' } };
    const written = sameWithDefaultsWritten(implicit);
    // The lists and blocks `everyBlock` fills, left out.
    const route = {
      name: 'r',
      path: '/',
      target: 'http://b:1',
      cors: { origins: ['https://a.example'], allowCredentials: true },
    };
    const gateway = { cors: { origins: ['https://a.example'], allowCredentials: true } };
    written.push(...sameWithDefaultsWritten({ version: 2, gateway, routes: [route] }));
    written.push(...sameWithDefaultsWritten({ version: 2, gateway: { routes: [route] } }));
    assert.ok(written.length > 100, `only ${written.length} defaults written`);
    // Every default the table declares was written out at least once (`version` is the file's own
    // and always written; a maintenance block is there only with `enabled`).
    assert.deepEqual(
      unreached(configSpec, '', []),
      ['version', 'gateway.routes[].maintenance.enabled'],
      'defaults the test cannot reach: give the files above the block that holds them',
    );
  });

  it('normalize.ts has no fallback that repeats a default (the walk filled it before)', () => {
    const source = readFileSync(join(import.meta.dirname, '../src/normalize.ts'), 'utf8');
    // `num(x, 5000)`, `bool(x, true)`, `text(x) ?? 'info'`: a second copy that can drift from the table.
    const fallbacks = [
      ...source.matchAll(/\bnum\([^()]*,\s*([^)]+)\)/g),
      ...source.matchAll(/\bbool\([^()]*,\s*([^)]+)\)/g),
    ].map((m) => (m[1] as string).trim());
    const written = fallbacks.filter((f) => f !== '0' && f !== 'false');
    assert.deepEqual(written, [], 'fallbacks other than the neutral 0 or false');
    const textDefaults = [...source.matchAll(/\btext\([^()]*\)\s*\?\?\s*('[^']*')/g)].map((m) => m[1]);
    assert.deepEqual(
      textDefaults.filter((t) => t !== "''"),
      [],
      'string fallbacks other than the empty string',
    );
  });
});
