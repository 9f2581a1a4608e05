// Reads and preflights every piece of certificate material a config names, all at once, and returns
// either the resolved material for a snapshot or every error found (never just the first). The
// primary calls this on every change; a failure keeps the running generation.

import type { ConfigDiagnostic, GatewayConfig, MaterialRef, SourcePos } from '@gatehouse/config';
import type { X509Certificate } from 'node:crypto';
import { diagnostic, MaterialCode } from './diagnostic.ts';
import { errorPageFiles } from './error-pages.ts';
import { checkedChain, Findings } from './findings.ts';
import { middlewareKeyFiles } from './middleware-keys.ts';
import { inspectCertificate } from './inspect.ts';
import { type MaterialResolution, resolveMaterial } from './material.ts';
import type { FileReader } from './regular-file.ts';
import { certificateNameCovers } from './name-match.ts';
import { resolveRedisTls, resolveUpstreamTls } from './outbound-tls.ts';
import {
  canonicalHost,
  checkCaBundle,
  checkCrl,
  checkCrlCoverage,
  checkHostCoverage,
  checkKeyMatchesCertificate,
  checkPurpose,
  openPrivateKey,
} from './preflight.ts';
import type { MaterialLoad, ResolvedServerCertificate, ResolvedUpstreamTls } from './types.ts';

export interface LoadMaterialOptions {
  /** Epoch ms the validity checks use; default Date.now(). */
  now?: number;
  /** How files are read; default readRegularFile. */
  read?: FileReader;
}

/**
 * Every file path the config references (certificates, keys, CAs, CRLs, upstream and Redis
 * identities, key files and error pages of middlewares), once each.
 */
export function referencedFiles(config: GatewayConfig): string[] {
  const files = new Set<string>();
  for (const ref of allRefs(config)) if (ref.form === 'file' && ref.path) files.add(ref.path);
  for (const path of middlewareKeyFiles(config)) files.add(path);
  for (const path of errorPageFiles(config.middlewares)) files.add(path);
  return [...files];
}

function allRefs(config: GatewayConfig): MaterialRef[] {
  const refs: Array<MaterialRef | null> = [];
  for (const c of config.gateway.tls.certificates) refs.push(c.cert, c.key);
  const clientAuth = config.gateway.tls.clientAuth;
  if (clientAuth) refs.push(clientAuth.clientCA, clientAuth.crl);
  for (const route of config.routes) {
    const tls = route.security.tls;
    if (tls) refs.push(tls.rootCAs, tls.clientCert, tls.clientKey);
  }
  const redisTls = config.gateway.redis?.tls;
  if (redisTls) refs.push(redisTls.clientCa, redisTls.clientCert, redisTls.clientKey);
  return refs.filter((r): r is MaterialRef => r !== null);
}

/** Reads each distinct ref once, concurrently. */
async function resolveAll(config: GatewayConfig, read?: FileReader): Promise<Map<MaterialRef, MaterialResolution>> {
  const refs = allRefs(config);
  const results = await Promise.all(refs.map((ref) => resolveMaterial(ref, read)));
  return new Map(refs.map((ref, i) => [ref, results[i]!]));
}

/** Warnings found while reading (a private key others can read or write), once per file. */
function readWarnings(resolved: Map<MaterialRef, MaterialResolution>): ConfigDiagnostic[] {
  const byFile = new Map<string, ConfigDiagnostic>();
  for (const [ref, result] of resolved) {
    if (result.ok && result.warning) byFile.set(ref.path ?? result.origin, result.warning);
  }
  return [...byFile.values()];
}

/**
 * Reads and checks all material of `config`. Never throws: a failure is a value whose `errors` name
 * the config key, file and reason, and `files` lists every referenced file either way.
 */
export async function loadMaterial(config: GatewayConfig, options: LoadMaterialOptions = {}): Promise<MaterialLoad> {
  const files = referencedFiles(config);
  try {
    return await loadChecked(config, options.now ?? Date.now(), files, options.read);
  } catch (error) {
    // A check that throws is a bug in pki, not in the operator's files; still, a reload must not crash.
    const at = { file: config.file, line: 0, col: 0, path: 'gateway.tls' };
    const message = `certificate material could not be checked: ${(error as Error).message}`;
    return {
      ok: false,
      material: null,
      errors: [diagnostic('error', at, MaterialCode.internal, message, null)],
      warnings: [],
      files,
    };
  }
}

