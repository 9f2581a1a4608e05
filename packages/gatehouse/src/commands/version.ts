// `gatehouse version`: the release and the Node.js that runs it (the two things a bug report needs).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const summary = 'Print the Gatehouse and Node.js versions';

export const usage = `Usage: gatehouse version
       gatehouse --version

Prints one line: gatehouse <version> (node <version>).

Exit status: 0.
`;

export function gatehouseVersion(): string {
  const manifest = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}

export async function main(argv: string[]): Promise<number> {
  if (argv.length > 0) {
    process.stderr.write(`gatehouse version: unexpected argument ${argv[0]}\n`);
    return 2;
  }
  process.stdout.write(`gatehouse ${gatehouseVersion()} (node ${process.version})\n`);
  return 0;
}
