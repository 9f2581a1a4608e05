// The TLS options of a connection to Redis, from the material the primary resolved; the workers'
// rate-limit store and the primary's ACME store both connect with them.
import type { ConnectionOptions } from 'node:tls';
import type { ResolvedRedisTls } from './types.ts';

/** Verification is never turned off: a certificate that does not verify fails the connection. */
export function redisTlsOptions(tls: ResolvedRedisTls): ConnectionOptions {
  return {
    ...(tls.ca === null ? {} : { ca: tls.ca }),
    ...(tls.cert === null ? {} : { cert: tls.cert }),
    ...(tls.key === null ? {} : { key: tls.key }),
    ...(tls.servername === null ? {} : { servername: tls.servername }),
    rejectUnauthorized: true,
  };
}
