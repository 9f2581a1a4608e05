// Goma's `extraConfig` (and `providers.file`) folders: more files holding `routes:` and/or
// `middlewares:`, merged into the main config. Each file is walked against the same spec as the main
// file's lists, its items numbered on after the main file's (`routes[7]`), so that every later
// check (duplicate names, middleware references) runs on one list, while each diagnostic keeps the
// file, line and column it came from. Pure: the files arrive already read (load-files.ts).
import { dirname, resolve } from 'node:path';
import { isMap, isScalar, isSeq, type Node, type Pair } from 'yaml';
import { ConfigCode } from './diagnostics.ts';
import { configSpec } from './schema.ts';
import { type ObjectSpec, obj } from './spec.ts';
import type { SourcePos } from './types.ts';
import { type Plain, positionAt, type WalkContext, walk } from './walk.ts';
import { parseYaml } from './yaml-document.ts';

export interface ExtraConfigFile {
  /** As it should appear in diagnostics (absolute, or relative to where the operator runs). */
  file: string;
  text: string;
}

/** The lists an extra file may hold, by their key at the top of the file. */
const LISTS = ['routes', 'middlewares'] as const;

function listSpec(key: (typeof LISTS)[number]) {
  const field = configSpec.fields[key];
  if (field === undefined) throw new Error(`the spec has no top-level \`${key}\``);
  return field;
}

/** The rest of an extra file (`version`; a refused `middlewares`) is checked as the main file's top is. */
function topSpec(): ObjectSpec {
  const version = configSpec.fields.version;
  const fields: ObjectSpec['fields'] = version ? { version } : {};
  for (const key of LISTS) {
    const field = listSpec(key);
    // A list Gatehouse implements is walked item by item below; one it refuses is reported here.
    fields[key] = field.spec.kind === 'array' ? { spec: { kind: 'any' }, description: field.description } : field;
  }
  return obj(fields);
}

export function mergeExtraFiles(main: WalkContext, raw: Plain, extras: readonly ExtraConfigFile[]): void {
  for (const extra of extras) {
    const { doc, lineCounter } = parseYaml(extra.text, extra.file, main.diags);
    if (doc.errors.length > 0) continue;
    const ctx: WalkContext = {
      ...main,
      doc,
      text: extra.text,
      lineCounter,
      file: extra.file,
      configDir: dirname(resolve(extra.file)),
    };
    const top: SourcePos = { file: extra.file, line: 1, col: 1, path: '' };
    const contents = doc.contents as Node | null;
    if (contents === null) continue; // an empty file adds nothing
    if (!isMap(contents)) {
      main.diags.error(
        ConfigCode.type,
        top,
        'an extra config file must be a map with `routes:` and/or `middlewares:`',
        'start the file with `routes:` (a list of routes) or `middlewares:` (a list of middlewares)',
      );
      continue;
    }
    // Unknown keys, refusals and `version` first, against the same table as the main file's top.
    walk(ctx, topSpec(), contents, '', top);
    for (const pair of contents.items as Pair[]) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '';
      if (key !== 'routes' && key !== 'middlewares') continue;
      const field = listSpec(key);
      if (field.spec.kind !== 'array') continue;
      const value = pair.value as Node | null;
      if (value === null || (isScalar(value) && value.value === null)) continue;
      if (!isSeq(value)) {
        const at = positionAt(ctx, value.range?.[0] ?? 0, key);
        main.diags.error(
          ConfigCode.type,
          at,
          `${key}: ${key} must be a list`,
          'write one item per line, each starting with `- `',
        );
        continue;
      }
      const into = Array.isArray(raw[key]) ? (raw[key] as unknown[]) : [];
      raw[key] = into;
      for (const item of value.items) {
        const path = `${key}[${into.length}]`;
        const at = positionAt(ctx, (item as Node).range?.[0] ?? 0, path);
        into.push(walk(ctx, field.spec.items, item, path, at));
      }
    }
  }
}
