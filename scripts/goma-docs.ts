// Keeps test/goma-docs/ (Goma Gateway's own YAML examples, kept as test data) and its manifest.
//
//   node scripts/goma-docs.ts extract --git-dir PATH   copy every YAML example out of a Goma checkout
//   node scripts/goma-docs.ts record                   write each file's expected outcome into the manifest
//
// `extract` reads `docs/` and `examples/` at HEAD of a (bare) Goma repository: whole .yml/.yaml
// files, every ```yaml block of the Markdown pages, and the Goma config embedded in a Kubernetes
// ConfigMap. `record` validates each kept file as `gatehouse validate --schema-only` does and
// writes down what it found (accepted or rejected, with the error codes and key paths, and the
// keys ignored with a warning), so that a change in how Gatehouse reads Goma's documentation shows
// up as a failing test (test/e2e/goma-docs.test.ts) and an explicit edit of the manifest.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { loadConfigFiles } from '../packages/config/src/index.ts';

export const GOMA_DOCS_DIR = join(import.meta.dirname, '..', 'test', 'goma-docs');
export const MANIFEST = join(GOMA_DOCS_DIR, 'manifest.json');
const FILES_DIR = join(GOMA_DOCS_DIR, 'files');

/** What kind of YAML an example is; only `config` is a Goma config file. */
export type ExampleKind = 'config' | 'fragment' | 'kubernetes' | 'compose';

export interface Expectation {
  accepted: boolean;
  /** `CODE path` of every error, sorted. */
  errors: string[];
  /** Key paths accepted but ignored with a warning (Goma keys with no effect on who may reach what). */
  ignored: string[];
}

export interface Example {
  /** Under test/goma-docs/files/. */
  file: string;
  /** Path in Goma's repository. */
  source: string;
  /** 1-based line of the example's first line in `source`. */
  line: number;
  kind: ExampleKind;
  expect: Expectation;
}

export interface Manifest {
  upstream: string;
  commit: string;
  note: string;
  examples: Example[];
}

/**
 * Placeholders for the `${NAME}` references in the examples, as an operator would set them: an
 * unset variable is an error of its own, which would hide what the test is about.
 */
export function placeholderEnv(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const match of text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)) env[match[1] as string] = 'goma-docs-example';
  return env;
}

