// Builds the next Snapshot from disk: read the config file, validate it, resolve and preflight the
// material, and decide whether anything changed. The reading is at the edge (`buildCandidate`); the
// hash, the file list, the change summary and the listener pinning are pure and unit-tested.
import { createHash } from 'node:crypto';
import type { ConfigDiagnostic, GatewayConfig, GatewaySection } from '@gatehouse/config';
import { type LoadedConfig, loadConfigFiles } from '@gatehouse/config';
import type { BackendHealth, Snapshot } from '@gatehouse/dataplane';
import {
  type FileRead,
  type FileReader,
  loadErrorPages,
  loadMaterial,
  loadMiddlewareKeys,
  referencedFiles,
} from '@gatehouse/pki';
import { fallbackCertificate } from './acme/fallback-certificate.ts';
import { readStoredCertificates } from './acme/storage.ts';
import { errorMessage } from './errors.ts';
import { FileReads } from './file-reads.ts';

/** Every file the config references by path, in config order, without duplicates. */
export function materialFiles(config: GatewayConfig): string[] {
  return referencedFiles(config);
}

/** One file as hashed: its bytes, or null when it could not be read (that state is hashed too). */
export interface HashedFile {
  path: string;
  bytes: Buffer | null;
}

/**
 * sha256 over the config text and every material file's bytes, in a fixed order, so that touching a
 * file or re-saving it unchanged yields the same hash and therefore no new generation.
 */
export function contentHash(configText: string, files: HashedFile[]): string {
  const hash = createHash('sha256');
  hash.update(`config ${Buffer.byteLength(configText)}\n`);
  hash.update(configText);
  for (const file of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    hash.update(`\nfile ${file.path} ${file.bytes ? file.bytes.length : -1}\n`);
    if (file.bytes) hash.update(file.bytes);
  }
  return hash.digest('hex');
}

export interface Candidate {
  kind: 'changed';
  snapshot: Snapshot;
  hash: string;
  /** What to watch: the config file and every material file. */
  files: string[];
  warnings: ConfigDiagnostic[];
}
export interface Unchanged {
  kind: 'unchanged';
  hash: string;
  files: string[];
}
export interface Rejected {
  kind: 'rejected';
  errors: ConfigDiagnostic[];
  warnings: ConfigDiagnostic[];
  /** What to keep watching so that the next fix is noticed. */
  files: string[];
}
export type BuildResult = Candidate | Unchanged | Rejected;

export interface BuildInputs {
  configFile: string;
  env: NodeJS.ProcessEnv;
  /** The hash of the generation now serving; null at start. */
  currentHash: string | null;
  generation: number;
  ticketKeys: string;
  health: Record<string, BackendHealth>;
  now: number;
  /** What the watcher read while looking for the change (path to bytes): not read again. */
  handed?: ReadonlyMap<string, FileRead>;
  /** How every other file is read; default pki's readRegularFile. */
  read?: FileReader;
  /** The reads of this build, when the caller wants them afterwards; else made from the two above. */
  reads?: FileReads;
}

