// The config as the gateway and `gatehouse validate` read it from disk: the main file, then the
// folders it names in `gateway.extraConfig` / `providers.file` (every `*.yaml`, `*.yml`, `*.json`,
// sub-folders included, in name order), parsed together. This is the file system edge of the
// config package; parseConfig itself stays pure.
import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { ConfigCode } from './diagnostics.ts';
import type { ExtraConfigFile } from './extra-files.ts';
import { parseConfig } from './parse.ts';
import type { ConfigDiagnostic, LoadResult } from './types.ts';

const EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

export interface LoadedConfig {
  /** The main file's text. */
  text: string;
  result: LoadResult;
  /** Every extra file read, with its text (for hashing). */
  extras: ExtraConfigFile[];
  /** Extra files and folders to watch (those of sources with `watch: true`). */
  watch: string[];
}

/** Every config file under `dir`, depth first in name order, and every folder visited. */
async function listFolder(dir: string, files: string[], folders: string[]): Promise<void> {
  folders.push(dir);
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue; // editors' swap files, Kubernetes' `..data` links
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await listFolder(path, files, folders);
    else if (EXTENSIONS.has(extname(entry.name).toLowerCase())) files.push(path);
  }
}

function folderError(at: ConfigDiagnostic['path'], pos: { file: string; line: number; col: number }, why: string) {
  return {
    severity: 'error' as const,
    file: pos.file,
    line: pos.line,
    col: pos.col,
    path: at,
    message: why,
    hint: 'create the folder, or correct `directory`',
    code: ConfigCode.extraConfig,
  };
}

/** Reads and validates `file` and its extra folders. A read failure of the main file throws. */
export async function loadConfigFiles(file: string, env: Record<string, string | undefined>): Promise<LoadedConfig> {
  const text = await readFile(file, 'utf8');
  const first = parseConfig(text, file, env);
  if (!first.ok || first.config.gateway.extraConfig.length === 0) return { text, result: first, extras: [], watch: [] };
  const extras: ExtraConfigFile[] = [];
  const watch: string[] = [];
  const errors: ConfigDiagnostic[] = [];
  for (const source of first.config.gateway.extraConfig) {
    const files: string[] = [];
    const folders: string[] = [];
    try {
      await listFolder(source.directory, files, folders);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such folder' : code === 'ENOTDIR' ? 'not a folder' : (error as Error).message;
      errors.push(folderError(`${source.at.path}`, source.at, `cannot read ${source.directory}: ${why}`));
      continue;
    }
    for (const path of files) {
      try {
        extras.push({ file: path, text: await readFile(path, 'utf8') });
      } catch (error) {
        errors.push(
          folderError(
            source.at.path,
            { file: path, line: 0, col: 0 },
            `cannot read ${path}: ${(error as Error).message}`,
          ),
        );
      }
    }
    if (source.watch) watch.push(...folders, ...files);
  }
  if (errors.length > 0) return { text, result: { ok: false, errors, warnings: first.warnings }, extras, watch };
  return { text, result: parseConfig(text, file, env, extras), extras, watch };
}
