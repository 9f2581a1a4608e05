// Certificate material after the primary has read and checked it: what travels to workers.

import type { ConfigDiagnostic } from '@gatehouse/config';

/** A server certificate after the primary read, parsed and preflighted it. */
export interface ResolvedServerCertificate {
  certPem: string; // leaf first, then any intermediates given in the same file
  keyPem: string;
  passphrase: string | null;
  /** DNS names the certificate serves (SANs; the CN only when there are no SANs), lower-cased. */
  names: string[];
  keyType: 'rsa' | 'ec' | 'ed25519' | 'ed448' | 'rsa-pss' | 'other';
  serial: string; // upper-case hex
  fingerprint256: string; // AA:BB:...
  subject: string;
  notBefore: string; // ISO 8601
  notAfter: string; // ISO 8601
  isDefault: boolean;
  /** Where it came from, for logs and /status: a file path or `<inline>` plus the key path. */
  source: string;
  /** The certManager provider that issued it; absent for configured certificates. */
  provider?: string;
}

/** The outbound TLS identity of a route, read and checked by the primary. */
export interface ResolvedUpstreamTls {
  ca: string | null; // PEM bundle; null = system roots
  cert: string | null;
  key: string | null;
  rejectUnauthorized: boolean;
  servername: string | null; // null = the backend's hostname
  /** sha256 over every field above: routes (and generations) with the same identity share one agent. */
  identity: string;
}

/** `gateway.redis.tls` as the workers (and the primary's ACME store) use it; always verified. */
export interface ResolvedRedisTls {
  ca: string | null; // PEM bundle; null = system roots
  cert: string | null;
  key: string | null;
  /** SNI and the name checked in the certificate: the host of `addr` when it is a name; null for an IP. */
  servername: string | null;
}

/** Everything the primary read and checked for one config: what a snapshot carries besides the config. */
export interface ResolvedMaterial {
  certificates: ResolvedServerCertificate[];
  /** PEM bundle of the CAs client certificates must chain to; null when client auth is off. */
  clientCA: string | null;
  /** PEM, one or more `X509 CRL` blocks; null when none is configured. */
  crl: string | null;
  /** By route name, for routes with `security.tls` or an https backend. */
  upstreamTls: Record<string, ResolvedUpstreamTls>;
  /** Null without `gateway.redis.tls`. */
  redisTls: ResolvedRedisTls | null;
}

/** The outcome of loadMaterial: on failure `material` is null and `errors` say why. */
export interface MaterialLoad {
  ok: boolean;
  material: ResolvedMaterial | null;
  errors: ConfigDiagnostic[];
  warnings: ConfigDiagnostic[];
  /** Every file the config references (also on failure), for the watcher. */
  files: string[];
}
