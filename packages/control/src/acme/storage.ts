// Where an ACME provider keeps its account key and certificates: a folder beside `storageFile`,
// named after it (`/etc/letsencrypt/acme-le.json` → `/etc/letsencrypt/acme-le/`), mode 0700, with
// `account.key` and `<name>.crt` / `<name>.key` (keys 0600). `storageFile` itself records which ACME
// directory issued each certificate, so that switching from staging to production orders anew.
// Each file is written whole to a temporary name and renamed, so a reader sees an old or a new file,
// never half of one. The pair is two renames, though: a reader between them sees the new key with the
// old certificate, and reads the pair again shortly after (readStoredCertificates) rather than drop
// the name from a generation, which would serve it the default certificate until the next reload.
import { X509Certificate } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { basename, dirname, extname, join } from 'node:path';
import type { AcmeProviderConfig, GatewayConfig } from '@gatehouse/config';
import { readRegularFile, type ResolvedServerCertificate, serverCertificateRecord } from '@gatehouse/pki';
import { createPrivateKey } from 'node:crypto';

export interface StorageIndex {
  version: 1;
  /** By name: the ACME directory that issued the stored certificate. */
  certificates: Record<string, { directoryUrl: string; issuedAt: string }>;
}

export function storageFolder(provider: Pick<AcmeProviderConfig, 'storageFile'>): string {
  const file = provider.storageFile;
  return join(dirname(file), basename(file, extname(file)));
}

export function accountKeyPath(provider: Pick<AcmeProviderConfig, 'storageFile'>): string {
  return join(storageFolder(provider), 'account.key');
}

export function certificatePaths(
  provider: Pick<AcmeProviderConfig, 'storageFile'>,
  name: string,
): { cert: string; key: string } {
  const folder = storageFolder(provider);
  return { cert: join(folder, `${name}.crt`), key: join(folder, `${name}.key`) };
}

/** The index; its bytes go into `bytes` when given (null: unreadable), as the pairs' do. */
async function readIndex(provider: AcmeProviderConfig, bytes?: Map<string, Buffer | null>): Promise<StorageIndex> {
  const read = await readRegularFile(provider.storageFile).then(
    (file) => file.bytes,
    () => null,
  );
  bytes?.set(provider.storageFile, read);
  try {
    const parsed = JSON.parse(read?.toString('utf8') ?? '') as Partial<StorageIndex>;
    return { version: 1, certificates: parsed.certificates ?? {} };
  } catch {
    return { version: 1, certificates: {} };
  }
}

async function writeAtomically(path: string, data: string, mode: number): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, data, { mode });
  await rename(temporary, path);
}

async function ensureFolder(provider: AcmeProviderConfig): Promise<void> {
  await mkdir(dirname(provider.storageFile), { recursive: true, mode: 0o700 });
  await mkdir(storageFolder(provider), { recursive: true, mode: 0o700 });
}

/** The account key, created (0600) on first use. */
export async function loadOrCreateAccountKey(
  provider: AcmeProviderConfig,
  create: () => Promise<Buffer>,
): Promise<string> {
  const path = accountKeyPath(provider);
  try {
    return await readFile(path, 'utf8');
  } catch {
    await ensureFolder(provider);
    const key = (await create()).toString();
    await writeAtomically(path, key, 0o600);
    return key;
  }
}

/** Key first, then certificate, then the index: the certificate file is what readers key on. */
export async function storeCertificate(
  provider: AcmeProviderConfig,
  name: string,
  certPem: string,
  keyPem: string,
  now: number,
): Promise<void> {
  await ensureFolder(provider);
  const paths = certificatePaths(provider, name);
  await writeAtomically(paths.key, keyPem, 0o600);
  await writeAtomically(paths.cert, certPem, 0o644);
  const index = await readIndex(provider);
  index.certificates[name] = { directoryUrl: provider.directoryUrl, issuedAt: new Date(now).toISOString() };
  await writeAtomically(provider.storageFile, `${JSON.stringify(index, null, 2)}\n`, 0o600);
}