export async function buildCandidate(inputs: BuildInputs): Promise<BuildResult> {
  // One read per file for the parse, the hash and the material checks together.
  const reads = inputs.reads ?? new FileReads(inputs.handed, inputs.read);
  let loaded: LoadedConfig;
  try {
    loaded = await loadConfigFiles(inputs.configFile, inputs.env, reads.textReader);
  } catch (error) {
    return {
      kind: 'rejected',
      errors: [fileDiagnostic(inputs.configFile, `cannot read the config file: ${errorMessage(error)}`)],
      warnings: [],
      files: [inputs.configFile],
    };
  }
  const { text, result: parsed } = loaded;
  // The extra config folders (and their files) are watched too, so that a fix there is noticed.
  const configFiles = [inputs.configFile, ...loaded.watch];
  if (!parsed.ok) {
    return { kind: 'rejected', errors: parsed.errors, warnings: parsed.warnings, files: configFiles };
  }
  const config = parsed.config;
  // The hash and the material checks see the same bytes (one read each): if a file changes after
  // that read, the watcher's next look sees a difference from this hash and reloads.
  // ACME certificates are material like any other: read from their storage, hashed, watched.
  const stored = await readStoredCertificates(config, inputs.now);
  const referenced = unique([...materialFiles(config), ...stored.files]);
  const hashed = await Promise.all(
    referenced.map(
      async (path): Promise<HashedFile> => ({
        path,
        bytes: stored.bytes.has(path)
          ? (stored.bytes.get(path) ?? null)
          : await reads.read(path).then(
              (f) => f.bytes,
              () => null,
            ),
      }),
    ),
  );
  const extraFiles = loaded.extras.map((e): HashedFile => ({ path: e.file, bytes: Buffer.from(e.text) }));
  const hash = contentHash(text, [...hashed, ...extraFiles]);
  if (hash === inputs.currentHash) {
    return { kind: 'unchanged', hash, files: unique([...configFiles, ...referenced]) };
  }
  const material = await loadMaterial(config, { now: inputs.now, read: reads.reader });
  const files = unique([...configFiles, ...referenced, ...(material.files ?? [])]);
  const warnings = [...parsed.warnings, ...material.warnings.map((w) => asDiagnostic(w, 'warning', config.file))];
  if (!material.ok || !material.material) {
    return {
      kind: 'rejected',
      errors: material.errors.map((e) => asDiagnostic(e, 'error', config.file)),
      warnings,
      files,
    };
  }
  const certificates = [...material.material.certificates, ...stored.certificates];
  if (material.material.certificates.length === 0 && config.gateway.entryPoints.webSecure !== null) {
    try {
      certificates.unshift(await fallbackCertificate());
    } catch (error) {
      return {
        kind: 'rejected',
        errors: [
          fileDiagnostic(
            config.file,
            `no certificate is configured and the default one could not be generated: ${errorMessage(error)}`,
          ),
        ],
        warnings,
        files,
      };
    }
  }
  // The same bytes as hashed above: an edit after that read is the watcher's next change.
  const keys = await loadMiddlewareKeys(config, reads.reader);
  if (!keys.ok) return { kind: 'rejected', errors: keys.errors, warnings, files };
  const pages = await loadErrorPages(keys.middlewares, reads.reader);
  if (!pages.ok) return { kind: 'rejected', errors: pages.errors, warnings, files };
  const snapshot: Snapshot = {
    generation: inputs.generation,
    config: { ...config, middlewares: pages.middlewares },
    tls: {
      certificates,
      clientCA: material.material.clientCA,
      crl: material.material.crl,
      ticketKeys: inputs.ticketKeys,
    },
    upstreamTls: material.material.upstreamTls,
    redisTls: material.material.redisTls,
    health: inputs.health,
  };
  return { kind: 'changed', snapshot, hash, files, warnings };
}

function unique(items: string[]): string[] {
  return [...new Set(items)];
}

function fileDiagnostic(file: string, message: string): ConfigDiagnostic {
  return { severity: 'error', file, line: 0, col: 0, path: '', message, hint: null, code: 'GH_CONFIG_UNREADABLE' };
}

/** pki reports diagnostics; tolerate plain strings or errors too, so a reload message is never empty. */
export function asDiagnostic(item: unknown, severity: 'error' | 'warning', file: string): ConfigDiagnostic {
  if (item && typeof item === 'object' && 'message' in item && 'file' in item && 'line' in item) {
    return item as ConfigDiagnostic;
  }
  const message = item instanceof Error ? item.message : typeof item === 'string' ? item : JSON.stringify(item);
  const code = item && typeof item === 'object' && 'code' in item ? String(item.code) : 'GH_MATERIAL';
  return { severity, file, line: 0, col: 0, path: '', message, hint: null, code };
}

// ---- listeners: the one thing that does not reload ----

export function sameListeners(a: GatewaySection['entryPoints'], b: GatewaySection['entryPoints']): boolean {
  return addressKey(a.web) === addressKey(b.web) && addressKey(a.webSecure) === addressKey(b.webSecure);
}

function addressKey(address: { host: string; port: number } | null): string {
  return address ? `${address.host}|${address.port}` : '-';
}

/**
 * Workers bind only from their first generation, and a respawned worker must bind what the others
 * hold. So a snapshot always carries the listeners bound at start; a change there waits for a restart.
 */
export function pinListeners(snapshot: Snapshot, bound: GatewaySection['entryPoints']): Snapshot {
  if (sameListeners(snapshot.config.gateway.entryPoints, bound)) return snapshot;
  return {
    ...snapshot,
    config: {
      ...snapshot.config,
      gateway: {
        ...snapshot.config.gateway,
        // Pass-through forwards are not pinned: workers open and close them on every generation.
        entryPoints: { ...bound, passThrough: snapshot.config.gateway.entryPoints.passThrough },
      },
    },
  };
}

// ---- what changed between two generations ----

export interface CertificateSwap {
  name: string;
  source: string;
  oldSerial: string;
  newSerial: string;
}

export interface ChangeSummary {
  routesAdded: string[];
  routesRemoved: string[];
  routesChanged: string[];
  certificateSwaps: CertificateSwap[];
  certificatesAdded: string[];
  certificatesRemoved: string[];
  clientCAChanged: boolean;
  crlChanged: boolean;
  /** Routes whose outbound TLS identity (CA, client cert, verify, servername) changed. */
  upstreamIdentitiesChanged: string[];
  /** gateway.* sections that changed, other than the listeners. */
  gatewayChanged: string[];
  /** `gateway.entryPoints` differ from what is bound: ignored until a restart. */
  listenersChanged: boolean;
}

