// Where an ACME provider keeps its account key and certificates: a folder beside `storageFile`,
// named after it (`/etc/letsencrypt/acme-le.json` → `/etc/letsencrypt/acme-le/`), mode 0700, with
// `account.key` and `<name>.crt` / `<name>.key` (keys 0600). `storageFile` itself records which ACME
// directory issued each certificate, so that switching from staging to production orders anew.
// Files are written whole to a temporary name and renamed, so a reader sees the old or the new pair.
import { X509Certificate } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import type { AcmeProviderConfig, GatewayConfig } from '@gatehouse/config';
import { type ResolvedServerCertificate, serverCertificateRecord } from '@gatehouse/pki';
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

async function readIndex(provider: AcmeProviderConfig): Promise<StorageIndex> {
  try {
    const parsed = JSON.parse(await readFile(provider.storageFile, 'utf8')) as Partial<StorageIndex>;
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
}

/**
 * Reads the stored certificate of every name of every provider. A certificate is usable when its
 * key matches, it is within its validity window, it names `name`, and the provider's current ACME
 * directory issued it; otherwise the name is missing and gets the default certificate meanwhile.
 */
export async function readStoredCertificates(config: GatewayConfig, now: number): Promise<StoredCertificates> {
  const out: StoredCertificates = { certificates: [], files: [], missing: [] };
  for (const provider of config.certManager?.providers ?? []) {
    if (provider.names.length === 0) continue;
    const index = await readIndex(provider);
    for (const name of provider.names) {
      const paths = certificatePaths(provider, name);
      out.files.push(paths.cert, paths.key);
      const miss = (reason: string) => out.missing.push({ provider: provider.name, name, reason });
      const entry = index.certificates[name];
      let certPem: string;
      let keyPem: string;
      try {
        [certPem, keyPem] = await Promise.all([readFile(paths.cert, 'utf8'), readFile(paths.key, 'utf8')]);
      } catch {
        miss('no certificate stored yet');
        continue;
      }
      if (entry && entry.directoryUrl !== provider.directoryUrl) {
        miss(`stored certificate was issued by ${entry.directoryUrl}`);
        continue;
      }
      const problem = usableProblem(certPem, keyPem, name, now);
      if (problem) {
        miss(problem);
        continue;
      }
      out.certificates.push({
        ...serverCertificateRecord({ certPem, keyPem, passphrase: null, source: paths.cert }),
        provider: provider.name,
      });
    }
  }
  return out;
}

function usableProblem(certPem: string, keyPem: string, name: string, now: number): string | null {
  try {
    const leaf = new X509Certificate(certPem);
    if (!leaf.checkPrivateKey(createPrivateKey(keyPem))) return 'stored key does not match the certificate';
    if (now < leaf.validFromDate.getTime()) return 'stored certificate is not valid yet';
    if (now >= leaf.validToDate.getTime()) return 'stored certificate has expired';
    if (!leaf.checkHost(name)) return `stored certificate does not name ${name}`;
    return null;
  } catch (error) {
    return `stored certificate cannot be read: ${(error as Error).message}`;
  }
}
