// Certificate material as Goma accepts it: a file path, inline PEM, or base64 of PEM. The form is
// decided here from the text alone; nothing is read from disk (pki resolves `file` later).
import { isAbsolute, join, resolve } from 'node:path';
import type { MaterialKind, MaterialRef, SourcePos } from './types.ts';

const base64Text = /^[A-Za-z0-9+/=\s_-]+$/;

function decodeBase64Pem(text: string): string | null {
  const compact = text.replace(/\s+/g, '');
  if (compact.length < 16 || !base64Text.test(compact)) return null;
  const decoded = Buffer.from(
    compact,
    compact.includes('-') || compact.includes('_') ? 'base64url' : 'base64',
  ).toString('utf8');
  return decoded.includes('-----BEGIN') ? decoded : null;
}

/**
 * The reference for one certificate field. `configDir` anchors relative paths; `<inline>` configs
 * anchor them at the working directory the caller passes.
 */
export function materialRef(text: string, kind: MaterialKind, configDir: string, at: SourcePos): MaterialRef {
  if (text.includes('-----BEGIN')) return { form: 'pem', kind, path: null, pem: text.trim() + '\n', at };
  const decoded = decodeBase64Pem(text);
  if (decoded !== null) return { form: 'base64', kind, path: null, pem: decoded, at };
  const path = text.trim();
  return { form: 'file', kind, path: isAbsolute(path) ? resolve(path) : resolve(join(configDir, path)), pem: null, at };
}

/** A walked material value (the walker turned it into a MaterialRef), or null when absent or invalid. */
export function asMaterialRef(value: unknown): MaterialRef | null {
  return value !== null && typeof value === 'object' && 'form' in value ? (value as MaterialRef) : null;
}
