// One YAML document of a config file, parsed with positions; the parser's own problems become
// diagnostics at their line and column, with a hint where the usual cause is known.
import { type Document, LineCounter, parseDocument } from 'yaml';
import { ConfigCode, type DiagnosticList } from './diagnostics.ts';

/** One YAML document with its line counter; syntax problems become diagnostics at their line. */
export function parseYaml(
  text: string,
  file: string,
  diags: DiagnosticList,
): { doc: Document.Parsed; lineCounter: LineCounter } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, keepSourceTokens: true, prettyErrors: true, uniqueKeys: true });
  for (const problem of [...doc.errors, ...doc.warnings]) {
    const offset = problem.pos[0];
    const { line, col } = lineCounter.linePos(offset);
    // The parser appends its own ` at line L, column C:` and a source excerpt; we print our own.
    const message = (problem.message.split('\n')[0] ?? problem.message)
      .replace(/ at line \d+, column \d+:?$/, '')
      .replace(/; please use YAML\.parseAllDocuments\(\)/, '');
    const at = { file, line, col, path: '' };
    if (doc.errors.includes(problem as (typeof doc.errors)[number])) {
      diags.error(ConfigCode.yaml, at, `YAML: ${message}`, yamlHint(problem.code, message));
    } else {
      diags.warning(ConfigCode.yaml, at, `YAML: ${message}`, null);
    }
  }
  return { doc, lineCounter };
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
