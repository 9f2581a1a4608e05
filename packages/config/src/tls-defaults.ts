// The TLS policy defaults, on their own so that a data-plane worker can read them without loading the
// config parser and yaml (`@gatehouse/config/tls-defaults`; a few MiB per worker).

/** AEAD-only ECDHE suites for TLS 1.2 (TLS 1.3 suites are all AEAD): forward secrecy, no CBC. */
export const DEFAULT_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');
export const DEFAULT_ECDH_CURVE = 'X25519:P-256';
