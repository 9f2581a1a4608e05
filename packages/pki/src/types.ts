// Certificate material after the primary has read and checked it: what travels to workers.

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