function kindOf(text: string): ExampleKind {
  let value: unknown;
  try {
    const docs = parseAllDocuments(text);
    if (!Array.isArray(docs) || docs.length !== 1) return docs.length > 1 ? 'kubernetes' : 'fragment';
    value = docs[0]?.toJS();
  } catch {
    return 'fragment';
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'fragment';
  const keys = Object.keys(value);
  if (keys.includes('apiVersion') && keys.includes('kind')) return 'kubernetes';
  if (keys.includes('services')) return 'compose';
  const top = ['version', 'gateway', 'routes', 'middlewares', 'certManager', 'certificateManager', 'plugins'];
  return keys.some((k) => top.includes(k)) ? 'config' : 'fragment';
}

/** Validates a kept example the way `gatehouse validate --schema-only` does (extra folders included). */
export async function outcomeOf(file: string, text: string): Promise<Expectation> {
  const { result } = await loadConfigFiles(join(FILES_DIR, file), placeholderEnv(text));
  const ignored = result.warnings.filter((w) => w.code === 'GH_CONFIG_UNSUPPORTED_KEY').map((w) => w.path);
  return {
    accepted: result.ok,
    errors: result.ok ? [] : result.errors.map((e) => `${e.code} ${e.path}`.trim()).sort(),
    ignored: ignored.sort(),
  };
}

function git(gitDir: string, ...args: string[]): string {
  return execFileSync('git', [`--git-dir=${gitDir}`, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
}

function slug(source: string, index: number | null): string {
  const base = source.replaceAll('/', '__');
  return index === null ? base.replace(/\.(yml|yaml)$/, '.yaml') : `${base}--${String(index).padStart(2, '0')}.yaml`;
}

function extract(gitDir: string): Manifest {
  const commit = git(gitDir, 'rev-parse', 'HEAD').trim();
  const sources = git(gitDir, 'ls-tree', '-r', '--name-only', 'HEAD', '--', 'docs', 'examples')
    .split('\n')
    .filter((p) => /\.(md|ya?ml)$/.test(p) && !p.startsWith('docs/_'));
  rmSync(FILES_DIR, { recursive: true, force: true });
  mkdirSync(FILES_DIR, { recursive: true });
  const examples: Example[] = [];
  const keep = (source: string, index: number | null, line: number, text: string) => {
    const file = slug(source, index);
    writeFileSync(join(FILES_DIR, file), text.endsWith('\n') ? text : `${text}\n`);
    examples.push({ file, source, line, kind: kindOf(text), expect: { accepted: false, errors: [], ignored: [] } });
  };
  for (const source of sources) {
    const text = git(gitDir, 'show', `HEAD:${source}`);
    if (source.endsWith('.md')) {
      const lines = text.split('\n');
      let index = 0;
      for (let i = 0; i < lines.length; i++) {
        if (!/^\s*```\s*ya?ml\s*$/i.test(lines[i] as string)) continue;
        const indent = (lines[i] as string).indexOf('`');
        const body: string[] = [];
        let j = i + 1;
        for (; j < lines.length && !/^\s*```\s*$/.test(lines[j] as string); j++)
          body.push((lines[j] as string).slice(indent));
        index++;
        keep(source, index, i + 2, body.join('\n'));
        i = j;
      }
      continue;
    }
    keep(source, null, 1, text);
    // A Kubernetes ConfigMap that carries a Goma config: the config is an example of its own.
    for (const doc of parseAllDocuments(text) as ReturnType<typeof parseAllDocuments> & unknown[]) {
      const data = (doc.toJS() as { kind?: string; data?: Record<string, unknown> } | null) ?? {};
      if (data.kind !== 'ConfigMap' || !data.data) continue;
      for (const [key, value] of Object.entries(data.data)) {
        if (typeof value !== 'string' || !/\.ya?ml$/.test(key)) continue;
        const embeddedAt = text.split('\n').findIndex((l) => l.trim().startsWith(`${key}:`));
        keep(`${source}#data.${key}`, null, embeddedAt + 2, value);
      }
    }
  }
  return {
    upstream: 'https://github.com/jkaninda/goma-gateway',
    commit,
    note: 'YAML examples of Goma Gateway (Apache-2.0) kept as test data; `expect` is what `gatehouse validate --schema-only` says of each. Refresh with scripts/goma-docs.ts.',
    examples,
  };
}

async function record(manifest: Manifest): Promise<Manifest> {
  for (const example of manifest.examples) {
    const text = readFileSync(join(FILES_DIR, example.file), 'utf8');
    example.expect = await outcomeOf(example.file, text);
  }
  return manifest;
}

export function readManifest(): Manifest {
  return JSON.parse(readFileSync(MANIFEST, 'utf8')) as Manifest;
}

export function exampleFiles(): string[] {
  return readdirSync(FILES_DIR).sort();
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'extract') {
    const at = rest.indexOf('--git-dir');
    const gitDir = at === -1 ? undefined : rest[at + 1];
    if (!gitDir) {
      process.stderr.write('usage: node scripts/goma-docs.ts extract --git-dir PATH-TO-GOMA-REPO\n');
      return 2;
    }
    const manifest = await record(extract(gitDir));
    writeFileSync(MANIFEST, `${JSON.stringify(manifest, null, 2)}\n`);
    process.stdout.write(`${manifest.examples.length} examples from ${manifest.commit}\n`);
    return 0;
  }
  if (command === 'record') {
    const manifest = await record(readManifest());
    writeFileSync(MANIFEST, `${JSON.stringify(manifest, null, 2)}\n`);
    const accepted = manifest.examples.filter((e) => e.expect.accepted).length;
    process.stdout.write(`${manifest.examples.length} examples, ${accepted} accepted\n`);
    return 0;
  }
  process.stderr.write('usage: node scripts/goma-docs.ts extract --git-dir PATH | record\n');
  return 2;
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
