// Issue 5, "Checked by": certificate and config changes under continuous load cost zero failed
// requests. One real gateway (2 workers, HTTPS) serves three certificates, each replaced the way
// operators do it:
//   - `localhost`:  atomic renames (write a temporary file, rename it over), 100 times;
//   - `k8s.test`:   a Kubernetes secret volume, `..data` symlink swapped, 20 times;
//   - `inplace.test`: key written in place, certificate 200 ms later, 20 times (the mismatched
//     moment is rejected, the certificate's arrival heals it);
// then 50 config reloads changing weights and routes, 10 invalid configs (rejected), and 3 rolling
// restarts. Meanwhile keep-alive clients and a fresh-connection-per-request loop (over all three
// names) count every failed request; each rotation must become visible to a new handshake.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect as tlsConnect } from 'node:tls';
import { type CaHandle, createCa, issueCertificate, type LeafHandle } from '@gatehouse/pki';
import { freePort, type GatewayProcess, type LogLine, runCli, startGateway, tempDir } from '../support/gateway.ts';

const NAMES = ['localhost', 'k8s.test', 'inplace.test'] as const;
type Name = (typeof NAMES)[number];

// The counts the issue asks for.
const ATOMIC_RENAMES = 100;
const SYMLINK_SWAPS = 20;
const IN_PLACE_REWRITES = 20;
const CONFIG_RELOADS = 50;
const INVALID_RELOADS = 10;
const ROLLING_RESTARTS = 3;

interface LoadStats {
  ok: number;
  failed: number;
  errors: string[];
}

/**
 * Bounded continuous load: `keepAlive` clients each on one keep-alive connection, plus one loop that
 * opens a fresh TLS connection per request, rotating over the three server names. Runs until
 * stop(), `maxRequests` or `maxMs`, whichever comes first.
 */
function startLoad(port: number, ca: string, opts: { keepAlive: number; maxRequests: number; maxMs: number }) {
  const stats: LoadStats = { ok: 0, failed: 0, errors: [] };
  const deadline = Date.now() + opts.maxMs;
  let sent = 0;
  let stopped = false;
  const once1 = (servername: Name, agent: Agent | false, path: string) =>
    new Promise<void>((resolve) => {
      const req = httpsRequest(
        { host: '127.0.0.1', port, path, servername, ca, agent, headers: { host: servername } },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            body += chunk;
          });
          res.on('end', () => {
            if (res.statusCode === 200 && body.startsWith('backend-')) stats.ok++;
            else {
              stats.failed++;
              if (stats.errors.length < 20)
                stats.errors.push(`${servername} ${path}: HTTP ${res.statusCode} ${body.slice(0, 120)}`);
            }
            resolve();
          });
          res.on('error', (error) => {
            stats.failed++;
            if (stats.errors.length < 20) stats.errors.push(`${servername} ${path}: ${error.message}`);
            resolve();
          });
        },
      );
      req.setTimeout(10_000, () => req.destroy(new Error('request timed out')));
      req.on('error', (error) => {
        stats.failed++;
        if (stats.errors.length < 20) stats.errors.push(`${servername} ${path}: ${error.message}`);
        resolve();
      });
      req.end();
    });
  const running = () => !stopped && sent < opts.maxRequests && Date.now() < deadline;
  const keepAliveLoop = async (i: number) => {
    const servername = NAMES[i % NAMES.length]!;
    const agent = new Agent({ keepAlive: true, maxSockets: 1, ca, servername });
    while (running()) {
      sent++;
      await once1(servername, agent, `/app/ka/${i}`);
      await sleep(2); // leave the two cores to the gateway and the rotations
    }
    agent.destroy();
  };
  const freshLoop = async () => {
    let n = 0;
    while (running()) {
      sent++;
      await once1(NAMES[n++ % NAMES.length]!, false, '/app/fresh');
      await sleep(2);
    }
  };
  const loops = [...Array.from({ length: opts.keepAlive }, (_, i) => keepAliveLoop(i)), freshLoop()];
  return {
    stats,
    async stop(): Promise<LoadStats> {
      stopped = true;
      await Promise.all(loops);
      return stats;
    },
  };
}

function peerSerial(port: number, servername: Name, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, servername, ca }, () => {
      const serial = socket.getPeerCertificate().serialNumber.toUpperCase();
      socket.destroy();
      resolve(serial);
    });
    socket.setTimeout(5000, () => socket.destroy(new Error('handshake timed out')));
    socket.on('error', reject);
  });
}