export interface StoredCertificates {
  /** Usable certificates, one per name that has one. */
  certificates: ResolvedServerCertificate[];
  /** Every file read, for the watcher and the content hash. */
  files: string[];
  /** Names without a usable certificate, and why. */
  missing: Array<{ provider: string; name: string; reason: string }>;
  /**
   * The bytes each of `files` had when last read here (null: unreadable), for the snapshot's content
   * hash: hashing a second read instead could record a renewal's finished pair while this one used
   * its half, and the reload after the second rename would then find nothing changed.
   */
  bytes: Map<string, Buffer | null>;
}

/**
 * Reads the stored certificate of every name of every provider. A certificate is usable when its
 * key matches, it is within its validity window, it names `name`, and the provider's current ACME
 * directory issued it; otherwise the name is missing and gets the default certificate meanwhile.
 */
export async function readStoredCertificates(config: GatewayConfig, now: number): Promise<StoredCertificates> {
  const out: StoredCertificates = { certificates: [], files: [], missing: [], bytes: new Map() };
  for (const provider of config.certManager?.providers ?? []) {
    if (provider.names.length === 0) continue;
    // Hashed and watched too: it says which directory issued each pair, and it is renamed after
    // the pair, so a reload between the two must not be the last that looks.
    out.files.push(provider.storageFile);
    const index = await readIndex(provider, out.bytes);
    for (const name of provider.names) {
      const paths = certificatePaths(provider, name);
      out.files.push(paths.cert, paths.key);
      const miss = (reason: string) => out.missing.push({ provider: provider.name, name, reason });
      const entry = index.certificates[name];
      let pair = await readPair(paths, out.bytes);
      if (pair === null) {
        miss('no certificate stored yet');
        continue;
      }
      if (entry && entry.directoryUrl !== provider.directoryUrl) {
        miss(`stored certificate was issued by ${entry.directoryUrl}`);
        continue;
      }
      let problem = usableProblem(pair.certPem, pair.keyPem, name, now);
      // A renewal between its two renames (storeCertificate): the rest of it is milliseconds away.
      for (let attempt = 0; problem === KEY_MISMATCH && pair !== null && attempt < PAIR_RETRIES; attempt++) {
        await delay(PAIR_RETRY_MS);
        pair = await readPair(paths, out.bytes);
        if (pair !== null) problem = usableProblem(pair.certPem, pair.keyPem, name, now);
      }
      if (pair === null) {
        miss('no certificate stored yet');
        continue;
      }
      if (problem) {
        miss(problem);
        continue;
      }
      const { certPem, keyPem } = pair;
      out.certificates.push({
        ...serverCertificateRecord({ certPem, keyPem, passphrase: null, source: paths.cert }),
        provider: provider.name,
      });
    }
  }
  return out;
}

const KEY_MISMATCH = 'stored key does not match the certificate';
/** How long a reader waits for the second half of a renewal: 20 × 50 ms. */
const PAIR_RETRIES = 20;
const PAIR_RETRY_MS = 50;

/** The pair as it is now, each file's bytes recorded in `bytes`; null when either cannot be read. */
async function readPair(
  paths: { cert: string; key: string },
  bytes: Map<string, Buffer | null>,
): Promise<{ certPem: string; keyPem: string } | null> {
  // readRegularFile: a FIFO or folder at a stored path is unreadable, never waited on.
  const [cert, key] = await Promise.all([
    readRegularFile(paths.cert).then(
      (file) => file.bytes,
      () => null,
    ),
    readRegularFile(paths.key).then(
      (file) => file.bytes,
      () => null,
    ),
  ]);
  bytes.set(paths.cert, cert);
  bytes.set(paths.key, key);
  return cert === null || key === null ? null : { certPem: cert.toString('utf8'), keyPem: key.toString('utf8') };
}

function usableProblem(certPem: string, keyPem: string, name: string, now: number): string | null {
  try {
    const leaf = new X509Certificate(certPem);
    if (!leaf.checkPrivateKey(createPrivateKey(keyPem))) return KEY_MISMATCH;
    if (now < leaf.validFromDate.getTime()) return 'stored certificate is not valid yet';
    if (now >= leaf.validToDate.getTime()) return 'stored certificate has expired';
    if (!leaf.checkHost(name)) return `stored certificate does not name ${name}`;
    return null;
  } catch (error) {
    return `stored certificate cannot be read: ${(error as Error).message}`;
  }
}
