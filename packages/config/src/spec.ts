// The declarative description of the config file. One table (schema.ts) written in these terms
// drives the validator (walk.ts) and the published JSON Schema (json-schema.ts), so the two cannot
// drift apart. TypeScript types for the normalised result live in types.ts; normalize.ts maps one
// onto the other and a unit test checks that every key in the table reaches it.
import type { MaterialKind } from './types.ts';

interface SpecBase {
  /** Diagnostic code for a value of the wrong shape; default GH_CONFIG_TYPE. */
  code?: string;
  /** How to fix a wrong value. */
  hint?: string;
}

export interface ObjectSpec extends SpecBase {
  kind: 'object';
  fields: Record<string, Field>;
  /** Emitted once under `$defs` in the JSON Schema and referenced where used. */
  defName?: string;
  /** Accept `x-...` keys silently: a home for YAML anchors, as in Compose files. */
  extensions?: boolean;
}
export interface ArraySpec extends SpecBase {
  kind: 'array';
  items: Spec;
}
export interface StringSpec extends SpecBase {
  kind: 'string';
  enum?: readonly string[];
  /** Other spellings accepted for an enum value (Goma's `text` log format is our `pretty`). */
  aliases?: Record<string, string>;
  /** For the JSON Schema only; `check` is what the validator runs. */
  pattern?: string;
  /** Returns what is wrong with the value, or null when it is fine. */
  check?: (value: string) => string | null;
  /** What the value is, for `must be ...` messages. */
  expected?: string;
  /** `""` means "not set" (Goma writes `rewrite: ''` for no rewrite). */
  emptyIsAbsent?: boolean;
}
export interface BooleanSpec extends SpecBase {
  kind: 'boolean';
}
export interface IntegerSpec extends SpecBase {
  kind: 'integer';
  minimum?: number;
  maximum?: number;
}
/** `500ms`, `15s`, `1h30m`, or an integer number of seconds (Goma); normalised to milliseconds. */
export interface DurationSpec extends SpecBase {
  kind: 'duration';
}
/** `16KiB`, `10MB` or an integer number of bytes; normalised to bytes. */
export interface SizeSpec extends SpecBase {
  kind: 'size';
}
/** `:8080`, `127.0.0.1:9180`, `[::1]:9180`; `""` or `false` turns the listener off (null). */
export interface AddressSpec extends SpecBase {
  kind: 'address';
}
/** A certificate, key, CA bundle or CRL: file path, inline PEM or base64 PEM; becomes a MaterialRef. */
export interface MaterialSpec extends SpecBase {
  kind: 'material';
  material: MaterialKind;
}
/** An HTTP status (`200`) or an inclusive range (`"200-399"`); becomes `[low, high]`. */
export interface StatusRangeSpec extends SpecBase {
  kind: 'status-range';
}
/** The first option whose YAML node type fits (scalar boolean, scalar string, map, sequence). */
export interface UnionSpec extends SpecBase {
  kind: 'union';
  options: Spec[];
  expected: string;
}
export interface LiteralSpec extends SpecBase {
  kind: 'literal';
  values: ReadonlyArray<string | number>;
}
/** A map whose keys the operator names (`certManager.providers.<name>`); every value has one spec. */
export interface MapSpec extends SpecBase {
  kind: 'map';
  values: Spec;
}
/** Anything: only for Goma keys that Gatehouse accepts and ignores. */
export interface AnySpec extends SpecBase {
  kind: 'any';
  /**
   * Keep the YAML node (a `YamlValue`) instead of plain data, for a value whose spec depends on a
   * sibling key and is walked later (a middleware's `rule`, by its `type`).
   */
  keepNode?: boolean;
}

export type Spec =
  | ObjectSpec
  | ArraySpec
  | MapSpec
  | StringSpec
  | BooleanSpec
  | IntegerSpec
  | DurationSpec
  | SizeSpec
  | AddressSpec
  | MaterialSpec
  | StatusRangeSpec
  | UnionSpec
  | LiteralSpec
  | AnySpec;

export interface Field {
  spec: Spec;
  description: string;
  /** As a user would write it in YAML; converted by the same code as a written value. */
  default?: unknown;
  required?: boolean;
  /** Absent object stays absent (normalised to null) instead of being filled with defaults. */
  optional?: boolean;
  /** Another spelling of the key named here, at the same level (Goma's names, older names). */
  alias?: string;
  /** Accepted with a warning that says what to write instead. */
  deprecated?: string;
  /** A Goma Gateway key that Gatehouse does not implement: accepted, ignored, warned about. */
  gomaUnsupported?: boolean;
  /**
   * With `gomaUnsupported`: the key decides who may reach what (or what a route does), so ignoring
   * it would serve something the operator did not ask for. Any value but its off value is an error.
   */
  gomaRefused?: boolean;
  /**
   * Goma's reading of an empty value: `{}`, `{cert: ''}` or `{required: false}` mean "not set"
   * (Go zero values), so such a value is taken as absent instead of being filled with defaults.
   */
  offIsAbsent?: boolean;
}

// ---- builders: keep the table in schema.ts short enough to read ----

export const obj = (fields: Record<string, Field>, extra: Partial<ObjectSpec> = {}): ObjectSpec => ({
  kind: 'object',
  fields,
  ...extra,
});
export const arr = (items: Spec, extra: Partial<ArraySpec> = {}): ArraySpec => ({ kind: 'array', items, ...extra });
export const map = (values: Spec, extra: Partial<MapSpec> = {}): MapSpec => ({ kind: 'map', values, ...extra });
export const str = (extra: Partial<StringSpec> = {}): StringSpec => ({ kind: 'string', ...extra });
export const bool = (): BooleanSpec => ({ kind: 'boolean' });
export const int = (minimum?: number, maximum?: number, extra: Partial<IntegerSpec> = {}): IntegerSpec => ({
  kind: 'integer',
  ...(minimum === undefined ? {} : { minimum }),
  ...(maximum === undefined ? {} : { maximum }),
  ...extra,
});
export const duration = (): DurationSpec => ({ kind: 'duration', code: 'GH_CONFIG_DURATION' });
export const size = (): SizeSpec => ({ kind: 'size', code: 'GH_CONFIG_SIZE' });
export const address = (): AddressSpec => ({ kind: 'address', code: 'GH_CONFIG_ADDRESS' });
export const material = (kind: MaterialKind): MaterialSpec => ({ kind: 'material', material: kind });
export const statusRange = (): StatusRangeSpec => ({ kind: 'status-range', code: 'GH_CONFIG_STATUS' });
export const union = (expected: string, ...options: Spec[]): UnionSpec => ({ kind: 'union', options, expected });
export const literal = (...values: Array<string | number>): LiteralSpec => ({ kind: 'literal', values });
export const anything = (): AnySpec => ({ kind: 'any' });
/** A YAML value walked later against a spec chosen from a sibling key (see `AnySpec.keepNode`). */
export const deferred = (): AnySpec => ({ kind: 'any', keepNode: true });

/** A Goma key Gatehouse ignores (with a warning): it changes nothing about who may reach what. */
export const goma = (description: string): Field => ({ spec: anything(), description, gomaUnsupported: true });
/** A Goma key Gatehouse does not implement and will not ignore: set to anything but off, an error. */
export const gomaRefused = (description: string): Field => ({
  spec: anything(),
  description,
  gomaUnsupported: true,
  gomaRefused: true,
});
