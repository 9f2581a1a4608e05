// parseConfig: YAML text → validated GatewayConfig, or every problem found. Pure: no file system,
// no process.env (the caller passes the environment), so the same text always gives the same result.
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { ConfigCode, DiagnosticList } from './diagnostics.ts';
import { Normalizer } from './normalize.ts';
import { configSpec } from './schema.ts';
import type { LoadResult } from './types.ts';
import { type Plain, type WalkContext, walk } from './walk.ts';

/**
 * `file` names the config in diagnostics and anchors relative certificate paths; pass `<inline>`
 * for text that came from no file (relative paths then resolve against the working directory).
 */
export function parseConfig(text: string, file: string, env: Record<string, string | undefined>): LoadResult {
  const diags = new DiagnosticList();
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, keepSourceTokens: true, prettyErrors: true, uniqueKeys: true });
  const configDir = file === '<inline>' ? process.cwd() : dirname(resolve(file));
  const displayFile = file;

  for (const problem of [...doc.errors, ...doc.warnings]) {
    const offset = problem.pos[0];
    const { line, col } = lineCounter.linePos(offset);
    // The parser appends its own ` at line L, column C:` and a source excerpt; we print our own.
    const message = (problem.message.split('\n')[0] ?? problem.message)
      .replace(/ at line \d+, column \d+:?$/, '')
      .replace(/; please use YAML\.parseAllDocuments\(\)/, '');
    const at = { file: displayFile, line, col, path: '' };
    if (doc.errors.includes(problem as (typeof doc.errors)[number])) {
      diags.error(ConfigCode.yaml, at, `YAML: ${message}`, yamlHint(problem.code, message));
    } else {
      diags.warning(ConfigCode.yaml, at, `YAML: ${message}`, null);
    }
  }
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

function yamlHint(code: string, message: string): string | null {
  if (/quote/i.test(message)) return 'a quoted value above this point is not closed; add the closing quote';
  switch (code) {
    case 'MULTIPLE_DOCS':
      return 'keep one YAML document per file: remove the second `---`';
    case 'DUPLICATE_KEY':
      return 'each key may appear once per map; remove or merge the repeated one';
    case 'BAD_INDENT':
    case 'MISSING_CHAR':
    case 'BLOCK_AS_IMPLICIT_KEY':
      return 'check the indentation: nested keys need more spaces than their parent, and use spaces, not tabs';
    case 'TAB_AS_INDENT':
      return 'YAML indentation must use spaces, not tabs';
    case 'MULTILINE_IMPLICIT_KEY':
      return 'a key and its `:` must be on one line; check for a missing `:` or a quote that was not closed';
    default:
      return null;
  }
}
