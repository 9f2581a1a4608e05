// A development and test PKI built with the real `openssl` CLI (3.0+), so that tests and the demo
// run against certificates no Gatehouse code produced. `openssl ca` with a tiny generated config and
// an index.txt is used (not `req -x509`) because only `ca` takes arbitrary -startdate/-enddate
// (expired and not-yet-valid certificates) and keeps the database that revocation and CRLs need.
//
// Layout under the `dir` given to createCa:
//   <dir>/<ca>.crt, <dir>/<ca>.key       the CA certificate and key
//   <dir>/<ca>/                           its openssl state: openssl.cnf, index.txt, crlnumber, ...
//   <dir>/<leaf>.crt|.key|.fullchain.pem  leaves issued by that CA (same <dir> as their CA)
//   <dir>/<ca>.crl.pem                    written by writeCrl
//
// Keys are generated in-process (node:crypto), so a leaf costs two openssl runs (req + ca).
// Operations on one CA are serialised in this process (index.txt is not safe for concurrent writers);
// two processes must not issue from the same CA directory at once.

import { execFile } from 'node:child_process';
import { generateKeyPair, X509Certificate } from 'node:crypto';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { DevPkiError } from './errors.ts';

const execFileAsync = promisify(execFile);

export type DevKeyType = 'ec' | 'rsa';

export interface CaHandle {
  name: string;
  /** Common name in the CA's subject. */
  cn: string;
  /** The CA's openssl state directory (config, index.txt, ...). */
  dir: string;
  /** Directory holding the CA's certificate and the leaves it issues. */
  outDir: string;
  certPath: string;
  keyPath: string;
  configPath: string;
  keyType: DevKeyType;
  certPem: string;
  /**
   * The intermediates a server must send for a leaf of this CA: this CA followed by its parents,
   * up to but excluding the self-signed root. Empty for a root CA. A leaf's full chain is
   * `leaf + chainPem`.
   */
  chainPem: string;
  /** The self-signed root at the top of this CA's chain (this CA's own certificate for a root). */
  rootPem: string;
}

export interface LeafHandle {
  name: string;
  cn: string;
  certPath: string;
  keyPath: string;
  /** Leaf followed by the issuing CA's intermediates (not the root). */
  fullchainPath: string;
  certPem: string;
  keyPem: string;
  fullchainPem: string;
  /** Upper-case hex, as X509Certificate.serialNumber prints it. */
  serial: string;
  passphrase: string | null;
}

export interface CreateCaOptions {
  name: string;
  cn?: string;
  keyType?: DevKeyType;
  /** Issue this CA as an intermediate of `parent`; without it the CA is a self-signed root. */
  parent?: CaHandle;
  notBefore?: Date;
  notAfter?: Date;
}

export type LeafUsage = 'server' | 'client' | 'both';

