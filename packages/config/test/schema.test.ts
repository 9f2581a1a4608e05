// One source: the spec table drives the validator and the JSON Schema. These tests check that every
// key in the table reaches the normalised config (so no key is accepted and silently dropped) and
// that the published schema describes exactly the keys the validator accepts.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse as parseYaml, stringify } from 'yaml';
import { jsonSchema } from '../src/json-schema.ts';
import { parseDuration } from '../src/duration.ts';
import { configSpec } from '../src/schema.ts';
import { parseSize } from '../src/size.ts';
import type { Field, ObjectSpec, Spec } from '../src/spec.ts';
import { everyBlock as base, gomaMtlsExample, load } from './helpers.ts';

/** A value for `field` that differs from its default and is valid where it stands. */
function sample(key: string, field: Field, spec: Spec = field.spec): unknown {
  const samples: Record<string, unknown> = {
    name: 'other',
    path: '/other',
    rewrite: '/rewritten',
    metricsPath: '/m',
    target: 'http://t:2',
    endpoint: 'http://e:2',
    header: 'x-identity',
    serverName: 'svc.internal',
    ciphers: 'ECDHE-RSA-AES128-GCM-SHA256',
    ecdhCurve: 'P-256',
    passphrase: 'pw',
    pidFile: '/run/x.pid',
    default: 'www.example.com',
    directoryUrl: 'https://acme.example.com/directory',
    addr: 'redis.other:6380',
    socket: '/run/x.sock',
    clientIdentity: false,
  };
  if (key in samples) return samples[key];
  switch (spec.kind) {
    case 'boolean':
      return field.default !== true;
    case 'integer': {
      const value = typeof field.default === 'number' ? field.default + 1 : (spec.minimum ?? 0) + 1;
      return spec.maximum !== undefined && value > spec.maximum ? spec.maximum - 1 : value;
    }
    case 'duration':
      return `${(field.default === undefined ? 6000 : (parseDuration(field.default) as number)) + 1000}ms`;
    case 'size':
      return (field.default === undefined ? 0 : (parseSize(field.default) as number)) + 1024;
    case 'address':
      return ':9999';
    case 'material':
      return '/other/material.pem';
    case 'status-range':
      return '201';
    case 'string':
      if (spec.enum) return spec.enum.find((e) => e !== field.default && e !== 'off');
      return 'x.example.com';
    case 'array': {
      if (Array.isArray(field.default) && spec.items.kind === 'string' && spec.items.enum) {
        return spec.items.enum.filter((e) => !(field.default as unknown[]).includes(e)).slice(0, 1);
      }
      if (key === 'methods') return ['GET'];
      if (key === 'trustedProxies') return ['10.0.0.0/8'];
      return [sample(key, { ...field, default: undefined }, spec.items)];
    }
    default:
      return undefined;
  }
}

interface Leaf {
  path: Array<string | number>;
  key: string;
  field: Field;
}

/** Every field that Gatehouse implements, with a path into `base`; list items go through index 0. */
function leaves(spec: ObjectSpec, path: Array<string | number> = []): Leaf[] {
  const out: Leaf[] = [];
  for (const [key, field] of Object.entries(spec.fields)) {
    if (field.gomaUnsupported || field.alias || field.spec.kind === 'literal') continue;
    const here = [...path, key];
    const inner = field.spec;
    const objectOf = (s: Spec): ObjectSpec | undefined =>
      s.kind === 'object'
        ? s
        : s.kind === 'union'
          ? (s.options.find((o) => o.kind === 'object') as ObjectSpec)
          : undefined;
    if (inner.kind === 'object') out.push(...leaves(inner, here));
    else if (inner.kind === 'map' && objectOf(inner.values))
      out.push(...leaves(objectOf(inner.values) as ObjectSpec, [...here, 'p']));
    else if (inner.kind === 'array' && objectOf(inner.items))
      out.push(...leaves(objectOf(inner.items) as ObjectSpec, [...here, 0]));
    else out.push({ path: here, key, field });
  }
  return out;
}

function setIn(target: Record<string, unknown>, path: Array<string | number>, value: unknown): void {
  let node: Record<string | number, unknown> = target;
  for (const step of path.slice(0, -1)) {
    node[step] ??= {};
    node = node[step] as Record<string | number, unknown>;
  }
  node[path[path.length - 1] as string | number] = value;
}

/** The normalised config without source positions, which move whenever a line is added. */
function shape(text: string): string {
  const result = load(text);
  assert.ok(result.ok, `${text}\n${JSON.stringify(result.ok ? [] : result.errors, null, 1)}`);
  return JSON.stringify(result.config, (k, v) => (k === 'at' ? undefined : v));
}

