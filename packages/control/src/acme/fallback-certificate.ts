// The certificate served to names whose ACME certificate is not there yet, when the config lists no
// certificate of its own (Goma generates one too). Self-signed, made once per process with the
// `openssl` CLI: Node can create keys but not certificates, and no client is meant to trust it.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type ResolvedServerCertificate, serverCertificateRecord } from '@gatehouse/pki';

const execFileAsync = promisify(execFile);
export const FALLBACK_SOURCE = '<generated: no certificate configured; served until ACME certificates arrive>';

let made: Promise<ResolvedServerCertificate> | null = null;

export function fallbackCertificate(): Promise<ResolvedServerCertificate> {
  made ??= generate().catch((error: unknown) => {
    made = null;
    throw error;
  });
  return made;
}

async function generate(): Promise<ResolvedServerCertificate> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-fallback-'));
  try {
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    await execFileAsync('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '3650',
      '-subj',
      '/CN=gatehouse-default',
      '-keyout',
      key,
      '-out',
      cert,
    ]);
    const [certPem, keyPem] = await Promise.all([readFile(cert, 'utf8'), readFile(key, 'utf8')]);
    return serverCertificateRecord({ certPem, keyPem, passphrase: null, source: FALLBACK_SOURCE }, true);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
