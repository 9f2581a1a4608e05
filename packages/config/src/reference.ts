// The spec table as a Markdown key reference for operators (`gatehouse schema --markdown`), kept in
// packages/config/REFERENCE.md. Same source as the validator and the JSON Schema.
import { middlewareTypes } from './middleware/registry.ts';
import { configSpec, routeSpec } from './schema.ts';
import type { Field, ObjectSpec, Spec } from './spec.ts';

function typeName(spec: Spec): string {
  switch (spec.kind) {
    case 'object':
      return 'map';
    case 'array':
      return `list of ${typeName(spec.items)}`;
    case 'map':
      return 'map by name';
    case 'string':
      return spec.enum ? spec.enum.map((e) => `\`${e}\``).join(' | ') : 'string';
    case 'boolean':
      return 'boolean';
    case 'integer':
      return spec.minimum !== undefined || spec.maximum !== undefined
        ? `integer ${spec.minimum ?? ''}..${spec.maximum ?? ''}`
        : 'integer';
    case 'duration':
      return 'duration';
    case 'size':
      return 'size';
    case 'address':
      return 'listen address';
    case 'material':
      return `${spec.material} (path, PEM or base64)`;
    case 'status-range':
      return 'status or range';
    case 'union':
      return spec.options.map(typeName).join(' or ');
    case 'literal':
      return [...new Set(spec.values.map(String))].map((v) => `\`${v}\``).join(' or ');
    case 'any':
      return 'any';
  }
}

function defaultText(field: Field): string {
  if (field.required) return 'required';
  if (field.default === undefined) return '';
  return `\`${JSON.stringify(field.default)}\``;
}

function objectOf(spec: Spec): ObjectSpec | null {
  if (spec.kind === 'object') return spec;
  if (spec.kind === 'array' || spec.kind === 'map') return objectOf(spec.kind === 'array' ? spec.items : spec.values);
  if (spec.kind === 'union') {
    for (const option of spec.options) {
      const found = objectOf(option);
      if (found) return found;
    }
  }
  return null;
}

interface GomaRows {
  ignored: string[];
  refused: string[];
}

function rows(spec: ObjectSpec, prefix: string, out: string[], goma: GomaRows, seen: Map<ObjectSpec, string>): void {
  for (const [key, field] of Object.entries(spec.fields)) {
    const inner = objectOf(field.spec);
    const isList = field.spec.kind === 'array';
    const path = `${prefix}${key}${isList && inner ? '[]' : field.spec.kind === 'map' && inner ? '.<name>' : ''}`;
    const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');
    if (field.gomaUnsupported) {
      (field.gomaRefused ? goma.refused : goma.ignored).push(`| \`${path}\` | ${cell(field.description)} |`);
      continue;
    }
    let description = field.description;
    if (field.deprecated) description = `${description} Deprecated: ${field.deprecated}.`;
    out.push(`| \`${path}\` | ${cell(typeName(field.spec))} | ${defaultText(field)} | ${cell(description)} |`);
    const described = inner ? seen.get(inner) : undefined;
    if (inner && (described === undefined || described === path)) {
      seen.set(inner, path);
      rows(inner, `${path}.`, out, goma, seen);
    } else if (inner) {
      out.push(`| \`${path}.*\` | | | the keys of \`${described}\` |`);
    }
  }
}

/** The `rule` keys of every middleware type, and where each differs from Goma on purpose. */
function middlewareSection(): string[] {
  const out = [
    '## Middleware types',
    '',
    'A `middlewares[]` entry is `{name, type, paths, rule}`; the keys of `rule` depend on `type`. Any',
    "type not listed here (Goma's `ldap`, `oauth`, `geoBlock`, `httpCache`, Go plugins, and the types",
    'not implemented yet) is a config error: a route is never served without a middleware it names.',
    '',
  ];
  for (const type of middlewareTypes()) {
    const aliases = type.aliases.length > 0 ? ` (also \`${type.aliases.join('`, `')}\`)` : '';
    out.push(`### \`${type.type}\`${aliases}`, '', type.summary, '', `Differences from Goma: ${type.differences}`, '');
    const keys: string[] = [];
    rows(type.rule, 'rule.', keys, { ignored: [], refused: [] }, new Map());
    out.push('| key | type | default | meaning |', '|---|---|---|---|', ...keys, '');
  }
  return out;
}

/** Every key, its type, default and meaning, as Markdown. */
export function markdownReference(): string {
  const keys: string[] = [];
  const goma: GomaRows = { ignored: [], refused: [] };
  // Routes are listed under the top-level `routes`, where most files have them.
  rows(configSpec, '', keys, goma, new Map([[routeSpec, 'routes[]']]));
  return [
    '# Gatehouse configuration reference',
    '',
    'Generated from the spec table in `packages/config/src/schema.ts` (the validator and the JSON Schema',
    'come from the same table) by `gatehouse schema --markdown`. Do not edit by hand.',
    '',
    '- **duration**: `500ms`, `15s`, `1m`, `1h30m`, or a whole number of seconds (Goma).',
    '- **size**: `16KiB`, `10MiB`, `10MB`, or a whole number of bytes.',
    '- **listen address**: `:8080` (all interfaces), `127.0.0.1:9180`, `[::1]:9180`; `""` or `false` turns it off.',
    '- Certificate fields take a file path (relative to the config file), inline PEM, or base64 of PEM.',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: documents the config's ${ENV} syntax
    '- `${NAME}` and `${NAME:-default}` are expanded from the environment in every value.',
    '',
    '| key | type | default | meaning |',
    '|---|---|---|---|',
    ...keys,
    '',
    ...middlewareSection(),
    '## Goma Gateway keys that Gatehouse accepts and ignores',
    '',
    'They change nothing about who may reach what; each gets a warning saying it is ignored. A key that',
    "holds its off value (`false`, `''`, `{}`, `[]`, `{enabled: false}`) is not warned about.",
    '',
    '| key | note |',
    '|---|---|',
    ...goma.ignored,
    '',
    '## Goma Gateway keys that Gatehouse refuses',
    '',
    'Ignoring these would serve something the operator did not ask for (a route without its',
    'authentication, a canary that takes all traffic), so any value but their off value is an error.',
    '',
    '| key | note |',
    '|---|---|',
    ...goma.refused,
    '',
  ].join('\n');
}