export interface IssueOptions {
  name: string;
  cn: string;
  dns?: string[];
  ips?: string[];
  uris?: string[];
  usage: LeafUsage;
  keyType?: DevKeyType;
  /** Default: one hour ago (tolerates clock skew between test processes). */
  notBefore?: Date;
  /** Default: 30 days from now. */
  notAfter?: Date;
  /** Encrypt the private key file (PKCS#8, AES-256-CBC) with this passphrase. */
  passphrase?: string;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const CA_DEFAULT_DAYS = 3650;
const LEAF_DEFAULT_DAYS = 30;
/** `.invalid` (RFC 2606): the address is informative, nothing is served there. */
const CA_ISSUERS_BASE = 'http://pki.gatehouse.invalid/';

/** Serialises the openssl runs that touch one CA's database. */
const caQueues = new Map<string, Promise<unknown>>();
function withCaLock<T>(caDir: string, task: () => Promise<T>): Promise<T> {
  const previous = caQueues.get(caDir) ?? Promise.resolve();
  const next = previous.then(task, task);
  const settled = next.catch(() => undefined);
  caQueues.set(caDir, settled);
  void settled.then(() => {
    if (caQueues.get(caDir) === settled) caQueues.delete(caDir);
  });
  return next;
}

async function openssl(args: string[], what: string, env?: Record<string, string>): Promise<void> {
  try {
    await execFileAsync('openssl', args, {
      env: { ...process.env, ...env, OPENSSL_CONF: '/dev/null' },
      maxBuffer: 4 * 1024 * 1024,
    });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new DevPkiError(`openssl failed to ${what}`, stderr, { cause: error });
  }
}

/** openssl ca's -startdate/-enddate format: UTCTime until 2049, GeneralizedTime after (RFC 5280). */
export function opensslTime(date: Date): string {
  const iso = date.toISOString(); // 2026-11-27T09:18:58.123Z
  const digits = iso.slice(0, 19).replace(/[-T:]/g, ''); // 20261127091858
  const year = date.getUTCFullYear();
  return year >= 1950 && year < 2050 ? `${digits.slice(2)}Z` : `${digits}Z`;
}

function subjectArg(cn: string): string {
  // `-subj` uses `/` as separator and `\` as escape.
  const escaped = cn.replace(/[\\/]/g, (c) => `\\${c}`);
  return `/O=Gatehouse Dev/CN=${escaped}`;
}

async function generateKeyPem(keyType: DevKeyType, passphrase?: string): Promise<string> {
  const privateKeyEncoding = passphrase
    ? { type: 'pkcs8' as const, format: 'pem' as const, cipher: 'aes-256-cbc', passphrase }
    : { type: 'pkcs8' as const, format: 'pem' as const };
  const publicKeyEncoding = { type: 'spki' as const, format: 'pem' as const };
  const pair =
    keyType === 'rsa'
      ? await promisify(generateKeyPair)('rsa', { modulusLength: 2048, publicKeyEncoding, privateKeyEncoding })
      : await promisify(generateKeyPair)('ec', { namedCurve: 'prime256v1', publicKeyEncoding, privateKeyEncoding });
  return pair.privateKey;
}

function caConfig(stateDir: string): string {
  return `# Generated by @gatehouse/pki dev-pki: a minimal openssl ca configuration.
[ ca ]
default_ca = gatehouse_ca

[ gatehouse_ca ]
dir = ${stateDir}
database = $dir/index.txt
new_certs_dir = $dir/newcerts
crlnumber = $dir/crlnumber
rand_serial = yes
unique_subject = no
default_md = sha256
default_days = ${LEAF_DEFAULT_DAYS}
default_crl_days = 30
policy = policy_loose
preserve = yes
email_in_dn = no
copy_extensions = none
crl_extensions = crl_ext

[ policy_loose ]
organizationName = optional
commonName = supplied

[ req ]
distinguished_name = req_dn
prompt = no
utf8 = yes

[ req_dn ]
CN = unused

[ v3_ca ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign, digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[ crl_ext ]
authorityKeyIdentifier = keyid:always
`;
}

function leafExtensions(opts: IssueOptions, keyType: DevKeyType, ca: CaHandle): string {
  const eku =
    opts.usage === 'server' ? 'serverAuth' : opts.usage === 'client' ? 'clientAuth' : 'serverAuth, clientAuth';
  // keyEncipherment only means something for RSA key transport; ECDSA keys sign only.
  const keyUsage = keyType === 'rsa' ? 'digitalSignature, keyEncipherment' : 'digitalSignature';
  const sans = [
    ...(opts.dns ?? []).map((d) => `DNS:${d}`),
    ...(opts.ips ?? []).map((ip) => `IP:${ip}`),
    ...(opts.uris ?? []).map((u) => `URI:${u}`),
  ];
  const lines = [
    '[ leaf ]',
    'basicConstraints = critical, CA:false',
    `keyUsage = critical, ${keyUsage}`,
    `extendedKeyUsage = ${eku}`,
    'subjectKeyIdentifier = hash',
    'authorityKeyIdentifier = keyid:always',
  ];
  if (sans.length > 0) lines.push(`subjectAltName = ${sans.join(', ')}`);
  // As public CAs do: a leaf of an intermediate names where its issuer can be fetched. Preflight
  // relies on this to tell a missing intermediate from a private root the clients already trust.
  if (ca.chainPem !== '') lines.push(`authorityInfoAccess = caIssuers;URI:${CA_ISSUERS_BASE}${ca.name}.crt`);
  return lines.join('\n') + '\n';
}

/** Sets up the openssl state directory of a CA whose key and certificate are (or will be) given. */
async function initCaState(stateDir: string): Promise<string> {
  await mkdir(join(stateDir, 'newcerts'), { recursive: true });
  await writeFile(join(stateDir, 'index.txt'), '');
  await writeFile(join(stateDir, 'index.txt.attr'), 'unique_subject = no\n');
  await writeFile(join(stateDir, 'crlnumber'), '1000\n');
  const configPath = join(stateDir, 'openssl.cnf');
  await writeFile(configPath, caConfig(stateDir));
  return configPath;
}

function validity(notBefore: Date | undefined, notAfter: Date | undefined, defaultDays: number): [Date, Date] {
  const now = Date.now();
  const start = notBefore ?? new Date(now - HOUR_MS);
  const end = notAfter ?? new Date(Math.max(now, start.getTime()) + defaultDays * DAY_MS);
  return [start, end];
}

/**
 * Creates a CA under `dir`: a self-signed root, or an intermediate signed by `opts.parent`.
 * Any previous CA of the same name in `dir` is replaced.
 */
export async function createCa(dir: string, opts: CreateCaOptions): Promise<CaHandle> {
  const outDir = resolve(dir);
  const stateDir = join(outDir, opts.name);
  await rm(stateDir, { recursive: true, force: true });
  const configPath = await initCaState(stateDir);
  const keyType = opts.keyType ?? 'ec';
  const cn = opts.cn ?? `Gatehouse Dev ${opts.name}`;
  const certPath = join(outDir, `${opts.name}.crt`);
  const keyPath = join(outDir, `${opts.name}.key`);
  const csrPath = join(stateDir, 'ca.csr');
  const [start, end] = validity(opts.notBefore, opts.notAfter, CA_DEFAULT_DAYS);

  await writeFile(keyPath, await generateKeyPem(keyType), { mode: 0o600 });
  await openssl(
    ['req', '-new', '-config', configPath, '-key', keyPath, '-subj', subjectArg(cn), '-out', csrPath],
    `create the request of CA ${opts.name}`,
  );
  const common = ['-batch', '-notext', '-in', csrPath, '-out', certPath, '-extensions', 'v3_ca'];
  const dates = ['-startdate', opensslTime(start), '-enddate', opensslTime(end)];
  if (opts.parent) {
    const parent = opts.parent;
    await withCaLock(parent.dir, () =>
      openssl(
        ['ca', '-config', parent.configPath, '-cert', parent.certPath, '-keyfile', parent.keyPath, ...common, ...dates],
        `sign intermediate CA ${opts.name} with ${parent.name}`,
      ),
    );
  } else {
    await openssl(
      ['ca', '-config', configPath, '-selfsign', '-keyfile', keyPath, ...common, ...dates],
      `self-sign root CA ${opts.name}`,
    );
  }
  const certPem = await readFile(certPath, 'utf8');
  const chainPem = opts.parent ? certPem + opts.parent.chainPem : '';
  const rootPem = opts.parent ? opts.parent.rootPem : certPem;
  return {
    name: opts.name,
    cn,
    dir: stateDir,
    outDir,
    certPath,
    keyPath,
    configPath,
    keyType,
    certPem,
    chainPem,
    rootPem,
  };
}

/** Issues a leaf certificate from `ca`; files go next to the CA's certificate (`ca.outDir`). */
export async function issueCertificate(ca: CaHandle, opts: IssueOptions): Promise<LeafHandle> {
  const keyType = opts.keyType ?? 'ec';
  const certPath = join(ca.outDir, `${opts.name}.crt`);
  const keyPath = join(ca.outDir, `${opts.name}.key`);
  const fullchainPath = join(ca.outDir, `${opts.name}.fullchain.pem`);
  const csrPath = join(ca.dir, `${opts.name}.csr`);
  const extPath = join(ca.dir, `${opts.name}.ext`);
  const [start, end] = validity(opts.notBefore, opts.notAfter, LEAF_DEFAULT_DAYS);

  const keyPem = await generateKeyPem(keyType, opts.passphrase);
  await writeFile(keyPath, keyPem, { mode: 0o600 });
  await writeFile(extPath, leafExtensions(opts, keyType, ca));
  const passArgs = opts.passphrase ? ['-passin', 'env:GATEHOUSE_DEVPKI_PASS'] : [];
  const env = opts.passphrase ? { GATEHOUSE_DEVPKI_PASS: opts.passphrase } : undefined;
  await openssl(
    [
      'req',
      '-new',
      '-config',
      ca.configPath,
      '-key',
      keyPath,
      ...passArgs,
      '-subj',
      subjectArg(opts.cn),
      '-out',
      csrPath,
    ],
    `create the request of ${opts.name}`,
    env,
  );
  await withCaLock(ca.dir, () =>
    openssl(
      [
        'ca',
        '-batch',
        '-notext',
        '-config',
        ca.configPath,
        '-cert',
        ca.certPath,
        '-keyfile',
        ca.keyPath,
        '-in',
        csrPath,
        '-out',
        certPath,
        '-extfile',
        extPath,
        '-extensions',
        'leaf',
        '-startdate',
        opensslTime(start),
        '-enddate',
        opensslTime(end),
      ],
      `sign ${opts.name} with ${ca.name}`,
    ),
  );
  const certPem = await readFile(certPath, 'utf8');
  const fullchainPem = certPem + ca.chainPem;
  await writeFile(fullchainPath, fullchainPem);
  const serial = new X509Certificate(certPem).serialNumber.toUpperCase();
  return {
    name: opts.name,
    cn: opts.cn,
    certPath,
    keyPath,
    fullchainPath,
    certPem,
    keyPem,
    fullchainPem,
    serial,
    passphrase: opts.passphrase ?? null,
  };
}

/** Marks `leaf` revoked in `ca`'s database; call writeCrl to publish it. */
export async function revoke(ca: CaHandle, leaf: Pick<LeafHandle, 'certPath' | 'name'>): Promise<void> {
  await withCaLock(ca.dir, () =>
    openssl(
      ['ca', '-config', ca.configPath, '-cert', ca.certPath, '-keyfile', ca.keyPath, '-revoke', leaf.certPath],
      `revoke ${leaf.name} in ${ca.name}`,
    ),
  );
}

/** Writes the CA's current CRL (PEM, valid 30 days) to `<outDir>/<ca>.crl.pem`. */
export async function writeCrl(ca: CaHandle): Promise<{ crlPath: string; crlPem: string }> {
  const crlPath = join(ca.outDir, `${ca.name}.crl.pem`);
  await withCaLock(ca.dir, () =>
    openssl(
      ['ca', '-config', ca.configPath, '-cert', ca.certPath, '-keyfile', ca.keyPath, '-gencrl', '-out', crlPath],
      `write the CRL of ${ca.name}`,
    ),
  );
  return { crlPath, crlPem: await readFile(crlPath, 'utf8') };
}

// ---------------------------------------------------------------------------------------------
// The demo PKI: everything `gatehouse demo` and the docs' curl lines need, in one directory.

export interface DemoLeafPaths {
  certPath: string;
  keyPath: string;
  fullchainPath: string;
  serial: string;
}

export interface DemoPki {
  dir: string;
  /** True when an existing, still valid demo PKI in `dir` was reused. */
  reused: boolean;
  /** Trusted by the gateway for clients and used by clients to trust the gateway. */
  ca: { certPath: string; keyPath: string };
  /** Trusted by the demo backend only; signs the backend's certificate and the gateway's client certificate. */
  backendCa: { certPath: string; keyPath: string };
  /** A CA nobody trusts: its client certificate is the "wrong certificate" of the demo. */
  rogueCa: { certPath: string; keyPath: string };
  /** The gateway's serving certificate: SAN localhost, 127.0.0.1, ::1. */
  server: DemoLeafPaths;
  /** A client certificate the gateway accepts. */
  client: DemoLeafPaths;
  /** A client certificate from the rogue CA, which the gateway rejects. */
  rogueClient: DemoLeafPaths;
  /** The demo backend's serving certificate: SAN localhost, 127.0.0.1, ::1. */
  backend: DemoLeafPaths;
  /** The certificate the gateway presents to the backend. */
  gatewayClient: DemoLeafPaths;
}

const DEMO_MANIFEST = 'demo-pki.json';
/** A demo PKI is reused only while every certificate has at least this long left. */
const DEMO_MIN_REMAINING_MS = 2 * DAY_MS;
const DEMO_LEAF_DAYS = 90;

function demoLeaf(leaf: LeafHandle): DemoLeafPaths {
  return { certPath: leaf.certPath, keyPath: leaf.keyPath, fullchainPath: leaf.fullchainPath, serial: leaf.serial };
}

async function reusableDemo(dir: string): Promise<DemoPki | null> {
  let manifest: DemoPki;
  try {
    manifest = JSON.parse(await readFile(join(dir, DEMO_MANIFEST), 'utf8')) as DemoPki;
  } catch {
    return null;
  }
  const now = Date.now();
  const certs = [
    manifest.ca?.certPath,
    manifest.backendCa?.certPath,
    manifest.rogueCa?.certPath,
    manifest.server?.certPath,
    manifest.client?.certPath,
    manifest.rogueClient?.certPath,
    manifest.backend?.certPath,
    manifest.gatewayClient?.certPath,
  ];
  const keys = [manifest.server?.keyPath, manifest.client?.keyPath, manifest.backend?.keyPath];
  try {
    for (const key of keys) {
      if (typeof key !== 'string') return null;
      await stat(key);
    }
    for (const path of certs) {
      if (typeof path !== 'string') return null;
      const cert = new X509Certificate(await readFile(path));
      if (Date.parse(cert.validFrom) > now || Date.parse(cert.validTo) - now < DEMO_MIN_REMAINING_MS) return null;
    }
  } catch {
    return null;
  }
  return { ...manifest, dir, reused: true };
}

/**
 * Creates (or reuses, when one in `dir` is still valid) the demo PKI: a CA for the gateway and its
 * clients, a separate CA for the backend side, a rogue CA, and their leaves.
 */
export async function createDemoPki(dir: string): Promise<DemoPki> {
  const root = resolve(dir);
  const existing = await reusableDemo(root);
  if (existing) return existing;
  await mkdir(root, { recursive: true });
  const local = { dns: ['localhost'], ips: ['127.0.0.1', '::1'] };
  const leafDays = new Date(Date.now() + DEMO_LEAF_DAYS * DAY_MS);
  const [ca, backendCa, rogueCa] = await Promise.all([
    createCa(root, { name: 'ca', cn: 'Gatehouse Demo CA' }),
    createCa(root, { name: 'backend-ca', cn: 'Gatehouse Demo Backend CA' }),
    createCa(root, { name: 'rogue-ca', cn: 'Gatehouse Demo Rogue CA' }),
  ]);
  const [server, client, rogueClient, backend, gatewayClient] = await Promise.all([
    issueCertificate(ca, { name: 'server', cn: 'localhost', ...local, usage: 'server', notAfter: leafDays }),
    issueCertificate(ca, { name: 'client', cn: 'demo-client', usage: 'client', notAfter: leafDays }),
    issueCertificate(rogueCa, { name: 'rogue-client', cn: 'demo-client', usage: 'client', notAfter: leafDays }),
    issueCertificate(backendCa, { name: 'backend', cn: 'localhost', ...local, usage: 'server', notAfter: leafDays }),
    issueCertificate(backendCa, { name: 'gateway-client', cn: 'gatehouse', usage: 'client', notAfter: leafDays }),
  ]);
  const demo: DemoPki = {
    dir: root,
    reused: false,
    ca: { certPath: ca.certPath, keyPath: ca.keyPath },
    backendCa: { certPath: backendCa.certPath, keyPath: backendCa.keyPath },
    rogueCa: { certPath: rogueCa.certPath, keyPath: rogueCa.keyPath },
    server: demoLeaf(server),
    client: demoLeaf(client),
    rogueClient: demoLeaf(rogueClient),
    backend: demoLeaf(backend),
    gatewayClient: demoLeaf(gatewayClient),
  };
  await writeFile(join(root, DEMO_MANIFEST), JSON.stringify(demo, null, 2) + '\n');
  return demo;
}

// ---------------------------------------------------------------------------------------------
// The test PKI: every certificate case the mutual-TLS tests exercise, made in one call.

export interface TestPki {
  dir: string;
  /** Self-signed root; clients trust it to verify the gateway. */
  root: CaHandle;
  /** Intermediate under `root`; issues the server and client leaves below. */
  intermediate: CaHandle;
  /** A root nobody trusts, with its own leaves. */
  untrusted: CaHandle;
  /** `root` + `intermediate`: what a gateway's clientCA (or a client's CA file) holds. */
  caBundlePath: string;
  server: {
    /** ECDSA, SAN localhost, ec.gatehouse.test, 127.0.0.1, ::1; fullchain = leaf + intermediate. */
    ec: LeafHandle;
    /** RSA 2048, SAN rsa.gatehouse.test, localhost. */
    rsa: LeafHandle;
    /** Valid but for the name wrong.gatehouse.test only. */
    wrongSan: LeafHandle;
    expired: LeafHandle;
    notYetValid: LeafHandle;
    /** ECDSA, key encrypted with the passphrase `gatehouse`. */
    encrypted: LeafHandle;
    /** From the untrusted root. */
    untrusted: LeafHandle;
  };
  client: {
    ec: LeafHandle;
    rsa: LeafHandle;
    expired: LeafHandle;
    notYetValid: LeafHandle;
    /** Revoked in `crlPath`. */
    revoked: LeafHandle;
    /** From the untrusted root. */
    untrusted: LeafHandle;
  };
  /** The intermediate's CRL (it issued the leaves) followed by the root's; lists client.revoked. */
  crlPath: string;
}

/** Creates a fresh test PKI under `dir` (about 20 openssl runs, well under a second or two). */
export async function createTestPki(dir: string): Promise<TestPki> {
  const out = resolve(dir);
  await mkdir(out, { recursive: true });
  const [root, untrusted] = await Promise.all([
    createCa(out, { name: 'root', cn: 'Gatehouse Test Root' }),
    createCa(out, { name: 'untrusted', cn: 'Gatehouse Untrusted Root' }),
  ]);
  const intermediate = await createCa(out, { name: 'intermediate', cn: 'Gatehouse Test Intermediate', parent: root });
  const now = Date.now();
  const past = { notBefore: new Date(now - 30 * DAY_MS), notAfter: new Date(now - DAY_MS) };
  const future = { notBefore: new Date(now + DAY_MS), notAfter: new Date(now + 30 * DAY_MS) };
  const local = { dns: ['localhost'], ips: ['127.0.0.1', '::1'] };
  const [ec, rsa, wrongSan, expired, notYetValid, encrypted, serverUntrusted] = await Promise.all([
    issueCertificate(intermediate, {
      name: 'server-ec',
      cn: 'ec.gatehouse.test',
      ...local,
      dns: ['localhost', 'ec.gatehouse.test'],
      usage: 'server',
    }),
    issueCertificate(intermediate, {
      name: 'server-rsa',
      cn: 'rsa.gatehouse.test',
      dns: ['rsa.gatehouse.test', 'localhost'],
      usage: 'server',
      keyType: 'rsa',
    }),
    issueCertificate(intermediate, {
      name: 'server-wrong-san',
      cn: 'wrong.gatehouse.test',
      dns: ['wrong.gatehouse.test'],
      usage: 'server',
    }),
    issueCertificate(intermediate, { name: 'server-expired', cn: 'localhost', ...local, usage: 'server', ...past }),
    issueCertificate(intermediate, {
      name: 'server-not-yet-valid',
      cn: 'localhost',
      ...local,
      usage: 'server',
      ...future,
    }),
    issueCertificate(intermediate, {
      name: 'server-encrypted',
      cn: 'enc.gatehouse.test',
      dns: ['enc.gatehouse.test'],
      usage: 'server',
      passphrase: 'gatehouse',
    }),
    issueCertificate(untrusted, { name: 'server-untrusted', cn: 'localhost', ...local, usage: 'server' }),
  ]);
  const [clientEc, clientRsa, clientExpired, clientNotYetValid, clientRevoked, clientUntrusted] = await Promise.all([
    issueCertificate(intermediate, {
      name: 'client-ec',
      cn: 'client-ec',
      uris: ['spiffe://gatehouse.test/client-ec'],
      dns: ['client-ec.gatehouse.test'],
      usage: 'client',
    }),
    issueCertificate(intermediate, { name: 'client-rsa', cn: 'client-rsa', usage: 'client', keyType: 'rsa' }),
    issueCertificate(intermediate, { name: 'client-expired', cn: 'client-expired', usage: 'client', ...past }),
    issueCertificate(intermediate, {
      name: 'client-not-yet-valid',
      cn: 'client-not-yet-valid',
      usage: 'client',
      ...future,
    }),
    issueCertificate(intermediate, { name: 'client-revoked', cn: 'client-revoked', usage: 'client' }),
    issueCertificate(untrusted, { name: 'client-untrusted', cn: 'client-ec', usage: 'client' }),
  ]);
  await revoke(intermediate, clientRevoked);
  // With a CRL configured OpenSSL wants one from the issuer of every leaf it verifies: both CAs.
  const [interCrl, rootCrl] = await Promise.all([writeCrl(intermediate), writeCrl(root)]);
  const crlPath = join(out, 'crl.pem');
  await writeFile(crlPath, interCrl.crlPem + rootCrl.crlPem);
  const caBundlePath = join(out, 'ca-bundle.pem');
  await writeFile(caBundlePath, root.certPem + intermediate.certPem);
  return {
    dir: out,
    root,
    intermediate,
    untrusted,
    caBundlePath,
    server: { ec, rsa, wrongSan, expired, notYetValid, encrypted, untrusted: serverUntrusted },
    client: {
      ec: clientEc,
      rsa: clientRsa,
      expired: clientExpired,
      notYetValid: clientNotYetValid,
      revoked: clientRevoked,
      untrusted: clientUntrusted,
    },
    crlPath,
  };
}