describe('rotation under load', { timeout: 600_000 }, () => {
  let dir = '';
  let ca: CaHandle;
  let gateway: GatewayProcess;
  let tlsPort = 0;
  let adminPort = 0;
  let socket = '';
  let configFile = '';
  const backends: Server[] = [];
  const backendPorts: number[] = [];
  let load: ReturnType<typeof startLoad>;
  /** Milliseconds from the file change to the first handshake that showed the new serial. */
  const visibleAfter: Record<string, number[]> = { atomic: [], symlink: [], inplace: [] };
  let leafCount = 0;

  const paths = {
    atomicCert: () => join(dir, 'live', 'server.crt'),
    atomicKey: () => join(dir, 'live', 'server.key'),
    k8sCert: () => join(dir, 'secret', 'tls.crt'),
    k8sKey: () => join(dir, 'secret', 'tls.key'),
    inplaceCert: () => join(dir, 'inplace', 'tls.crt'),
    inplaceKey: () => join(dir, 'inplace', 'tls.key'),
  };

  const issue = (name: Name): Promise<LeafHandle> =>
    issueCertificate(ca, {
      name: `leaf-${++leafCount}`,
      cn: name,
      dns: [name],
      ips: name === 'localhost' ? ['127.0.0.1'] : [],
      usage: 'server',
    });

  /** weights and extra routes vary per config version `v`; route `app` (what the load hits) stays. */
  const configText = (v: number) => {
    const extra = Array.from(
      { length: v % 4 },
      (_, i) => `  - name: extra-${v}-${i}
    path: /extra/${i}
    target: http://127.0.0.1:${backendPorts[i % backendPorts.length]}
`,
    ).join('');
    return `version: 2
gateway:
  entryPoints:
    web:
      enabled: false
    webSecure:
      address: 127.0.0.1:${tlsPort}
  tls:
    default: localhost
    certificates:
      - cert: ${paths.atomicCert()}
        key: ${paths.atomicKey()}
      - cert: ${paths.k8sCert()}
        key: ${paths.k8sKey()}
      - cert: ${paths.inplaceCert()}
        key: ${paths.inplaceKey()}
  admin:
    address: 127.0.0.1:${adminPort}
    socket: ${socket}
  log:
    accessLog: false
  watch:
    debounce: 50ms
    pollInterval: 2s
routes:
  - name: app
    path: /app
    backends:
      - endpoint: http://127.0.0.1:${backendPorts[0]}
        weight: ${1 + (v % 5)}
      - endpoint: http://127.0.0.1:${backendPorts[1]}
        weight: ${5 - (v % 5)}
${extra}`;
  };

  const replaceAtomically = (path: string, text: string) => {
    const tmp = join(dir, 'live', `.${Date.now()}.${Math.random().toString(36).slice(2)}.tmp`);
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  };

  /** The first log line matching `test` written after line number `mark`. */
  const logAfter = (mark: number, test: (l: LogLine) => boolean, what: string, timeoutMs = 10_000) =>
    gateway.waitForLog((l) => test(l) && gateway.lines.lastIndexOf(l) >= mark, timeoutMs, what);

  /**
   * Polls new handshakes until `servername` shows `serial`; returns when the first handshake that
   * showed it began, counted from `since` (so a handshake slowed by a busy machine is not counted
   * against the gateway).
   */
  const awaitSerial = async (servername: Name, serial: string, since: number): Promise<number> => {
    const deadline = since + 15_000;
    let seen = '';
    while (Date.now() < deadline) {
      const began = Date.now();
      seen = await peerSerial(tlsPort, servername, ca.certPem).catch((error: Error) => {
        // A failed handshake is a failed request like any other.
        load.stats.failed++;
        load.stats.errors.push(`${servername} serial probe: ${error.message}`);
        return `error: ${error.message}`;
      });
      if (seen === serial) return began - since;
      await sleep(10);
    }
    throw new Error(`${servername} still shows ${seen}, not ${serial}, 15 s after the change`);
  };

  before(async () => {
    dir = tempDir('gatehouse-rotation-');
    for (const sub of ['live', 'secret', 'inplace']) mkdirSync(join(dir, sub));
    ca = await createCa(dir, { name: 'root', cn: 'Rotation Test Root' });
    const [atomic, k8s, inplace] = await Promise.all([issue('localhost'), issue('k8s.test'), issue('inplace.test')]);
    writeFileSync(paths.atomicCert(), atomic.certPem);
    writeFileSync(paths.atomicKey(), atomic.keyPem);
    mkdirSync(join(dir, 'secret', '..v0'));
    writeFileSync(join(dir, 'secret', '..v0', 'tls.crt'), k8s.certPem);
    writeFileSync(join(dir, 'secret', '..v0', 'tls.key'), k8s.keyPem);
    symlinkSync('..v0', join(dir, 'secret', '..data'));
    symlinkSync('..data/tls.crt', paths.k8sCert());
    symlinkSync('..data/tls.key', paths.k8sKey());
    writeFileSync(paths.inplaceCert(), inplace.certPem);
    writeFileSync(paths.inplaceKey(), inplace.keyPem);

    for (let i = 0; i < 2; i++) {
      const server = createServer((req, res) => {
        req.resume();
        res.end(`backend-${i}`);
      });
      server.keepAliveTimeout = 30_000;
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const address = server.address();
      backends.push(server);
      backendPorts.push(typeof address === 'object' && address ? address.port : 0);
    }
    [tlsPort, adminPort] = [await freePort(), await freePort()];
    socket = join(dir, 'admin.sock');
    configFile = join(dir, 'gatehouse.yaml');
    writeFileSync(configFile, configText(0));
    gateway = await startGateway(configFile, { workers: 2 });
    for (const name of NAMES) await peerSerial(tlsPort, name, ca.certPem);
    load = startLoad(tlsPort, ca.certPem, { keepAlive: 4, maxRequests: 400_000, maxMs: 480_000 });
  });

  after(async () => {
    await load?.stop();
    await gateway?.stop();
    for (const server of backends) server.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const assertNoFailures = (scenario: string) => {
    assert.equal(
      load.stats.failed,
      0,
      `${scenario}: ${load.stats.failed} failed of ${load.stats.ok + load.stats.failed}:\n${load.stats.errors.join('\n')}`,
    );
    assert.ok(load.stats.ok > 0, 'the load is running');
  };

  it(`${ATOMIC_RENAMES} certificate rotations by atomic rename`, async () => {
    for (let i = 0; i < ATOMIC_RENAMES; i++) {
      const next = await issue('localhost');
      const mark = gateway.lines.length;
      // Key first, then certificate, each renamed over the old one; the debounce sees one change.
      replaceAtomically(paths.atomicKey(), next.keyPem);
      replaceAtomically(paths.atomicCert(), next.certPem);
      const changed = Date.now();
      visibleAfter.atomic!.push(await awaitSerial('localhost', next.serial, changed));
      await logAfter(mark, (l) => l.msg === 'reload accepted', `reload accepted after rename ${i}`);
    }
    assertNoFailures('atomic renames');
  });

  it(`${SYMLINK_SWAPS} Kubernetes-style ..data symlink swaps`, async () => {
    const secret = join(dir, 'secret');
    for (let i = 1; i <= SYMLINK_SWAPS; i++) {
      const next = await issue('k8s.test');
      const version = join(secret, `..v${i}`);
      mkdirSync(version);
      writeFileSync(join(version, 'tls.crt'), next.certPem);
      writeFileSync(join(version, 'tls.key'), next.keyPem);
      // What the kubelet does: a new symlink, renamed over `..data` in one step.
      symlinkSync(`..v${i}`, join(secret, '..data_tmp'));
      renameSync(join(secret, '..data_tmp'), join(secret, '..data'));
      const changed = Date.now();
      visibleAfter.symlink!.push(await awaitSerial('k8s.test', next.serial, changed));
      rmSync(join(secret, `..v${i - 1}`), { recursive: true, force: true });
    }
    assertNoFailures('symlink swaps');
  });

  it(`${IN_PLACE_REWRITES} in-place rewrites, key first and certificate 200 ms later`, async (t) => {
    let mismatchesWaited = 0;
    const first = gateway.lines.length;
    for (let i = 0; i < IN_PLACE_REWRITES; i++) {
      const next = await issue('inplace.test');
      const mark = gateway.lines.length;
      writeFileSync(paths.inplaceKey(), next.keyPem);
      const waited = logAfter(mark, (l) => l.msg === 'waiting for the matching key', 'waiting', 2000).then(
        () => true,
        () => false,
      );
      await sleep(200);
      writeFileSync(paths.inplaceCert(), next.certPem);
      const changed = Date.now();
      visibleAfter.inplace!.push(await awaitSerial('inplace.test', next.serial, changed));
      if (await waited) mismatchesWaited++;
    }
    t.diagnostic(`mismatched pair waited for in ${mismatchesWaited} of ${IN_PLACE_REWRITES} rewrites`);
    assertNoFailures('in-place rewrites');
    // The moment between the two writes is a mismatched pair: the gateway must not serve it (it keeps
    // the old pair), and, being a normal rotation gap shorter than `watch.pairGrace`, it is logged at
    // info, never as a rejected reload. Timing on a busy machine can let a reload read both files
    // after the second write; most rewrites must still show the wait.
    assert.ok(
      mismatchesWaited >= IN_PLACE_REWRITES / 2,
      `mismatched key/certificate waited for in ${mismatchesWaited} of ${IN_PLACE_REWRITES} rewrites`,
    );
    const rejected = gateway.lines.slice(first).filter((l) => l.msg === 'reload rejected');
    assert.deepEqual(rejected, [], 'a rotation gap within the grace period is not a rejection');
  });

  // How soon a rotation shows is a speed figure: it is reported here and measured by `npm run bench`
  // (the rotation scenario), never asserted as a time; that every rotation shows at all is asserted
  // by awaitSerial above, which fails a rotation still unseen 15 s after the change.
  it('a new handshake shows each new certificate (latency reported, not asserted)', (t) => {
    const summary = Object.entries(visibleAfter)
      .map(([k, v]) => {
        const sorted = [...v].sort((a, b) => a - b);
        return `${k}: n=${v.length} median=${sorted[Math.floor(v.length / 2)]} max=${sorted[v.length - 1]} ms`;
      })
      .join('; ');
    t.diagnostic(summary);
    for (const [kind, times] of Object.entries(visibleAfter)) {
      assert.ok(times.length > 0, `${kind} rotations ran`);
    }
  });

  it(`${CONFIG_RELOADS} config reloads that change weights and routes`, async (t) => {
    const took: number[] = [];
    for (let v = 1; v <= CONFIG_RELOADS; v++) {
      const mark = gateway.lines.length;
      const tmp = `${configFile}.tmp`;
      const started = Date.now();
      writeFileSync(tmp, configText(v));
      renameSync(tmp, configFile);
      const accepted = await logAfter(mark, (l) => l.msg === 'reload accepted', `config reload ${v} accepted`);
      took.push(Date.now() - started);
      assert.equal(typeof accepted.generation, 'number');
    }
    took.sort((a, b) => a - b);
    t.diagnostic(`write to "reload accepted": median ${took[took.length >> 1]} ms, max ${took[took.length - 1]} ms`);
    // The routes of the last version are the ones served: /extra/1 exists now (50 % 4 = 2 extras).
    const extra = await new Promise<number>((resolve, reject) => {
      const req = httpsRequest(
        { host: '127.0.0.1', port: tlsPort, path: '/extra/1', servername: 'localhost', ca: ca.certPem, agent: false },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    assert.equal(extra, 200);
    assertNoFailures('config reloads');
  });

  it(`${INVALID_RELOADS} invalid configs are rejected while traffic flows`, async () => {
    const status = async () =>
      JSON.parse((await runCli(['status', '--json', '--socket', socket])).stdout) as { generation: number };
    const generation = (await status()).generation;
    for (let i = 0; i < INVALID_RELOADS; i++) {
      const mark = gateway.lines.length;
      writeFileSync(`${configFile}.tmp`, `${configText(CONFIG_RELOADS)}  - name: [broken ${i}\n`);
      renameSync(`${configFile}.tmp`, configFile);
      await logAfter(mark, (l) => l.msg === 'reload rejected', `invalid config ${i} rejected`);
    }
    assert.equal((await status()).generation, generation, 'the running generation was kept');
    const mark = gateway.lines.length;
    writeFileSync(`${configFile}.tmp`, configText(CONFIG_RELOADS + 1));
    renameSync(`${configFile}.tmp`, configFile);
    await logAfter(mark, (l) => l.msg === 'reload accepted', 'valid config accepted again');
    assertNoFailures('invalid reloads');
  });

  it(`${ROLLING_RESTARTS} rolling restarts`, async (t) => {
    for (let i = 0; i < ROLLING_RESTARTS; i++) {
      const restart = await runCli(['restart', '--socket', socket], { timeoutMs: 120_000 });
      assert.equal(restart.code, 0, `restart ${i}: ${restart.stdout}${restart.stderr}`);
    }
    t.diagnostic(`${load.stats.ok} requests answered during the whole file`);
    assertNoFailures('rolling restarts');
    const final = await load.stop();
    assert.equal(final.failed, 0, final.errors.join('\n'));
  });
});
