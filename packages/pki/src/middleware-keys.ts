// The key material of jwtAuth middlewares: a `publicKey` or `jwksFile` given as a file path is read
// here, in the primary (workers read no files), and every key, inline or read, is parsed now, so a
// key that cannot verify anything is a config error with the rule's line, not a worker failure.
import { createPublicKey, type KeyObject } from 'node:crypto';
import type {
  ConfigDiagnostic,
  GatewayConfig,
  MiddlewareConfigOf,
  KeyTextRef,
  MiddlewareConfig,
} from '@gatehouse/config';
import { type FileReader, readFailure, readRegularFile } from './regular-file.ts';

const RSA = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];

/** The JWT algorithms a public key can verify (its family and, for EC, its curve). Throws for others. */
export function algorithmsForKey(key: KeyObject): string[] {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return RSA;
    case 'rsa-pss':
      return ['PS256', 'PS384', 'PS512'];
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      if (curve === 'prime256v1') return ['ES256'];
      if (curve === 'secp384r1') return ['ES384'];
      if (curve === 'secp521r1') return ['ES512'];
      throw new Error(`EC curve ${curve} cannot verify JWTs (P-256, P-384 and P-521 can)`);
    }
    case 'ed25519':
      return ['EdDSA'];
    default:
      throw new Error(`a ${key.asymmetricKeyType ?? 'secret'} key cannot verify JWTs`);
  }
}

function keyRefs(m: MiddlewareConfig): KeyTextRef[] {
  if (m.type !== 'jwtAuth') return [];
  const source = m.rule.source;
  if (source.kind === 'publicKey') return [source.key];
  if (source.kind === 'jwksFile') return [source.jwks];
  return [];
}

/** Files named by middleware key material, for the watcher and the content hash. */
export function middlewareKeyFiles(config: GatewayConfig): string[] {
  return (config.middlewares ?? [])
    .flatMap(keyRefs)
    .flatMap((ref) => (ref.form === 'file' && ref.path ? [ref.path] : []));
}

function error(ref: KeyTextRef, code: string, message: string, hint: string | null): ConfigDiagnostic {
  const at = ref.at;
  return { severity: 'error', file: at.file, line: at.line, col: at.col, path: at.path, message, hint, code };
}

/** What is wrong with the key text of a jwtAuth rule, or null. */
function checkKey(m: MiddlewareConfigOf<'jwtAuth'>, ref: KeyTextRef, text: string): ConfigDiagnostic | null {
  const rule = m.rule;
  if (rule.source.kind === 'publicKey') {
    let key: KeyObject;
    try {
      key = createPublicKey(text);
    } catch (e) {
      return error(
        ref,
        'GH_JWT_KEY',
        `publicKey is not a public key: ${(e as Error).message}`,
        'give a PEM `-----BEGIN PUBLIC KEY-----` block, its base64, or a file holding it',
      );
    }
    let possible: string[];
    try {
      possible = algorithmsForKey(key);
    } catch (e) {
      return error(ref, 'GH_JWT_KEY', `publicKey: ${(e as Error).message}`, null);
    }
    const wrong = (rule.algorithms ?? []).filter((a) => !possible.includes(a));
    if (wrong.length > 0) {
      return error(
        ref,
        'GH_JWT_KEY',
        `publicKey is a ${key.asymmetricKeyType} key; it cannot verify ${wrong.join(', ')}`,
        `this key verifies ${possible.join(', ')}`,
      );
    }
    return null;
  }
  let set: unknown;
  try {
    set = JSON.parse(text);
  } catch (e) {
    return error(ref, 'GH_JWT_KEY', `jwksFile is not JSON: ${(e as Error).message}`, null);
  }
  const keys = (set as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0)
    return error(ref, 'GH_JWT_KEY', 'jwksFile has no `keys`', 'a JWKS is `{"keys": [...]}`');
  for (const [i, jwk] of keys.entries()) {
    try {
      createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' });
    } catch (e) {
      return error(ref, 'GH_JWT_KEY', `jwksFile key ${i} is not a public key: ${(e as Error).message}`, null);
    }
  }
  return null;
}

/**
 * The middleware definitions with every key file read into `text`, or every problem found. Never
 * throws. The definitions given are not changed. `read`: the primary passes the reads it hashed, so
 * the key used is the key hashed; a FIFO or directory is refused, never waited on.
 */
export async function loadMiddlewareKeys(
  config: GatewayConfig,
  read: FileReader = readRegularFile,
): Promise<{ ok: boolean; middlewares: MiddlewareConfig[]; errors: ConfigDiagnostic[] }> {
  const errors: ConfigDiagnostic[] = [];
  const middlewares = await Promise.all(
    (config.middlewares ?? []).map(async (m): Promise<MiddlewareConfig> => {
      if (m.type !== 'jwtAuth') return m;
      const [ref] = keyRefs(m);
      if (ref === undefined) return m;
      let text = ref.text;
      if (ref.form === 'file') {
        try {
          text = (await read(ref.path as string)).bytes.toString('utf8');
        } catch (e) {
          errors.push(error(ref, 'GH_JWT_KEY', `cannot read ${ref.path}: ${readFailure(e).why}`, null));
          return m;
        }
      }
      const problem = checkKey(m, ref, text ?? '');
      if (problem !== null) {
        errors.push(problem);
        return m;
      }
      const filled: KeyTextRef = { ...ref, text };
      const source =
        m.rule.source.kind === 'publicKey'
          ? { kind: 'publicKey' as const, key: filled }
          : { kind: 'jwksFile' as const, jwks: filled };
      return { ...m, rule: { ...m.rule, source } };
    }),
  );
  return { ok: errors.length === 0, middlewares, errors };
}
