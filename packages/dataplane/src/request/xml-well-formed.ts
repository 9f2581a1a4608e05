// The XML body check of `security.enableExploitProtection`: a small well-formedness scan, not a
// parser. It refuses a DOCTYPE (and with it every entity declaration) outright, because a DTD is
// how XXE and entity-expansion attacks reach a backend's parser; without a DTD the only entities
// are the five predefined ones and character references. Then: UTF-8, tags balanced and properly
// nested, exactly one root element, attributes quoted, no markup characters where they cannot be.
// It does not check names against the full XML Name production or namespaces.

/** Why a body is not well-formed XML (for the log); null: it is. */
export type XmlProblem =
  | 'doctype'
  | 'encoding'
  | 'unbalanced'
  | 'no_root'
  | 'second_root'
  | 'text_outside_root'
  | 'bad_markup'
  | 'unknown_entity';

const NAME = /^[A-Za-z_:\u00C0-\uFFFF][\w.:\-\u00B7\u00C0-\uFFFF]*/;
const ATTRIBUTE = /^\s+([A-Za-z_:\u00C0-\uFFFF][\w.:\-\u00B7\u00C0-\uFFFF]*)\s*=\s*("[^"<]*"|'[^'<]*')/;
const REFERENCE = /&(?:(amp|lt|gt|quot|apos)|#[0-9]+|#x[0-9a-fA-F]+);/y;
const DECODER = new TextDecoder('utf-8', { fatal: true });

function checkReferences(text: string): boolean {
  let i = text.indexOf('&');
  while (i !== -1) {
    REFERENCE.lastIndex = i;
    if (!REFERENCE.test(text)) return false;
    i = text.indexOf('&', REFERENCE.lastIndex);
  }
  return true;
}

/** The index of the `>` that ends a start tag (one inside a quoted attribute value does not). */
function tagEnd(text: string, from: number): number {
  let quote = 0;
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (quote !== 0) {
      if (c === quote) quote = 0;
    } else if (c === 34 || c === 39) quote = c;
    else if (c === 62) return i;
    else if (c === 60) return -1;
  }
  return -1;
}

/** Checks one XML document held in `body`. */
export function xmlProblem(body: Uint8Array): XmlProblem | null {
  let text: string;
  try {
    text = DECODER.decode(body);
  } catch {
    return 'encoding';
  }
  // A DTD anywhere (even in a comment-looking place) is refused before anything else is read.
  if (/<!\s*(?:doctype|entity)/i.test(text)) return 'doctype';
  const stack: string[] = [];
  let roots = 0;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  while (i < text.length) {
    const lt = text.indexOf('<', i);
    const chunk = lt === -1 ? text.slice(i) : text.slice(i, lt);
    if (chunk.length > 0) {
      if (stack.length === 0 && chunk.trim().length > 0) return 'text_outside_root';
      if (chunk.includes(']]>')) return 'bad_markup';
      if (!checkReferences(chunk)) return 'unknown_entity';
    }
    if (lt === -1) break;
    if (text.startsWith('<!--', lt)) {
      const end = text.indexOf('-->', lt + 4);
      if (end === -1) return 'bad_markup';
      i = end + 3;
    } else if (text.startsWith('<![CDATA[', lt)) {
      if (stack.length === 0) return 'text_outside_root';
      const end = text.indexOf(']]>', lt + 9);
      if (end === -1) return 'bad_markup';
      i = end + 3;
    } else if (text.startsWith('<?', lt)) {
      const end = text.indexOf('?>', lt + 2);
      if (end === -1 || !NAME.test(text.slice(lt + 2, end))) return 'bad_markup';
      i = end + 2;
    } else if (text.startsWith('</', lt)) {
      const name = NAME.exec(text.slice(lt + 2, lt + 2 + 1024))?.[0];
      if (name === undefined) return 'bad_markup';
      const close = /^\s*>/.exec(text.slice(lt + 2 + name.length, lt + 2 + name.length + 64));
      if (close === null) return 'bad_markup';
      if (stack.pop() !== name) return 'unbalanced';
      i = lt + 2 + name.length + close[0].length;
    } else {
      const name = NAME.exec(text.slice(lt + 1, lt + 1 + 1024))?.[0];
      if (name === undefined) return 'bad_markup';
      if (stack.length === 0 && ++roots > 1) return 'second_root';
      const gt = tagEnd(text, lt + 1 + name.length);
      if (gt === -1) return 'bad_markup';
      let rest = text.slice(lt + 1 + name.length, gt);
      const selfClosing = rest.endsWith('/');
      if (selfClosing) rest = rest.slice(0, -1);
      const seen = new Set<string>();
      for (let m = ATTRIBUTE.exec(rest); m !== null; m = ATTRIBUTE.exec(rest)) {
        const attribute = m[1] as string;
        if (seen.has(attribute) || !checkReferences(m[2] as string)) return 'bad_markup';
        seen.add(attribute);
        rest = rest.slice(m[0].length);
      }
      if (rest.trim().length > 0) return 'bad_markup';
      if (!selfClosing) stack.push(name);
      i = gt + 1;
    }
  }
  if (stack.length > 0) return 'unbalanced';
  if (roots === 0) return 'no_root';
  return null;
}

/** A Content-Type whose body is XML: application/xml, text/xml, or any `+xml` type (SOAP, Atom). */
export function isXmlContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const semi = contentType.indexOf(';');
  const type = (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  return type === 'application/xml' || type === 'text/xml' || type.endsWith('+xml');
}
