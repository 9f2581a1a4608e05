// `gatehouse validate FILE`: the same checks the gateway runs before it takes a config, without
// starting anything. Errors are printed compiler-style (file:line:col) so editors can jump to them.
import { readFile } from 'node:fs/promises';
import { type ConfigDiagnostic, formatDiagnostic, formatSummary, parseConfig } from '@gatehouse/config';
import { loadMaterial } from '@gatehouse/pki';

export const summary = 'Check a config file (and the certificates it names) without starting the gateway';

export const usage = `Usage: gatehouse validate FILE [--schema-only]
       gatehouse validate --config FILE [--schema-only]

Checks a Gatehouse config (the Goma Gateway version 2 YAML shape) the way the gateway
does before it starts or reloads: every key, type, duration, address, endpoint and
route rule, and then every certificate, key, CA bundle and CRL the file names (read,
PEM of the right kind, key matches certificate, validity dates, chain). All problems
are reported at once, compiler style:

  gatehouse.yaml:12:9: error: routes[0].backends[1].weight: weight must be a whole number >= 0 (got -3)
      hint: weights are relative shares: 80 and 20 send four times as many requests to the first

\${NAME} and \${NAME:-default} in values are expanded from the environment, as at run time.

Options:
  -c, --config FILE   the config file (instead of the FILE argument)
      --schema-only   check the file alone; do not read certificate, key, CA or CRL files
  -h, --help          show this text

Output: diagnostics on stderr; on success one summary line on stdout.
Exit status: 0 valid (warnings allowed), 1 invalid or unreadable, 2 usage error.
`;

function fail(message: string, code = 2): number {
  process.stderr.write(`gatehouse validate: ${message}\n`);
  if (code === 2) process.stderr.write('Run `gatehouse validate --help` for usage.\n');
  return code;
}

function print(diagnostics: readonly ConfigDiagnostic[]): void {
  for (const d of diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
}

export async function main(argv: string[]): Promise<number> {
  let file: string | null = null;
  let schemaOnly = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--schema-only') schemaOnly = true;
    else if (arg === '--config' || arg === '-c') {
      const value = argv[++i];
      if (value === undefined) return fail(`${arg} needs a file name`);
      if (file !== null) return fail('give one config file');
      file = value;
    } else if (arg.startsWith('--config=')) {
      if (file !== null) return fail('give one config file');
      file = arg.slice('--config='.length);
    } else if (arg.startsWith('-') && arg !== '-') return fail(`unknown option ${arg}`);
    else {
      if (file !== null) return fail('give one config file');
      file = arg;
    }
  }
  if (file === null) return fail('which file? e.g. gatehouse validate /etc/gatehouse/gatehouse.yaml');

  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'is a directory'
            : (error as Error).message;
    return fail(`cannot read ${file}: ${why}`, 1);
  }

  const result = parseConfig(text, file, process.env);
  if (!result.ok) {
    print([...result.errors, ...result.warnings]);
    const n = result.errors.length;
    process.stderr.write(`${file}: ${n} error${n === 1 ? '' : 's'}\n`);
    return 1;
  }
  const warnings = [...result.warnings];
  if (!schemaOnly) {
    const material = await loadMaterial(result.config);
    warnings.push(...material.warnings);
    if (!material.ok || material.errors.length > 0) {
      print([...material.errors, ...warnings]);
      const n = material.errors.length;
      process.stderr.write(`${file}: ${n} error${n === 1 ? '' : 's'} in certificate material\n`);
      return 1;
    }
  }
  print(warnings);
  process.stdout.write(`${formatSummary(result.config, file)}${schemaOnly ? ' (certificate files not read)' : ''}\n`);
  return 0;
}
