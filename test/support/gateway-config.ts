// The head of a gateway config on loopback for end-to-end tests that serve HTTPS: free ports for
// the web, webSecure and admin listeners, settings under `gateway`, and one server certificate.
// The caller appends the rest of `gateway.tls` (clientAuth) and the routes.
import { freePort } from './gateway.ts';

export interface HttpsGatewayHead {
  /** The config lines, from `gateway:` to the certificate. */
  lines: string[];
  webSecurePort: number;
  adminPort: number;
}

export async function httpsGatewayHead(options: {
  cert: string;
  key: string;
  /** More lines under `gateway:` (two-space indented), e.g. `  watch: { debounce: 50ms }`. */
  gateway?: string[];
}): Promise<HttpsGatewayHead> {
  const webSecurePort = await freePort();
  const adminPort = await freePort();
  return {
    webSecurePort,
    adminPort,
    lines: [
      'gateway:',
      '  entryPoints:',
      `    web: { address: "127.0.0.1:${await freePort()}" }`,
      `    webSecure: { address: "127.0.0.1:${webSecurePort}" }`,
      `  admin: { address: "127.0.0.1:${adminPort}" }`,
      ...(options.gateway ?? []),
      '  tls:',
      '    certificates:',
      `      - { cert: ${options.cert}, key: ${options.key} }`,
    ],
  };
}
