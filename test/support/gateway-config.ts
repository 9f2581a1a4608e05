// The head of a gateway config on loopback for end-to-end tests: free ports for the `web` entry
// point, for `webSecure` when the test serves HTTPS, and for the admin listener unless the test
// turns it off; settings under `gateway`; and last, when serving HTTPS, one server certificate.
// The caller appends the rest of `gateway.tls` (clientAuth, certsDir, ...) and the routes.
import { freePort } from './gateway.ts';

export interface GatewayHead {
  /** The config lines, from `version: 2` to the certificate (or the last `gateway` line). */
  lines: string[];
  /** The same lines as text, ending in a newline. */
  text: string;
  webPort: number;
  /** 0 without `tls`. */
  webSecurePort: number;
  /** 0 with `admin: false`. */
  adminPort: number;
}

export async function gatewayHead(
  options: {
    /** Serve HTTPS on `webSecure` with this certificate. */
    tls?: { cert: string; key: string };
    /** false: no admin listener; else more keys under `gateway.admin` (socket, pidFile, token). */
    admin?: false | Record<string, string>;
    /** More lines under `gateway:` (two-space indented), e.g. `  watch: { debounce: 50ms }`. */
    gateway?: string[];
  } = {},
): Promise<GatewayHead> {
  const webPort = await freePort();
  const webSecurePort = options.tls ? await freePort() : 0;
  const adminPort = options.admin === false ? 0 : await freePort();
  const lines = [
    'version: 2',
    'gateway:',
    '  entryPoints:',
    `    web: { address: "127.0.0.1:${webPort}" }`,
    ...(options.tls ? [`    webSecure: { address: "127.0.0.1:${webSecurePort}" }`] : []),
    ...(options.admin === false
      ? ['  admin: { address: false }']
      : [
          '  admin:',
          `    address: 127.0.0.1:${adminPort}`,
          ...Object.entries(options.admin ?? {}).map(([key, value]) => `    ${key}: ${value}`),
        ]),
    ...(options.gateway ?? []),
    ...(options.tls
      ? ['  tls:', '    certificates:', `      - { cert: ${options.tls.cert}, key: ${options.tls.key} }`]
      : []),
  ];
  return { lines, text: `${lines.join('\n')}\n`, webPort, webSecurePort, adminPort };
}

/** A route list of one route, `r`, from `/` to `target`: for tests about something else. */
export function oneRoute(target: string): string[] {
  return ['routes:', '  - name: r', '    path: /', `    target: ${target}`];
}
