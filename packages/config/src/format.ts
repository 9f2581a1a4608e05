// Human output for `gatehouse validate` and for reload errors in logs: compiler style, so that
// editors and terminals can jump to file:line:col.
import { basename } from 'node:path';
import type { ConfigDiagnostic, GatewayConfig } from './types.ts';

/** `gatehouse.yaml:12:9: error: routes[0].backends[1].weight: ...` and an indented hint line. */
export function formatDiagnostic(d: ConfigDiagnostic): string {
  const where = d.line > 0 ? `${d.file}:${d.line}:${d.col}` : d.file;
  const head = `${where}: ${d.severity}: ${d.path ? `${d.path}: ` : ''}${d.message}`;
  return d.hint ? `${head}\n    hint: ${d.hint}` : head;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** One line: `gatehouse.yaml: OK, 3 routes, 5 backends, 2 certificates, TLS client auth required`. */
export function formatSummary(config: GatewayConfig, name: string = basename(config.file)): string {
  const routes = config.routes;
  const enabled = routes.filter((r) => r.enabled).length;
  const backends = routes.reduce((n, r) => n + r.backends.length, 0);
  const { tls, entryPoints } = config.gateway;
  const parts = [
    enabled === routes.length
      ? plural(routes.length, 'route')
      : `${plural(routes.length, 'route')} (${enabled} enabled)`,
    plural(backends, 'backend'),
    plural(tls.certificates.length, 'certificate'),
  ];
  const listeners = [
    entryPoints.web ? `http ${entryPoints.web.raw}` : null,
    entryPoints.webSecure && tls.certificates.length > 0 ? `https ${entryPoints.webSecure.raw}` : null,
  ].filter((l): l is string => l !== null);
  if (listeners.length > 0) parts.push(`listening on ${listeners.join(', ')}`);
  if (tls.clientAuth) parts.push(`TLS client auth ${tls.clientAuth.required ? 'required' : 'optional'}`);
  const upstreamMtls = routes.filter((r) => r.security.tls?.clientCert).length;
  if (upstreamMtls > 0) parts.push(`upstream mTLS on ${plural(upstreamMtls, 'route')}`);
  return `${name}: OK, ${parts.join(', ')}`;
}
