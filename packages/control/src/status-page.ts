// The status page's files (packages/control/status-page/: one HTML document, its stylesheet and
// plain JavaScript modules) as the admin listener serves them: read once when the listener starts,
// served from memory, under a Content-Security-Policy that allows nothing but this listener itself.
// No bundler and no framework: the browser loads the modules as they are written.
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface StaticFile {
  /** URL path on the admin listener: `/` for the page, `/ui/NAME` for the rest. */
  path: string;
  contentType: string;
  body: Buffer;
}

const PAGE_DIR = fileURLToPath(new URL('../status-page/', import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * Sent with every admin answer. Scripts, styles and connections only from this listener, no inline
 * script or style (so text that reached the page as data can never run), no frames, no forms posting
 * elsewhere, and no referrer or MIME sniffing.
 */
export const STATUS_PAGE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-resource-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
});

/** Every file of the page, `index.html` at `/`. */
export function loadStatusPage(dir: string = PAGE_DIR): StaticFile[] {
  const files: StaticFile[] = [];
  for (const name of readdirSync(dir).sort()) {
    const contentType = CONTENT_TYPES[extname(name)];
    if (contentType === undefined) continue;
    const body = readFileSync(join(dir, name));
    files.push({ path: name === 'index.html' ? '/' : `/ui/${name}`, contentType, body });
  }
  return files;
}
