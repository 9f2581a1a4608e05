// `gatehouse validate FILE`: the same checks the gateway runs before it takes a config, without
// starting anything. Errors are printed compiler-style (file:line:col) so editors can jump to them.
import {
  type ConfigDiagnostic,
  formatClientAuthModes,
  formatDiagnostic,
  formatSummary,
  type LoadResult,
  loadConfigFiles,
} from '@gatehouse/config';
import { loadErrorPages, loadMaterial, loadMiddlewareKeys, readFailure } from '@gatehouse/pki';

export const summary = 'Check a config file (and the certificates it names) without starting the gateway';

export const usage = `Usage: gatehouse validate FILE... [--schema-only] [--json]
       gatehouse validate --config FILE [--schema-only] [--json]

Checks a Gatehouse config (the Goma Gateway version 2 YAML shape) the way the gateway
does before it starts or reloads: every key, type, duration, address, endpoint and
route rule, and then every certificate, key, CA bundle and CRL the file names (read,
PEM of the right kind, key matches certificate, validity dates, chain). All problems
are reported at once, compiler style:

  gatehouse.yaml:12:9: error: routes[0].backends[1].weight: weight must be a whole number >= 0 (got -3)
      hint: weights are relative shares: 80 and 20 send four times as many requests to the first

\${NAME} and \${NAME:-default} in values are expanded from the environment, as at run time.
Several files are checked one after the other, each on its own.

Options:
  -c, --config FILE   the config file (instead of the FILE argument)
      --schema-only   check the file alone; do not read certificate, key, CA or CRL files
      --json          one JSON object per file on stdout: {file, ok, errors, warnings}, each
                      diagnostic with its stable code, key path, line and column
  -h, --help          show this text

Output: diagnostics on stderr; on success a summary line on stdout, then the effective
client-certificate mode of each listener and route.
Exit status: 0 every file valid (warnings allowed), 1 a file invalid or unreadable, 2 usage error.
`;

function fail(message: string, code = 2): number {
  process.stderr.write(`gatehouse validate: ${message}\n`);
  if (code === 2) process.stderr.write('Run `gatehouse validate --help` for usage.\n');
  return code;
}

function print(diagnostics: readonly ConfigDiagnostic[]): void {
  for (const d of diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
}

interface Outcome {
  ok: boolean;
  errors: ConfigDiagnostic[];
  warnings: ConfigDiagnostic[];
  summary: string | null;
  /** The errors are in the certificate material the file names, not in the file. */
  /** Where the errors are, when not in the config text itself. */
  inMaterial: false | 'certificate' | 'middleware key' | 'error page';
}

/** One file, every check; the result says what was found, nothing is printed here. */
async function check(file: string, schemaOnly: boolean): Promise<Outcome | string> {
  let result: LoadResult;
  try {
    result = (await loadConfigFiles(file, process.env)).result;
  } catch (error) {
    return readFailure(error).why;
  }
  if (!result.ok) {
    return { ok: false, errors: result.errors, warnings: result.warnings, summary: null, inMaterial: false };
  }
  const warnings = [...result.warnings];
  if (!schemaOnly) {
    const material = await loadMaterial(result.config);
    warnings.push(...material.warnings);
    if (!material.ok || material.errors.length > 0) {
      return { ok: false, errors: material.errors, warnings, summary: null, inMaterial: 'certificate' };
    }
    const keys = await loadMiddlewareKeys(result.config);
    if (!keys.ok) return { ok: false, errors: keys.errors, warnings, summary: null, inMaterial: 'middleware key' };
    const pages = await loadErrorPages(keys.middlewares);
    if (!pages.ok) return { ok: false, errors: pages.errors, warnings, summary: null, inMaterial: 'error page' };
  }
  // What is really enforced follows the summary: it is not always what a route says (Node asks for
  // client certificates per server, not per name).
  const summary = [
    `${formatSummary(result.config, file)}${schemaOnly ? ' (certificate files not read)' : ''}`,
    ...formatClientAuthModes(result.config),
  ].join('\n');
  return { ok: true, errors: [], warnings, summary, inMaterial: false };
}

function report(file: string, outcome: Outcome | string, json: boolean): number {
  if (json) {
    const body =
      typeof outcome === 'string'
        ? { file, ok: false, unreadable: outcome, errors: [], warnings: [] }
        : { file, ok: outcome.ok, errors: outcome.errors, warnings: outcome.warnings };
    process.stdout.write(`${JSON.stringify(body)}\n`);
    return body.ok ? 0 : 1;
  }
  if (typeof outcome === 'string') {
    fail(`cannot read ${file}: ${outcome}`, 1);
    return 1;
  }
  if (!outcome.ok) {
    print([...outcome.errors, ...outcome.warnings]);
    const n = outcome.errors.length;
    const where = outcome.inMaterial ? ` in ${outcome.inMaterial} material` : '';
    process.stderr.write(`${file}: ${n} error${n === 1 ? '' : 's'}${where}\n`);
    return 1;
  }
  print(outcome.warnings);
  process.stdout.write(`${outcome.summary}\n`);
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const files: string[] = [];
  let fromFlag = false;
  let schemaOnly = false;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--schema-only') schemaOnly = true;
    else if (arg === '--json') json = true;
    else if (arg === '--config' || arg === '-c') {
      const value = argv[++i];
      if (value === undefined) return fail(`${arg} needs a file name`);
      if (fromFlag) return fail('give one --config');
      fromFlag = true;
      files.push(value);
    } else if (arg.startsWith('--config=')) {
      if (fromFlag) return fail('give one --config');
      fromFlag = true;
      files.push(arg.slice('--config='.length));
    } else if (arg.startsWith('-') && arg !== '-') return fail(`unknown option ${arg}`);
    else files.push(arg);
  }
  if (files.length === 0) return fail('which file? e.g. gatehouse validate /etc/gatehouse/gatehouse.yaml');
  let status = 0;
  for (const file of files) {
    status = Math.max(status, report(file, await check(file, schemaOnly), json));
  }
  return status;
}