describe('the spec table', () => {
  it('maps every implemented key into the normalised config', () => {
    const baseline = shape(stringify(base));
    // gateway.routes has the same spec as routes; varying it through routes[0] covers both.
    // The legacy single-provider certManager shape excludes `providers`: cert-manager.test.ts covers it.
    // gateway.middlewares has the spec of middlewares. A middleware's `type` selects the spec of its
    // `rule` (covered by test/middleware.test.ts); monitoring.middleware is refused.
    const skipped = new Set(['middlewares.0.type', 'gateway.monitoring.middleware']);
    const all = leaves(configSpec).filter(
      (l) =>
        !(l.path[0] === 'gateway' && (l.path[1] === 'routes' || l.path[1] === 'middlewares')) &&
        !(l.path[0] === 'certManager' && l.path[1] === 'acme') &&
        !skipped.has(l.path.join('.')),
    );
    assert.ok(all.length > 80, `only ${all.length} leaves found`);
    const unmapped: string[] = [];
    // Where the generic sample would equal the effective default, or the key is overridden in `base`.
    const match = ['routes', 0, 'backends', 0, 'match'];
    const special: Record<string, [Array<string | number>, unknown]> = {
      'routes.0.clientAuth.mode': [['routes', 0, 'clientAuth', 'mode'], 'optional'],
      'routes.0.clientAuth.required': [['routes', 0, 'clientAuth', 'required'], false],
      // routes[0] has backends, which win over target; gateway.routes[0] uses target.
      'routes.0.target': [['gateway', 'routes', 0, 'target'], 'http://t:2'],
      // A canary condition needs its source and value; what each key does is in canary tests.
      'routes.0.backends.0.match.0.source': [match, [{ source: 'ip', value: '1' }]],
      'routes.0.backends.0.match.0.name': [match, [{ source: 'header', name: 'x-a', value: '1' }]],
      'routes.0.backends.0.match.0.operator': [match, [{ source: 'ip', operator: 'contains', value: '1' }]],
      'routes.0.backends.0.match.0.value': [match, [{ source: 'ip', value: '2' }]],
      // A folder needs its directory; what each key does is in extra-config.test.ts.
      'gateway.extraConfig.directory': [['gateway', 'extraConfig'], { directory: '/d' }],
      'gateway.extraConfig.watch': [['gateway', 'extraConfig'], { directory: '/d', watch: true }],
      'gateway.providers.file.enabled': [['gateway', 'providers', 'file'], { enabled: true, directory: '/d' }],
      'gateway.providers.file.directory': [['gateway', 'providers', 'file'], { enabled: true, directory: '/e' }],
      'gateway.providers.file.watch': [
        ['gateway', 'providers', 'file'],
        { enabled: true, directory: '/d', watch: true },
      ],
      // Any address but loopback needs a token; a token needs 16 characters.
      'gateway.admin.address': [['gateway', 'admin', 'address'], '127.0.0.1:9999'],
      'gateway.admin.token': [['gateway', 'admin', 'token'], 'a-sample-admin-token'],
      'routes.0.tls.provider': [['routes', 0, 'tls', 'provider'], 'p'],
      'certManager.defaultProvider': [['certManager', 'defaultProvider'], 'q'],
      'gateway.entryPoints.passThrough.forwards.0.protocol': [
        ['gateway', 'entryPoints', 'passThrough', 'forwards', 0, 'protocol'],
        'udp',
      ],
      'gateway.entryPoints.passThrough.forwards.0.target': [
        ['gateway', 'entryPoints', 'passThrough', 'forwards', 0, 'target'],
        'ssh:2200',
      ],
      'gateway.entryPoints.passThrough.forwards.0.host': [
        ['gateway', 'entryPoints', 'passThrough', 'forwards', 0, 'host'],
        '127.0.0.1',
      ],
      'middlewares.0.paths': [['middlewares', 0, 'paths'], ['/p']],
      'middlewares.0.rule': [['middlewares', 0, 'rule'], { statusCode: 404 }],
      'routes.0.middlewares': [['routes', 0, 'middlewares'], ['m']],
      'routes.0.maintenance.enabled': [['routes', 0, 'maintenance', 'enabled'], false],
      'gateway.defaults.middlewares': [['gateway', 'defaults', 'middlewares'], ['m']],
      'gateway.redis.addr': [['gateway', 'redis', 'addr'], 'redis.example.com:6380'],
      'gateway.cors.allowMethods': [['gateway', 'cors', 'allowMethods'], ['PUT']],
      'gateway.cors.headers': [['gateway', 'cors', 'headers'], { 'X-Session-Id': 'abc' }],
      'routes.0.cors.headers': [['routes', 0, 'cors', 'headers'], { 'X-Session-Id': 'abc' }],
      'routes.0.cors.allowMethods': [['routes', 0, 'cors', 'allowMethods'], ['PUT']],
    };
    // Accepted so that a Goma file runs, but the only value allowed is what Gatehouse does anyway.
    // `proxy.enabled: false` empties a trust list that `base` does not have: goma-reading.test.ts.
    const onlyGatehouseBehaviour = new Set(['gateway.proxy.ipHeaders', 'gateway.proxy.enabled']);
    for (const found of all) {
      if (onlyGatehouseBehaviour.has(found.path.join('.'))) continue;
      const override = special[found.path.join('.')];
      const leaf = override ? { ...found, path: override[0] } : found;
      const value = override ? override[1] : sample(leaf.key, leaf.field);
      assert.notEqual(value, undefined, `no sample for ${leaf.path.join('.')}`);
      const variant = structuredClone(base) as Record<string, unknown>;
      setIn(variant, leaf.path, value);
      if (shape(stringify(variant)) === baseline) unmapped.push(`${leaf.path.join('.')} = ${JSON.stringify(value)}`);
    }
    assert.deepEqual(unmapped, [], 'keys accepted but not reaching GatewayConfig');
  });
  it('documents every key and gives every scalar default in the table', () => {
    const walk = (spec: ObjectSpec, path: string) => {
      for (const [key, field] of Object.entries(spec.fields)) {
        assert.ok(field.description.length > 5, `${path}${key} has no description`);
        if (field.spec.kind === 'object') walk(field.spec, `${path}${key}.`);
      }
    };
    walk(configSpec, '');
  });
});

