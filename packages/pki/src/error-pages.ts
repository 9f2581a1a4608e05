// The error pages of errorInterceptor rules given as `file`: read here, in the primary (workers read
// no files), into the entry's `body`, so the page travels in the snapshot. A page that cannot be read
// is a config error at the entry's line; the running generation keeps serving the last good one.
import type { ConfigDiagnostic, MiddlewareConfig } from '@gatehouse/config';
import { MaterialCode } from './diagnostic.ts';
import { type FileReader, readFailure, readRegularFile } from './regular-file.ts';

/** Files named by errorInterceptor rules, for the watcher and the content hash. */
export function errorPageFiles(middlewares: readonly MiddlewareConfig[] | undefined): string[] {
  const files: string[] = [];
  for (const m of middlewares ?? []) {
    if (m.type !== 'errorInterceptor') continue;
    for (const e of m.rule.errors) if (e.file !== null) files.push(e.file);
  }
  return files;
}

/**
 * The definitions with every errorInterceptor `file` read into `body`, or every page that could not
 * be read. Never throws; the definitions given are not changed.
 */
export async function loadErrorPages(
  middlewares: readonly MiddlewareConfig[],
  read: FileReader = readRegularFile,
): Promise<{ ok: boolean; middlewares: MiddlewareConfig[]; errors: ConfigDiagnostic[] }> {
  const errors: ConfigDiagnostic[] = [];
  const filled: MiddlewareConfig[] = [];
  for (const m of middlewares) {
    if (m.type !== 'errorInterceptor' || m.rule.errors.every((e) => e.file === null)) {
      filled.push(m);
      continue;
    }
    const reads = await Promise.allSettled(m.rule.errors.map((e) => (e.file === null ? null : read(e.file))));
    const entries = m.rule.errors.map((e, i) => {
      const outcome = reads[i] as PromiseSettledResult<Awaited<ReturnType<FileReader>> | null>;
      if (outcome.status === 'fulfilled') {
        if (outcome.value === null) return e;
        const body = outcome.value.bytes.toString('utf8');
        // Empty is a page caught between an in-place rewrite's truncate and write: the reload waits
        // for the write like a certificate's (pair grace), and never serves a blank page.
        if (body.trim() !== '') return { ...e, body };
        errors.push(pageError(e, `${e.file} is empty`, MaterialCode.empty));
        return e;
      }
      errors.push(pageError(e, `cannot read ${e.file}: ${readFailure(outcome.reason).why}`, 'GH_ERROR_PAGE'));
      return e;
    });
    filled.push({ ...m, rule: { ...m.rule, errors: entries } });
  }
  return { ok: errors.length === 0, middlewares: filled, errors };
}

function pageError(
  entry: { at: { file: string; line: number; col: number; path: string } },
  message: string,
  code: string,
): ConfigDiagnostic {
  const at = entry.at;
  return {
    severity: 'error',
    file: at.file,
    line: at.line,
    col: at.col,
    path: at.path,
    message,
    hint: 'the page is read at every load and reload; fix the path or the file',
    code,
  };
}
