// Automatic certificates (Goma's `certManager`): the spec of the block, and the step that resolves
// each route's `tls.provider` and gives every provider the names it must obtain certificates for.
// Kept apart from schema.ts and normalize.ts so that the ACME keys stay in one place.
import { isIP } from 'node:net';
import { isAbsolute, join, resolve } from 'node:path';
import { ConfigCode } from './diagnostics.ts';
import { bool, type Field, goma, gomaRefused, literal, map, material, obj, str } from './spec.ts';
import type { AcmeProviderConfig, CertManagerConfig, GatewayConfig, MaterialRef, RouteConfig } from './types.ts';
import type { Normalizer } from './normalize.ts';
import type { Plain } from './walk.ts';

export const LETS_ENCRYPT_DIRECTORY = 'https://acme-v02.api.letsencrypt.org/directory';
/** Goma's storage folder; `storageFile` defaults to `acme.json` (legacy) or `acme-<name>.json` in it. */
export const DEFAULT_ACME_STORAGE_DIR = '/etc/letsencrypt';
/** The provider name Goma gives the legacy single-provider shape. */
export const LEGACY_PROVIDER = 'default';
/** `routes[].tls.provider: none` keeps a route's hosts away from every provider. */
export const NO_PROVIDER = 'none';

const acme = obj({
  email: {
    spec: str({ emptyIsAbsent: true }),
    description: 'Contact address of the ACME account (expiry notices). Absent: an account without contact.',
  },
  directoryUrl: {
    spec: str({ check: checkHttpsUrl, expected: 'an https:// URL' }),
    default: LETS_ENCRYPT_DIRECTORY,
    description: "ACME directory URL. Default: Let's Encrypt production.",
  },
  storageFile: {
    spec: str({ emptyIsAbsent: true }),
    description:
      'Index of the account and certificates; the account key and certificates are kept beside it, in a folder named after it (keys mode 0600). Default: `/etc/letsencrypt/acme.json` (legacy shape) or `/etc/letsencrypt/acme-<name>.json`.',
  },
  challengeType: {
    spec: str({
      enum: ['http-01', 'tls-alpn-01'],
      hint: 'dns-01 is not supported by Gatehouse; use http-01 (port 80) or tls-alpn-01 (port 443)',
    }),
    default: 'http-01',
    description:
      '`http-01`: answered on the `web` entry point (port 80). `tls-alpn-01`: answered on the `webSecure` entry point (port 443).',
  },
  caBundle: {
    spec: material('ca-bundle'),
    description:
      'Gatehouse addition: CA bundle that signs the ACME server’s own TLS certificate, for private ACME servers (step-ca, Pebble). Default: system roots.',
  },
  termsAccepted: {
    spec: bool(),
    default: true,
    description: "Agree to the ACME server's terms of service when the account is created.",
  },
  dnsProvider: goma('Goma DNS-01 provider; not supported by Gatehouse.'),
  credentials: goma('Goma DNS-01 credentials; not supported by Gatehouse.'),
});

const provider = obj({
  type: {
    spec: { ...literal('acme'), hint: 'Gatehouse implements ACME providers only (Vault PKI is not supported)' },
    required: true,
    description: 'Provider type: `acme`.',
  },
  acme: { spec: acme, optional: true, description: 'ACME account and challenge settings.' },
  vault: gomaRefused('Goma Vault PKI provider; not supported by Gatehouse.'),
});

export const certManagerField: Field = {
  description:
    'Automatic certificates from ACME servers (Let’s Encrypt, step-ca, …), issued and renewed by the primary.',
  spec: obj({
    defaultProvider: {
      spec: str({ emptyIsAbsent: true }),
      description:
        'Provider of routes whose `tls.provider` is unset or `""`. Default: the only provider, when there is one.',
    },
    providers: { spec: map(provider), description: 'Named providers; routes pick one with `tls.provider`.' },
    provider: {
      spec: { ...literal('acme'), hint: 'Gatehouse implements ACME providers only (Vault PKI is not supported)' },
      description: 'Legacy single-provider shape: `acme`, configured by `acme` beside it (provider name `default`).',
    },
    acme: { spec: acme, optional: true, description: 'Legacy single-provider shape: the ACME settings.' },
    vault: gomaRefused('Goma Vault PKI provider; not supported by Gatehouse.'),
  }),
  optional: true,
};