interface SchemaNode {
  $ref?: string;
  type?: string;
  properties?: Record<string, SchemaNode>;
  required?: string[];
  additionalProperties?: boolean;
  items?: SchemaNode;
  anyOf?: SchemaNode[];
  description?: string;
  default?: unknown;
}

/** Checks the keys of `value` against the schema the way an editor would: unknown keys, required keys. */
function schemaProblems(
  schema: SchemaNode,
  root: SchemaNode & { $defs: Record<string, SchemaNode> },
  value: unknown,
  path: string,
): string[] {
  if (schema.$ref)
    return schemaProblems(root.$defs[schema.$ref.replace('#/$defs/', '')] as SchemaNode, root, value, path);
  if (schema.anyOf) {
    const results = schema.anyOf.map((s) => schemaProblems(s, root, value, path));
    return results.find((r) => r.length === 0) ?? (results[0] as string[]);
  }
  const problems: string[] = [];
  if (schema.type === 'object') {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return [`${path}: not an object`];
    for (const [key, inner] of Object.entries(value)) {
      const property = schema.properties?.[key];
      if (!property) problems.push(`${path}.${key}: not in schema`);
      else problems.push(...schemaProblems(property, root, inner, `${path}.${key}`));
    }
    for (const key of schema.required ?? []) if (!(key in value)) problems.push(`${path}.${key}: required`);
  } else if (schema.type === 'array') {
    if (!Array.isArray(value)) return [`${path}: not an array`];
    for (const [i, item] of value.entries()) {
      problems.push(...schemaProblems(schema.items as SchemaNode, root, item, `${path}[${i}]`));
    }
  } else if (schema.type === 'string' && typeof value !== 'string') problems.push(`${path}: not a string`);
  return problems;
}

describe('jsonSchema', () => {
  const schema = jsonSchema() as unknown as SchemaNode & { $defs: Record<string, SchemaNode>; $schema: string };
  it('is draft 2020-12 and closed at every level', () => {
    assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
    assert.equal(schema.additionalProperties, false);
    assert.equal(schema.$defs.route?.additionalProperties, false);
    assert.deepEqual(schema.$defs.route?.required, ['name', 'path']);
  });
  it('carries descriptions and defaults', () => {
    const gateway = schema.properties?.gateway?.properties;
    const timeouts = gateway?.timeouts?.properties;
    assert.equal(timeouts?.upstreamIdle?.default, '4s');
    assert.match(timeouts?.upstreamIdle?.description ?? '', /keep-alive/);
    assert.equal(gateway?.entryPoints?.properties?.web?.properties?.address?.default, ':8080');
    assert.equal(gateway?.admin?.properties?.address?.default, '127.0.0.1:9180');
    assert.equal(gateway?.limits?.properties?.maxHeaderBytes?.default, '16KiB');
  });
  it('accepts the Goma example and the deploy examples', () => {
    const files = ['gatehouse.yaml', 'mtls.yaml'].map((f) =>
      readFileSync(join(import.meta.dirname, '..', '..', '..', 'deploy', 'examples', f), 'utf8'),
    );
    for (const text of [gomaMtlsExample, ...files]) {
      assert.deepEqual(schemaProblems(schema, schema, parseYaml(text), ''), []);
    }
  });
  it('rejects what the validator rejects: unknown keys and missing required keys', () => {
    const problems = schemaProblems(schema, schema, parseYaml('routes:\n  - path: /\n    backend: []\n'), '');
    assert.deepEqual(problems.sort(), ['.routes[0].backend: not in schema', '.routes[0].name: required']);
  });
  it('is plain JSON', () => {
    assert.deepEqual(JSON.parse(JSON.stringify(schema)), schema);
  });
});
