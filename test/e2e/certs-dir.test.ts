// Goma's `tls.certsDir` through `gatehouse run`: certificate pairs from a watched folder, chosen by
// SNI beside `certificates[]`, as `openssl s_client` sees them while a pair is added and replaced.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { type CaHandle, createCa, issueCertificate } from '@gatehouse/pki';
import { type GatewayProcess, startGateway, tempDir, writeConfig } from '../support/gateway.ts';
import { gatewayHead, oneRoute } from '../support/gateway-config.ts';

const run = promisify(execFile);

/** The subject and serial `openssl s_client` is served for `servername`. */
async function served(port: number, servername: string): Promise<string> {
  const { stdout } = await run('sh', [
    '-c',
    `openssl s_client -connect 127.0.0.1:${port} -servername ${servername} </dev/null 2>/dev/null | openssl x509 -noout -subject -serial`,
  ]);
  return stdout.replace(/\s+/g, ' ').trim();
}

async function until(port: number, servername: string, test: (s: string) => boolean): Promise<string> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const seen = await served(port, servername);
    if (test(seen)) return seen;
    if (Date.now() > deadline) assert.fail(`${servername} still served ${seen}`);
    await sleep(100);
  }
}

describe('certsDir', () => {
  let ca: CaHandle;
  let certs: string;
  let gateway: GatewayProcess;
  let port: number;

  const issue = async (name: string, host: string) => {
    const leaf = await issueCertificate(ca, { name, cn: host, dns: [host], usage: 'server' });
    return leaf;
  };
  /** Puts a pair into the folder as deploy tools do: key first, then the certificate, each renamed in. */
  const install = (leaf: { certPath: string; keyPath: string }, base: string) => {
    copyFileSync(leaf.keyPath, join(certs, `.${base}.key.tmp`));
    renameSync(join(certs, `.${base}.key.tmp`), join(certs, `${base}.key`));
    copyFileSync(leaf.certPath, join(certs, `.${base}.crt.tmp`));
    renameSync(join(certs, `.${base}.crt.tmp`), join(certs, `${base}.crt`));
  };

  before(async () => {
    const dir = tempDir('gatehouse-certs-dir-');
    ca = await createCa(join(dir, 'pki'), { name: 'ca', cn: 'certsDir Test CA' });
    certs = join(dir, 'certs');
    mkdirSync(certs);
    const main = await issue('main', 'main.test');
    install(await issue('a1', 'a.test'), 'a');
    const head = await gatewayHead({
      tls: { cert: main.certPath, key: main.keyPath },
      admin: false,
      gateway: ['  watch: { enabled: true, debounce: 100ms, pollInterval: 2s }'],
    });
    port = head.webSecurePort;
    const config = writeConfig(dir, [...head.lines, '    certsDir: certs', ...oneRoute('http://127.0.0.1:9')]);
    gateway = await startGateway(config, { workers: 2 });
  });

  after(async () => {
    await gateway?.stop();
  });

  it('serves folder pairs by SNI beside certificates[], and takes a pair added or replaced', async () => {
    assert.match(await served(port, 'main.test'), /CN ?= ?main\.test/);
    const first = await served(port, 'a.test');
    assert.match(first, /CN ?= ?a\.test/);

    // A new pair: b.test is served once the folder change has rolled out.
    install(await issue('b1', 'b.test'), 'b');
    await until(port, 'b.test', (s) => /CN ?= ?b\.test/.test(s));

    // A replaced pair: a.test is served with the new certificate (another serial).
    install(await issue('a2', 'a.test'), 'a');
    const second = await until(port, 'a.test', (s) => s !== first);
    assert.match(second, /CN ?= ?a\.test/);
    assert.notEqual(second.split('serial=')[1], first.split('serial=')[1]);
  });
});