/** Goma's route `tls` block: which provider issues the route's certificates. */
export const routeTlsField: Field = {
  description: 'Automatic certificates for the route’s hosts.',
  optional: true,
  spec: obj({
    provider: {
      spec: str(),
      default: '',
      description:
        '`""`: `certManager.defaultProvider`. `none`: no automatic certificate for these hosts. Else a name under `certManager.providers`; an unknown name is an error.',
    },
    certificate: gomaRefused('Goma per-route certificate; list it under `gateway.tls.certificates`.'),
    certificates: gomaRefused('Goma per-route certificates; list them under `gateway.tls.certificates`.'),
  }),
};

function checkHttpsUrl(value: string): string | null {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' ? null : `"${value}" is not an https:// URL (RFC 8555 requires HTTPS)`;
  } catch {
    return `"${value}" is not a URL`;
  }
}

function section(value: unknown): Plain {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Plain) : {};
}

/**
 * Builds `certManager` and replaces each route's `tlsProvider` (as written) by the provider that
 * serves it, or null. Errors: an unknown provider name, and hosts an HTTP-01 or TLS-ALPN-01
 * challenge cannot prove (wildcards, IP addresses).
 */
export function normalizeCertManager(n: Normalizer, raw: unknown, routes: RouteConfig[]): CertManagerConfig | null {
  const diags = n.ctx.diags;
  const block = raw === undefined || raw === null ? null : section(raw);
  const providers: AcmeProviderConfig[] = [];
  if (block) {
    const named = section(block.providers);
    for (const [name, value] of Object.entries(named)) {
      const path = `certManager.providers.${name}`;
      const acmeRaw = section(section(value).acme);
      if (section(value).type !== 'acme') continue; // reported by the spec
      if (section(value).acme === undefined) {
        diags.error(
          ConfigCode.required,
          n.keyAt(path),
          `${path}: \`acme\` is required for a provider of type acme`,
          'add `acme: { email: ... }`',
        );
        continue;
      }
      providers.push(acmeProvider(n, name, acmeRaw, `${path}.acme`, `acme-${name}.json`));
    }
    const legacy = block.acme !== undefined || block.provider !== undefined;
    if (legacy && providers.length > 0) {
      diags.error(
        ConfigCode.duplicateKey,
        n.keyAt(block.acme !== undefined ? 'certManager.acme' : 'certManager.provider'),
        'certManager: the legacy `provider`/`acme` shape and `providers` are both set',
        'move the legacy `acme` block under `providers.<name>` with `type: acme`',
      );
    } else if (legacy) {
      if (block.acme === undefined) {
        diags.error(
          ConfigCode.required,
          n.keyAt('certManager'),
          'certManager: `acme` is required',
          'add `acme: { email: ... }`',
        );
      } else {
        providers.push(acmeProvider(n, LEGACY_PROVIDER, section(block.acme), 'certManager.acme', 'acme.json'));
      }
    }
  }
  const byName = new Map(providers.map((p) => [p.name, p]));
  // Providers the spec already refused (e.g. `type: vault`): naming them is not a second error.
  const refused = new Set(Object.keys(section(block?.providers)).filter((name) => !byName.has(name)));
  let defaultProvider = block && typeof block.defaultProvider === 'string' ? block.defaultProvider : null;
  if (defaultProvider !== null && !byName.has(defaultProvider)) {
    if (!refused.has(defaultProvider))
      diags.error(
        ConfigCode.enum,
        n.at('certManager.defaultProvider'),
        `certManager.defaultProvider: no provider is named "${defaultProvider}"`,
        providers.length > 0 ? `name one of: ${[...byName.keys()].join(', ')}` : 'add it under `certManager.providers`',
      );
    defaultProvider = null;
  }
  if (defaultProvider === null && providers.length === 1) defaultProvider = (providers[0] as AcmeProviderConfig).name;
  if (defaultProvider === null && byName.has(LEGACY_PROVIDER)) defaultProvider = LEGACY_PROVIDER;

  const names = new Map<string, Set<string>>();
  for (const route of routes) {
    const written = route.tlsProvider;
    route.tlsProvider = null;
    const path = `${route.at.path}.tls.provider`;
    let chosen: string | null;
    if (written === null || written === '') chosen = defaultProvider;
    else if (written.toLowerCase() === NO_PROVIDER) chosen = null;
    else if (byName.has(written)) chosen = written;
    else if (refused.has(written)) continue;
    else {
      // Goma falls back to the default provider here; a typo would then order certificates from
      // the wrong account or CA, so it is an error.
      diags.error(
        ConfigCode.enum,
        n.at(path),
        `${path}: no certificate provider is named "${written}"`,
        providers.length > 0
          ? `name one of: ${[...byName.keys()].join(', ')}, or \`none\``
          : 'define it under `certManager.providers`, or write `none`',
      );
      continue;
    }
    if (chosen === null || !route.enabled) continue;
    route.tlsProvider = chosen;
    const provider = byName.get(chosen) as AcmeProviderConfig;
    const list = names.get(chosen) ?? new Set<string>();
    names.set(chosen, list);
    route.hosts.forEach((host, i) => {
      const name = hostName(host);
      const hostPath = `${route.at.path}.hosts[${i}]`;
      const problem = name.startsWith('*.') ? 'a wildcard name' : isIP(name) !== 0 ? 'an IP address' : null;
      if (problem) {
        diags.error(
          ConfigCode.host,
          n.at(hostPath),
          `${hostPath}: "${host}" is ${problem}, which the ${provider.challengeType} challenge of provider "${chosen}" cannot prove`,
          'serve it with a certificate under `gateway.tls.certificates` and set `tls.provider: none` on this route',
        );
        return;
      }
      list.add(name);
    });
  }
  for (const provider of providers) provider.names = [...(names.get(provider.name) ?? [])].sort();
  if (!block) return null;
  return { defaultProvider, providers };
}