async function loadChecked(
  config: GatewayConfig,
  now: number,
  files: string[],
  read: FileReader | undefined,
): Promise<MaterialLoad> {
  const findings = new Findings();
  const resolved = await resolveAll(config, read);
  findings.addAll(readWarnings(resolved));
  const text = (ref: MaterialRef | null): MaterialResolution | null => (ref ? (resolved.get(ref) ?? null) : null);

  const tls = config.gateway.tls;
  const certificates: ResolvedServerCertificate[] = [];
  for (const entry of tls.certificates) {
    const server = resolveServerCertificate(
      text(entry.cert)!,
      text(entry.key)!,
      entry.cert.at,
      entry.key.at,
      entry.passphrase,
      now,
      tls.expiryWarningDays,
      findings,
    );
    if (server) certificates.push(server);
  }
  markDefault(certificates, tls.defaultName, config, findings);

  if (
    config.gateway.entryPoints.webSecure &&
    certificates.length > 0 &&
    certificates.length === tls.certificates.length
  ) {
    const coverage = certificates.flatMap((c) => c.names);
    for (const c of certificates) coverage.push(...inspectCertificate(c.certPem).ipAddresses.map(canonicalHost));
    for (const route of config.routes) {
      if (route.enabled) findings.addAll(checkHostCoverage(route.hosts, coverage, route.at));
    }
  }

  let clientCA: string | null = null;
  let crl: string | null = null;
  if (tls.clientAuth) {
    let cas: X509Certificate[] | null = null;
    const ca = text(tls.clientAuth.clientCA);
    if (ca && !ca.ok) findings.add(ca.diagnostic);
    else if (ca?.ok && tls.clientAuth.clientCA) {
      const checked = checkCaBundle(ca.pem, ca.origin, tls.clientAuth.clientCA.at, now);
      findings.addAll(checked.errors);
      findings.addAll(checked.warnings);
      clientCA = ca.pem;
      cas = checked.errors.length === 0 ? checked.certs : null;
    }
    const list = text(tls.clientAuth.crl);
    if (list && !list.ok) findings.add(list.diagnostic);
    else if (list?.ok && tls.clientAuth.crl) {
      const broken = checkCrl(list.pem, list.origin, tls.clientAuth.crl.at);
      findings.add(broken);
      if (!broken && cas) findings.addAll(checkCrlCoverage(list.pem, cas, list.origin, tls.clientAuth.crl.at, now));
      crl = list.pem;
    }
  }

  const upstreamTls: Record<string, ResolvedUpstreamTls> = {};
  for (const route of config.routes) {
    const upstream = resolveUpstreamTls(route, text, now, tls.expiryWarningDays, findings);
    if (upstream) upstreamTls[route.name] = upstream;
  }

  const redisTls = resolveRedisTls(config, text, now, findings);

  const ok = findings.errors.length === 0;
  return {
    ok,
    material: ok ? { certificates, clientCA, crl, upstreamTls, redisTls } : null,
    errors: findings.errors,
    warnings: findings.warnings,
    files,
  };
}

function resolveServerCertificate(
  cert: MaterialResolution,
  key: MaterialResolution,
  certAt: SourcePos,
  keyAt: SourcePos,
  passphrase: string | null,
  now: number,
  warningDays: number,
  findings: Findings,
): ResolvedServerCertificate | null {
  if (!cert.ok) findings.add(cert.diagnostic);
  if (!key.ok) findings.add(key.diagnostic);
  if (!cert.ok || !key.ok) return null;
  const chain = checkedChain(cert.pem, cert.origin, certAt, now, warningDays, findings);
  const opened = openPrivateKey(key.pem, passphrase, key.origin, keyAt);
  if (!opened.ok) findings.add(opened.diagnostic);
  if (!chain || !opened.ok) return null;
  const leaf = chain[0]!;
  const mismatch = checkKeyMatchesCertificate(leaf, opened.value, cert.origin, key.origin, certAt);
  const purpose = checkPurpose(leaf, 'server', cert.origin, certAt);
  findings.add(mismatch);
  findings.add(purpose);
  if (mismatch || purpose) return null;
  const source = cert.origin === key.origin ? cert.origin : `${cert.origin} (key ${key.origin})`;
  return serverCertificateRecord({ certPem: cert.pem, keyPem: key.pem, passphrase, source }, false, leaf);
}

/**
 * What the data plane gets for one server certificate: its material, and what inspecting the leaf
 * (`leaf`, else the first certificate of `certPem`) says about it. No check is made here.
 */
export function serverCertificateRecord(
  material: { certPem: string; keyPem: string; passphrase: string | null; source: string },
  isDefault = false,
  leaf: string | X509Certificate = material.certPem,
): ResolvedServerCertificate {
  const info = inspectCertificate(leaf);
  return {
    ...material,
    names: info.names,
    keyType: info.keyType,
    serial: info.serial,
    fingerprint256: info.fingerprint256,
    subject: info.subject,
    notBefore: info.notBefore,
    notAfter: info.notAfter,
    isDefault,
  };
}

/** The default certificate: the one serving `defaultName`, else the first listed. */
function markDefault(
  certificates: ResolvedServerCertificate[],
  defaultName: string | null,
  config: GatewayConfig,
  findings: Findings,
): void {
  if (certificates.length === 0) return;
  let chosen: ResolvedServerCertificate | undefined;
  if (defaultName) {
    chosen =
      certificates.find((c) => c.names.includes(defaultName)) ??
      certificates.find((c) => c.names.some((n) => certificateNameCovers(n, defaultName)));
    if (!chosen && certificates.length === config.gateway.tls.certificates.length) {
      findings.add(
        diagnostic(
          'warning',
          { file: config.file, line: 0, col: 0, path: 'gateway.tls.default' },
          MaterialCode.defaultNameUnknown,
          `no certificate serves the default name "${defaultName}"; the first certificate (${certificates[0]!.names.join(', ') || certificates[0]!.subject}) is the default`,
          'set `gateway.tls.default` to one of the certificates’ names',
        ),
      );
    }
  }
  (chosen ?? certificates[0]!).isDefault = true;
}
