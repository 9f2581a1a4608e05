// The spec table as JSON Schema (draft 2020-12), for editors: `gatehouse schema > gatehouse.schema.json`
// and point the YAML language server at it. Generated from the same table the validator walks.
import { configSpec } from './schema.ts';
import type { Field, Spec } from './spec.ts';

type Json = Record<string, unknown>;

const durationPattern = '^\\s*((\\d+(\\.\\d+)?(ms|s|m|h|d))+|\\d+)\\s*$';
const sizePattern = '^\\s*\\d+(\\.\\d+)?\\s*([kKmMgG]([iI]?[bB])?|[bB])?\\s*$';
/** `${NAME}` is allowed anywhere a scalar is; the validator checks the expanded value. */
const envReference: Json = { type: 'string', pattern: '\\$\\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\\}' };

function withEnv(schema: Json): Json {
  return { anyOf: [schema, envReference] };
}

function specSchema(spec: Spec, defs: Record<string, Json>): Json {
  switch (spec.kind) {
    case 'object': {
      if (spec.defName) {
        if (!(spec.defName in defs)) {
          defs[spec.defName] = {};
          defs[spec.defName] = specSchema({ ...spec, defName: undefined }, defs) as Json;
        }
        return { $ref: `#/$defs/${spec.defName}` };
      }
      const properties: Record<string, Json> = {};
      const required: string[] = [];
      for (const [key, field] of Object.entries(spec.fields)) {
        properties[key] = fieldSchema(field, defs);
        if (field.required) required.push(key);
      }
      return {
        type: 'object',
        properties,
        ...(required.length > 0 ? { required } : {}),
        ...(spec.extensions ? { patternProperties: { '^x-': {} } } : {}),
        additionalProperties: false,
      };
    }
    case 'array':
      return { type: 'array', items: specSchema(spec.items, defs) };
    case 'map':
      return { type: 'object', additionalProperties: specSchema(spec.values, defs) };
    case 'string': {
      if (spec.enum) return { enum: [...spec.enum, ...Object.keys(spec.aliases ?? {})] };
      return spec.pattern ? withEnv({ type: 'string', pattern: spec.pattern }) : { type: 'string' };
    }
    case 'boolean':
      return withEnv({ type: 'boolean' });
    case 'integer':
      return withEnv({
        type: 'integer',
        ...(spec.minimum === undefined ? {} : { minimum: spec.minimum }),
        ...(spec.maximum === undefined ? {} : { maximum: spec.maximum }),
      });
    case 'duration':
      return { anyOf: [{ type: 'string', pattern: durationPattern }, { type: 'integer', minimum: 0 }, envReference] };
    case 'size':
      return { anyOf: [{ type: 'string', pattern: sizePattern }, { type: 'integer', minimum: 0 }, envReference] };
    case 'address':
      return { anyOf: [{ type: 'string' }, { const: false }] };
    case 'material':
      return { type: 'string', minLength: 1 };
    case 'status-range':
      return {
        anyOf: [
          { type: 'integer', minimum: 100, maximum: 599 },
          { type: 'string', pattern: '^\\s*([1-5]xx|\\d{3}(\\s*-\\s*\\d{3})?)\\s*$' },
        ],
      };
    case 'union':
      return { anyOf: spec.options.map((o) => specSchema(o, defs)) };
    case 'literal':
      return { enum: [...spec.values] };
    case 'any':
      return {};
  }
}

function fieldSchema(field: Field, defs: Record<string, Json>): Json {
  const schema: Json = { ...specSchema(field.spec, defs) };
  let description = field.description;
  if (field.gomaRefused)
    description = `${description} Refused (an error) unless it holds its off value (\`false\`, \`{}\`, \`[]\`, \`""\`).`;
  else if (field.gomaUnsupported)
    description = `${description} Accepted for Goma Gateway compatibility and ignored (with a warning).`;
  schema.description = description;
  if (field.default !== undefined) schema.default = field.default;
  if (field.deprecated || field.gomaUnsupported) schema.deprecated = true;
  return schema;
}

/** The JSON Schema of the config file. */
export function jsonSchema(): Json {
  const defs: Record<string, Json> = {};
  const root = specSchema(configSpec, defs);
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'urn:gatehouse:config:2',
    title: 'Gatehouse configuration',
    description:
      'Gatehouse gateway config: the Goma Gateway v2 YAML shape plus Gatehouse keys. Durations: `500ms`, `15s`, `1h30m` or whole seconds. Certificate fields: a file path, inline PEM, or base64 of PEM.',
    ...root,
    $defs: defs,
  };
}
