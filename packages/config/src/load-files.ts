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
    hint: 'create the folder, or correct the path',
    code: ConfigCode.extraConfig,
  };
}

const CERT_EXTENSIONS = ['.crt', '.cert', '.pem'];

/**
 * Goma's `tls.certsDir`: `NAME.crt|.cert|.pem` paired with `NAME.key`, added to the certificates as
 * file references (so they are read, preflighted, hashed and watched like any other). A key without
 * a certificate is a warning; a certificate without its key is an error, as in `certificates`.
 */
async function addCertsDir(result: LoadResult, watch: string[]): Promise<LoadResult> {
  if (!result.ok || result.config.gateway.tls.certsDir === null) return result;
  const config = result.config;
  const dir = config.gateway.tls.certsDir as string;
  const at = { file: config.file, line: 0, col: 0, path: 'gateway.tls.certsDir' };
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => !n.startsWith('.')).sort();
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such folder' : (error as Error).message;
    return { ok: false, errors: [folderError(at.path, at, `cannot read ${dir}: ${why}`)], warnings: result.warnings };
  }
  watch.push(dir);
  const warnings = [...result.warnings];
  const errors: ConfigDiagnostic[] = [];
  const keys = new Set(names.filter((n) => extname(n) === '.key').map((n) => n.slice(0, -4)));
  const paired = new Set<string>();
  for (const name of names) {
    const ext = extname(name);
    if (!CERT_EXTENSIONS.includes(ext)) continue;
    const base = name.slice(0, -ext.length);
    if (!keys.has(base)) {
      // A .pem may be a CA bundle or a key kept beside the certificates: only .crt/.cert need a key.
      if (ext !== '.pem') errors.push(folderError(at.path, at, `${join(dir, name)} has no ${base}.key beside it`));
      continue;
    }
    if (paired.has(base)) continue;
    paired.add(base);
    const ref = (path: string, kind: 'certificate' | 'private-key') => ({
      form: 'file' as const,
      kind,
      path,
      pem: null,
      at: { ...at, path: `gateway.tls.certsDir (${path})` },
    });
    config.gateway.tls.certificates.push({
      cert: ref(join(dir, name), 'certificate'),
      key: ref(join(dir, `${base}.key`), 'private-key'),
      passphrase: null,
    });
  }
  for (const base of keys) {
    if (paired.has(base)) continue;
    warnings.push({
      ...folderError(at.path, at, `${join(dir, `${base}.key`)} has no certificate beside it; ignored`),
      severity: 'warning',
      hint: `add ${base}.crt, or remove the key`,
    });
  }
  if (errors.length > 0) return { ok: false, errors, warnings };
  return { ok: true, config, warnings };
}

/** Reads one config file as text; the primary passes one that reuses what its watcher read. */
export type ConfigFileReader = (path: string) => Promise<string>;

const readText: ConfigFileReader = (path) => readFile(path, 'utf8');

/** Reads and validates `file` and its extra folders. A read failure of the main file throws. */
export async function loadConfigFiles(
  file: string,
  env: Record<string, string | undefined>,
  read: ConfigFileReader = readText,
): Promise<LoadedConfig> {
  const text = await read(file);
  const first = parseConfig(text, file, env);
  if (!first.ok || first.config.gateway.extraConfig.length === 0) {
    const watch: string[] = [];
    return { text, result: await addCertsDir(first, watch), extras: [], watch };
  }
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
        extras.push({ file: path, text: await read(path) });
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
  return { text, result: await addCertsDir(parseConfig(text, file, env, extras), watch), extras, watch };
}
