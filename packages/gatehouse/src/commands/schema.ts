// `gatehouse schema`: the JSON Schema of the config file, generated from the table the validator uses.
import { jsonSchema } from '@gatehouse/config';

export const summary = 'Print the JSON Schema of the config file (for editor completion)';

export const usage = `Usage: gatehouse schema

Prints the JSON Schema (draft 2020-12) of gatehouse.yaml to stdout: every key with its
type, default and description, including the Goma Gateway keys Gatehouse accepts and
ignores. It comes from the same table the validator walks, so it never disagrees with
\`gatehouse validate\`.

Use it for completion and checking in an editor, e.g. with the YAML language server:

  gatehouse schema > gatehouse.schema.json
  # then, first line of gatehouse.yaml:
  # yaml-language-server: $schema=./gatehouse.schema.json

Exit status: 0.
`;

export async function main(argv: string[]): Promise<number> {
  if (argv.length > 0) {
    process.stderr.write(
      `gatehouse schema: unexpected argument ${argv[0]}\nRun \`gatehouse schema --help\` for usage.\n`,
    );
    return 2;
  }
  process.stdout.write(`${JSON.stringify(jsonSchema(), null, 2)}\n`);
  return 0;
}
