// `gatehouse schema`: the JSON Schema of the config file (for editors), or the same table as a
// Markdown key reference (for people). Both come from the table the validator walks.
import { jsonSchema, markdownReference } from '@gatehouse/config';

export const summary = 'Print the JSON Schema of the config file (for editor completion)';

export const usage = `Usage: gatehouse schema [--markdown]

Prints the JSON Schema (draft 2020-12) of gatehouse.yaml to stdout: every key with its
type, default and description, including the Goma Gateway keys Gatehouse accepts and
ignores. It comes from the same table the validator walks, so it never disagrees with
\`gatehouse validate\`.

Use it for completion and checking in an editor, e.g. with the YAML language server:

  gatehouse schema > gatehouse.schema.json
  # then, first line of gatehouse.yaml:
  # yaml-language-server: $schema=./gatehouse.schema.json

Options:
      --markdown   print the key reference for people instead: every key with its type,
                   default and meaning, and the Goma keys that are ignored
  -h, --help       show this text

Exit status: 0, or 2 for a usage error.
`;

export async function main(argv: string[]): Promise<number> {
  const extra = argv.find((a) => a !== '--markdown');
  if (extra !== undefined) {
    process.stderr.write(
      `gatehouse schema: unexpected argument ${extra}\nRun \`gatehouse schema --help\` for usage.\n`,
    );
    return 2;
  }
  if (argv.includes('--markdown')) {
    process.stdout.write(markdownReference());
    return 0;
  }
  process.stdout.write(`${JSON.stringify(jsonSchema(), null, 2)}\n`);
  return 0;
}