/** `api.example.com:8443` → `api.example.com`; `[::1]:8443` → `::1`. */
function hostName(host: string): string {
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']'));
  const colon = host.lastIndexOf(':');
  return colon > 0 && host.indexOf(':') === colon ? host.slice(0, colon) : host;
}

function acmeProvider(n: Normalizer, name: string, raw: Plain, path: string, defaultFile: string): AcmeProviderConfig {
  const file = typeof raw.storageFile === 'string' ? raw.storageFile : join(DEFAULT_ACME_STORAGE_DIR, defaultFile);
  return {
    name,
    email: typeof raw.email === 'string' ? raw.email : '',
    directoryUrl: typeof raw.directoryUrl === 'string' ? raw.directoryUrl : LETS_ENCRYPT_DIRECTORY,
    storageFile: isAbsolute(file) ? file : resolve(n.ctx.configDir, file),
    challengeType: raw.challengeType === 'tls-alpn-01' ? 'tls-alpn-01' : 'http-01',
    caBundle:
      raw.caBundle !== null && typeof raw.caBundle === 'object' && 'form' in raw.caBundle
        ? (raw.caBundle as MaterialRef)
        : null,
    termsAccepted: raw.termsAccepted !== false,
    names: [],
    at: n.at(path),
  };
}

/** A challenge type needs its entry point: HTTP-01 the `web` listener, TLS-ALPN-01 `webSecure`. */
export function checkChallengeListeners(n: Normalizer, config: GatewayConfig): void {
  for (const provider of config.certManager?.providers ?? []) {
    if (provider.names.length === 0) continue;
    const listener = provider.challengeType === 'http-01' ? 'web' : 'webSecure';
    if (config.gateway.entryPoints[listener] !== null) continue;
    n.ctx.diags.error(
      ConfigCode.address,
      n.at(`${provider.at.path}.challengeType`),
      `${provider.at.path}.challengeType: ${provider.challengeType} is answered on the \`${listener}\` entry point, which is off`,
      `turn \`gateway.entryPoints.${listener}\` on (port ${listener === 'web' ? 80 : 443} in production)`,
    );
  }
}
