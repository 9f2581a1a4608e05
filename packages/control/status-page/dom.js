// Building the page's DOM from data without ever parsing data as HTML: elements are created by name,
// text goes in as text nodes, and attributes are limited to names that cannot run code or load
// anything (no `on*`, no `href`, no `src`, no `style`).

const SVG_NS = 'http://www.w3.org/2000/svg';

const SAFE_ATTRIBUTE =
  /^(class|id|title|role|scope|colspan|for|type|name|autocomplete|required|hidden|lang|tabindex|data-[a-z0-9-]+|aria-[a-z-]+|viewBox|preserveAspectRatio|points|x|y|x1|x2|y1|y2|width|height|text-anchor|dominant-baseline|focusable)$/;

function setAttributes(node, attrs) {
  if (!attrs) return;
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (!SAFE_ATTRIBUTE.test(name)) throw new Error(`attribute ${name} is not allowed`);
    node.setAttribute(name, value === true ? '' : String(value));
  }
}

function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else if (typeof child === 'object' && 'nodeType' in child) node.append(child);
    else node.append(document.createTextNode(String(child)));
  }
}

/** An HTML element; string and number children become text. */
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  setAttributes(node, attrs);
  append(node, children);
  return node;
}

/** An SVG element, the same way. */
export function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  setAttributes(node, attrs);
  append(node, children);
  return node;
}
