// The demo's gatehouse.yaml: written for a newcomer to read, so every block says what it shows.
import { relative } from 'node:path';
import type { DemoAuth } from './auth.ts';
import type { DemoMaterial, DemoPorts } from './layout.ts';

/** Paths relative to the config file's directory, which is how the config resolves them. */
function rel(configDir: string, path: string): string {
  const r = relative(configDir, path);
  return JSON.stringify(r.startsWith('..') ? path : r);
}

export function demoConfigYaml(configDir: string, ports: DemoPorts, m: DemoMaterial, auth: DemoAuth): string {
  const p = (path: string) => rel(configDir, path);
  return `# Gatehouse demo configuration, written by \`gatehouse demo\` at every start (copy it
# elsewhere to keep your changes). The gateway watches this file and every certificate it
# names: edit it while the demo runs (try the weights below) and the change is live on save,
# or rejected with a message that names the line, while the old config keeps serving.
#
# The shape is Goma Gateway's version 2 config. Relative paths are relative to this file.
version: 2
gateway:
  entryPoints:
    # Plain HTTP. 127.0.0.1 only: the demo is not meant for the network (":8080" = all interfaces).
    web:
      address: "127.0.0.1:${ports.web}"
    # HTTPS, with the certificate and client-certificate rules below.
    webSecure:
      address: "127.0.0.1:${ports.webSecure}"
  tls:
    # What the HTTPS listener serves: a certificate for localhost from the demo CA.
    certificates:
      - cert: ${p(m.serverCert)}
        key: ${p(m.serverKey)}
    # Mutual TLS, inbound: client certificates are checked against the demo CA. A certificate that
    # is presented is always verified (a bad one gets 401). required: false lets each route decide,
    # see /secure below. With required: true here, every route on both listeners needs one, and an
    # HTTPS handshake without a valid certificate fails before any route is reached.
    clientAuth:
      clientCA: ${p(m.ca)}
      required: false
  log:
    level: info
    # pretty: for a terminal. Production uses json (one object per line).
    format: pretty
    # One line per request, with route, backend, status and duration.
    accessLog: true
  # /status, /metrics, /healthz and reload. Never expose it: it can reload the gateway.
  admin:
    address: "127.0.0.1:${ports.admin}"
routes:
  # /admin needs a user name and password (HTTP Basic, user ${auth.user}, password ${auth.password}); the
  # backend gets the user name in the \`username\` header. See \`middlewares:\` at the end.
  - name: admin
    path: /admin
    target: http://127.0.0.1:${ports.blue}
    middlewares: [demo-users]
  # /api needs a bearer token (a JWT) signed with the secret below; \`gatehouse demo\` prints one.
  - name: api
    path: /api
    target: http://127.0.0.1:${ports.blue}
    middlewares: [demo-tokens]
  # /secure goes to "green" only, and only for clients with a certificate from the demo CA:
  # without one, Gatehouse answers 401 and no backend sees the request (mutual TLS inbound).
  # green is an HTTPS backend that accepts nobody but Gatehouse: mutual TLS outbound, with the
  # backend CA to verify green and a client certificate to show it.
  - name: secure
    path: /secure
    clientAuth:
      required: true
    backends:
      - endpoint: https://127.0.0.1:${ports.green}
        weight: 1
    security:
      tls:
        rootCAs: ${p(m.backendCa)}
        clientCert: ${p(m.gatewayClientCert)}
        clientKey: ${p(m.gatewayClientKey)}
        serverName: localhost
    healthCheck:
      path: /healthz
      interval: 5s
      timeout: 2s
  # Everything else is shared 3:1 between the two backends (smooth weighted round-robin).
  # The TLS settings apply to green, the https backend; blue is plain HTTP.
  - name: default
    path: /
    backends:
      - endpoint: http://127.0.0.1:${ports.blue}
        weight: 3
      - endpoint: https://127.0.0.1:${ports.green}
        weight: 1
    security:
      tls:
        rootCAs: ${p(m.backendCa)}
        clientCert: ${p(m.gatewayClientCert)}
        clientKey: ${p(m.gatewayClientKey)}
        serverName: localhost
    healthCheck:
      path: /healthz
      interval: 5s
      timeout: 2s
# Middlewares protect the routes that name them. A name no route can resolve, an unknown type or a
# broken rule is an error: a route is never served without the protection it asks for.
middlewares:
  - name: demo-users
    type: basicAuth
    rule:
      realm: gatehouse-demo
      forwardUsername: true
      users:
        # htpasswd -nbB ${auth.user} ${auth.password}
        - username: ${auth.user}
          password: "${auth.hash}"
  - name: demo-tokens
    type: jwtAuth
    rule:
      # A new secret at every demo start. Production: \`\${JWT_SECRET}\` from the environment,
      # or \`jwksUrl\` / \`publicKey\` for tokens signed by an identity provider.
      secret: "${auth.jwtSecret}"
      issuer: ${auth.jwtIssuer}
      forwardHeaders:
        X-User-ID: sub
`;
}
