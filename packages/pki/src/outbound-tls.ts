// The TLS identities the gateway uses as a client: a route's toward its backends
// (`security.tls`, or an https backend) and the one toward Redis (`gateway.redis.tls`). Both are
// read and checked here, in the primary, and travel to the workers as PEM.
import type { GatewayConfig, MaterialRef, RouteConfig } from '@gatehouse/config';
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { diagnostic, MaterialCode } from './diagnostic.ts';
import { checkedChain, type Findings } from './findings.ts';
import type { MaterialResolution } from './material.ts';
import { checkCaBundle, checkKeyMatchesCertificate, checkPurpose, openPrivateKey } from './preflight.ts';
import type { ResolvedRedisTls, ResolvedUpstreamTls } from './types.ts';

type Text = (ref: MaterialRef | null) => MaterialResolution | null;

/** The checked PEM of a client identity: the CAs the server must chain to, and our certificate and key. */
interface ClientTrust {
  ca: string | null;
  cert: string | null;
  key: string | null;
}

/**
 * Checks a CA bundle (kind, parse, validity) and a client certificate with its key (chain,
 * validity, key match, client purpose); every problem lands in `findings` with its key and file.
 */
function clientTrust(
  refs: { ca: MaterialRef | null; cert: MaterialRef | null; key: MaterialRef | null },
  text: Text,
  now: number,
  warningDays: number,
  findings: Findings,
): ClientTrust {
  const out: ClientTrust = { ca: null, cert: null, key: null };
  if (refs.ca) {
    const roots = text(refs.ca)!;
    if (!roots.ok) findings.add(roots.diagnostic);
    else {
      const checked = checkCaBundle(roots.pem, roots.origin, refs.ca.at, now);
      findings.addAll(checked.errors);
      findings.addAll(checked.warnings);
      out.ca = roots.pem;
    }
  }
  if (refs.cert && refs.key) {
    const c = text(refs.cert)!;
    const k = text(refs.key)!;
    if (!c.ok) findings.add(c.diagnostic);
    if (!k.ok) findings.add(k.diagnostic);
    if (c.ok && k.ok) {
      const chain = checkedChain(c.pem, c.origin, refs.cert.at, now, warningDays, findings);
      const opened = openPrivateKey(k.pem, null, k.origin, refs.key.at);
      if (!opened.ok) findings.add(opened.diagnostic);
      if (chain && opened.ok) {
        findings.add(checkKeyMatchesCertificate(chain[0]!, opened.value, c.origin, k.origin, refs.cert.at));
        findings.add(checkPurpose(chain[0]!, 'client', c.origin, refs.cert.at));
      }
      out.cert = c.pem;
      out.key = k.pem;
    }
  }
  return out;
}

export function resolveUpstreamTls(
  route: RouteConfig,
  text: Text,
  now: number,
  warningDays: number,
  findings: Findings,
): ResolvedUpstreamTls | null {
  const tls = route.security.tls;
  const https = route.backends.some((b) => b.protocol === 'https:');
  if (!tls && !https) return null;
  const tlsPath = `${route.at.path}.security.tls`;
  const { ca, cert, key } = clientTrust(
    { ca: tls?.rootCAs ?? null, cert: tls?.clientCert ?? null, key: tls?.clientKey ?? null },
    text,
    now,
    warningDays,
    findings,
  );
  const rejectUnauthorized = !(tls?.insecureSkipVerify ?? false);
  if (!rejectUnauthorized) {
    findings.add(
      diagnostic(
        'warning',
        { ...route.at, path: `${tlsPath}.insecureSkipVerify` },
        MaterialCode.insecureSkipVerify,
        `route "${route.name}": insecureSkipVerify is on, so the backend's certificate is not verified and anyone on the path can impersonate it`,
        'give the backend CA in `rootCAs` instead',
      ),
    );
  }
  const servername = tls?.serverName ?? null;
  return {
    ca,
    cert,
    key,
    rejectUnauthorized,
    servername,
    identity: upstreamIdentity(ca, cert, key, rejectUnauthorized, servername),
  };
}

/**
 * `gateway.redis.tls` as PEM; null without it. Verification has no off switch here: a Redis whose
 * certificate does not chain to the CAs (or the system roots) is unreachable, like a down one.
 */
export function resolveRedisTls(
  config: GatewayConfig,
  text: Text,
  now: number,
  findings: Findings,
): ResolvedRedisTls | null {
  const redis = config.gateway.redis;
  if (!redis?.tls) return null;
  const trust = clientTrust(
    { ca: redis.tls.clientCa, cert: redis.tls.clientCert, key: redis.tls.clientKey },
    text,
    now,
    config.gateway.tls.expiryWarningDays,
    findings,
  );
  // SNI and the name check follow a DNS name; an IP address is matched against the IP SANs.
  return { ...trust, servername: isIP(redis.host) === 0 ? redis.host : null };
}

/** sha256 over everything that makes an upstream TLS identity: equal identities share one agent. */
export function upstreamIdentity(
  ca: string | null,
  cert: string | null,
  key: string | null,
  rejectUnauthorized: boolean,
  servername: string | null,
): string {
  return createHash('sha256')
    .update(JSON.stringify([ca, cert, key, rejectUnauthorized, servername]))
    .digest('hex');
}