export function describeChanges(previous: Snapshot, next: Snapshot): ChangeSummary {
  const before = new Map(previous.config.routes.map((r) => [r.name, r]));
  const after = new Map(next.config.routes.map((r) => [r.name, r]));
  const routesAdded = [...after.keys()].filter((n) => !before.has(n));
  const routesRemoved = [...before.keys()].filter((n) => !after.has(n));
  const routesChanged = [...after.keys()].filter((n) => {
    const old = before.get(n);
    return old !== undefined && stableJson(old) !== stableJson(after.get(n));
  });

  const certificateSwaps: CertificateSwap[] = [];
  const certificatesAdded: string[] = [];
  const oldCerts = new Map(previous.tls.certificates.map((c) => [certificateSlot(c), c]));
  const newSlots = new Set<string>();
  for (const cert of next.tls.certificates) {
    const slot = certificateSlot(cert);
    newSlots.add(slot);
    const old = oldCerts.get(slot);
    if (!old) certificatesAdded.push(certificateName(cert));
    else if (old.serial !== cert.serial || old.fingerprint256 !== cert.fingerprint256) {
      certificateSwaps.push({
        name: certificateName(cert),
        source: cert.source,
        oldSerial: old.serial,
        newSerial: cert.serial,
      });
    }
  }
  const certificatesRemoved = previous.tls.certificates
    .filter((c) => !newSlots.has(certificateSlot(c)))
    .map(certificateName);

  const upstreamIdentitiesChanged = unique([
    ...Object.keys(next.upstreamTls),
    ...Object.keys(previous.upstreamTls),
  ]).filter((route) => previous.upstreamTls[route]?.identity !== next.upstreamTls[route]?.identity);

  const gatewayChanged: string[] = [];
  const oldGateway = previous.config.gateway as unknown as Record<string, unknown>;
  const newGateway = next.config.gateway as unknown as Record<string, unknown>;
  for (const key of unique([...Object.keys(oldGateway), ...Object.keys(newGateway)])) {
    if (key === 'entryPoints') continue;
    if (stableJson(oldGateway[key]) !== stableJson(newGateway[key])) gatewayChanged.push(key);
  }
  const forwards = (s: Snapshot) => s.config.gateway.entryPoints.passThrough;
  if (stableJson(forwards(previous)) !== stableJson(forwards(next))) gatewayChanged.push('passThrough');

  return {
    routesAdded,
    routesRemoved,
    routesChanged,
    certificateSwaps,
    certificatesAdded,
    certificatesRemoved,
    clientCAChanged: previous.tls.clientCA !== next.tls.clientCA,
    crlChanged: previous.tls.crl !== next.tls.crl,
    upstreamIdentitiesChanged,
    gatewayChanged,
    listenersChanged: !sameListeners(previous.config.gateway.entryPoints, next.config.gateway.entryPoints),
  };
}

/** One short line for the `reload accepted` log and the reload command's answer. */
export function summarizeChanges(changes: ChangeSummary): string {
  const parts: string[] = [];
  const list = (label: string, sign: string, names: string[]) => {
    if (names.length > 0) parts.push(`${label} ${sign}${names.join(`, ${sign}`)}`);
  };
  list('routes', '+', changes.routesAdded);
  list('routes', '-', changes.routesRemoved);
  list('routes', '~', changes.routesChanged);
  if (changes.certificateSwaps.length > 0) {
    parts.push(`certificates swapped: ${changes.certificateSwaps.map((s) => s.name).join(', ')}`);
  }
  list('certificates', '+', changes.certificatesAdded);
  list('certificates', '-', changes.certificatesRemoved);
  if (changes.clientCAChanged) parts.push('client CA changed');
  if (changes.crlChanged) parts.push('CRL changed');
  list('upstream identities', '~', changes.upstreamIdentitiesChanged);
  list('gateway', '~', changes.gatewayChanged);
  if (changes.listenersChanged) parts.push('listener addresses changed (needs restart)');
  return parts.length > 0 ? parts.join('; ') : 'no effective change';
}

function certificateSlot(cert: { source: string; names: string[] }): string {
  return cert.source || cert.names.join(',');
}

function certificateName(cert: { names: string[]; subject: string }): string {
  return cert.names[0] ?? cert.subject;
}

/** JSON with sorted keys and without source positions, so that moving a block in the file is no change. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (key, v: unknown) => {
    if (key === 'at') return undefined;
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const sorted: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
      return sorted;
    }
    return v;
  });
}
