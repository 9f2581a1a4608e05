// What a middleware type registers: the spec of its `rule` and the function that normalises it,
// with the diagnostics context that function reports through. Kept apart from the registry so the
// type files can import it without an import cycle.
import type { ObjectSpec } from '../spec.ts';
import type { SourcePos } from '../types.ts';
import type { Plain } from '../walk.ts';

/** Stable diagnostic codes of the middleware section. */
export const MiddlewareCode = {
  type: 'GH_CONFIG_MIDDLEWARE_TYPE',
  unknown: 'GH_CONFIG_UNKNOWN_MIDDLEWARE',
  duplicate: 'GH_CONFIG_DUPLICATE_MIDDLEWARE',
  name: 'GH_CONFIG_MIDDLEWARE_NAME',
  path: 'GH_CONFIG_MIDDLEWARE_PATH',
  rule: 'GH_CONFIG_MIDDLEWARE_RULE',
  plaintextPassword: 'GH_CONFIG_PLAINTEXT_PASSWORD',
} as const;

/** What a type's `normalize` may use: positions and diagnostics under the rule's key path. */
export interface RuleContext {
  /** Key path of the rule, `middlewares[2].rule`. */
  readonly path: string;
  /** Directory of the config file: relative file paths in rules are resolved against it. */
  readonly configDir: string;
  /** Position of a key path (the value, else its key, else the nearest enclosing key). */
  at(path: string): SourcePos;
  present(path: string): boolean;
  error(code: string, path: string, message: string, hint?: string | null): void;
  warning(code: string, path: string, message: string, hint?: string | null): void;
}

export interface MiddlewareType {
  /** Canonical name, as Goma's docs write it. */
  readonly type: string;
  /** Other names Goma accepts for the same type. */
  readonly aliases: readonly string[];
  /** One line for the reference. */
  readonly summary: string;
  /** Where Gatehouse deliberately behaves unlike Goma, for the reference. */
  readonly differences: string;
  readonly rule: ObjectSpec;
  /** `rule:` must be written (it has required keys). */
  readonly ruleRequired: boolean;
  /** The normalised rule, or null when it is invalid (every problem already reported). */
  normalize(rule: Plain, ctx: RuleContext): unknown | null;
}
