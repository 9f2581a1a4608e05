// parseConfig: YAML text → validated GatewayConfig, or every problem found. Pure: no file system,
// no process.env (the caller passes the environment), so the same text always gives the same result.
import { dirname, resolve } from 'node:path';
import { ConfigCode, DiagnosticList } from './diagnostics.ts';
import { type ExtraConfigFile, mergeExtraFiles } from './extra-files.ts';
import { parseYaml } from './yaml-document.ts';
import { Normalizer } from './normalize.ts';
import { configSpec } from './schema.ts';
import type { LoadResult } from './types.ts';
import { type Plain, type WalkContext, walk } from './walk.ts';

/**
 * `file` names the config in diagnostics and anchors relative certificate paths; pass `<inline>`
 * for text that came from no file (relative paths then resolve against the working directory).
 */
export function parseConfig(
  text: string,
  file: string,
  env: Record<string, string | undefined>,
  /** The files of `gateway.extraConfig` and `providers.file`, already read (load-files.ts). */
  extras: readonly ExtraConfigFile[] = [],
): LoadResult {
  const diags = new DiagnosticList();
  const { doc, lineCounter } = parseYaml(text, file, diags);
  const configDir = file === '<inline>' ? process.cwd() : dirname(resolve(file));
  const displayFile = file;
  if (diags.errors.length > 0) return { ok: false, ...diags.sorted() };

  const ctx: WalkContext = {
    doc,
    text,
    lineCounter,
    file: displayFile,
    configDir,
    env,
    diags,
    values: new Map(),
    keys: new Map(),
    root: configSpec,
  };
  const top = { file: displayFile, line: 1, col: 1, path: '' };
  if (doc.contents === null) {
    diags.error(ConfigCode.empty, top, 'the file is empty', 'start from deploy/examples/gatehouse.yaml');
    return { ok: false, ...diags.sorted() };
  }
  const raw = walk(ctx, configSpec, doc.contents, '', top) as Plain | undefined;
  if (raw === undefined) return { ok: false, ...diags.sorted() };
  mergeExtraFiles(ctx, raw, extras);
  const config = new Normalizer(ctx).config(raw);
  if (config.routes.length === 0 && diags.errors.length === 0) {
    diags.warning(
      ConfigCode.noBackend,
      top,
      'no routes: every request will be answered 404',
      'add a `routes:` list with at least one route',
    );
  }
  const { errors, warnings } = diags.sorted();
  if (errors.length > 0) return { ok: false, errors, warnings };
  return { ok: true, config: { ...config, file: file === '<inline>' ? file : resolve(file) }, warnings };
}
