// Debian's `pebble` (a small ACME server, Let's Encrypt's test CA) and `pebble-challtestsrv` (its
// mock DNS server) on free loopback ports, for the ACME end-to-end tests. The DNS server answers
// every name with 127.0.0.1, so pebble's validations reach the gateway under test, whose entry
// points are pebble's `httpPort` (HTTP-01) and `tlsPort` (TLS-ALPN-01). Pebble's own HTTPS
// certificate comes from a CA made at test time. Validation is real: PEBBLE_VA_ALWAYS_VALID is unset.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import https from 'node:https';
import { createCa, issueCertificate } from '@gatehouse/pki';
import { freePort, writeFile } from './gateway.ts';

export interface PebbleOptions {
  dir: string;
  /** The gateway's plain HTTP port (HTTP-01 validations go there). */
  httpPort: number;
  /** The gateway's HTTPS port (TLS-ALPN-01 validations go there). */
  tlsPort: number;
  /** Lifetime of issued certificates, in seconds (pebble's `certificateValidityPeriod`). */
  validitySeconds?: number;
}

/** One process with its output kept, so a test can count pebble's own log lines. */
class Service {
  readonly child: ChildProcess;
  output = '';
  readonly exited: Promise<unknown>;

  constructor(command: string, args: string[], env: NodeJS.ProcessEnv = {}) {
    this.child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = once(this.child, 'exit');
    const keep = (chunk: Buffer) => {
      this.output += chunk.toString('utf8');
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
  }

  async waitFor(text: string, timeoutMs = 15_000): Promise<void> {
    const started = Date.now();
    while (!this.output.includes(text)) {
      if (this.child.exitCode !== null) throw new Error(`exited before "${text}":\n${this.output}`);
      if (Date.now() - started > timeoutMs) throw new Error(`no "${text}" after ${timeoutMs} ms:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await this.exited;
    clearTimeout(timer);
  }
}

export class Pebble {
  readonly directoryUrl: string;
  /** The CA of pebble's own HTTPS: what `acme.caBundle` names. */
  readonly caBundlePath: string;
  private readonly dns: Service;
  private readonly configPath: string;
  private readonly dnsAddress: string;
  private server: Service | null = null;
  /** Output of every pebble run so far (a restart keeps the earlier output). */
  private earlier = '';
  readonly managementUrl: string;

  private constructor(fields: {
    directoryUrl: string;
    managementUrl: string;
    caBundlePath: string;
    dns: Service;
    configPath: string;
    dnsAddress: string;
  }) {
    this.directoryUrl = fields.directoryUrl;
    this.managementUrl = fields.managementUrl;
    this.caBundlePath = fields.caBundlePath;
    this.dns = fields.dns;
    this.configPath = fields.configPath;
    this.dnsAddress = fields.dnsAddress;
  }

  /** Prepares pebble and starts its DNS server; `start()` starts pebble itself. */
  static async create(options: PebbleOptions): Promise<Pebble> {
    const ca = await createCa(options.dir, { name: 'pebble-ca', cn: 'Pebble Test Listener CA' });
    const leaf = await issueCertificate(ca, {
      name: 'pebble',
      cn: 'localhost',
      dns: ['localhost'],
      ips: ['127.0.0.1'],
      usage: 'server',
    });
    const [port, management, dnsPort, dnsManagement] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    const configPath = writeFile(
      options.dir,
      'pebble-config.json',
      JSON.stringify({
        pebble: {
          listenAddress: `127.0.0.1:${port}`,
          managementListenAddress: `127.0.0.1:${management}`,
          certificate: leaf.fullchainPath,
          privateKey: leaf.keyPath,
          httpPort: options.httpPort,
          tlsPort: options.tlsPort,
          ocspResponderURL: '',
          externalAccountBindingRequired: false,
          ...(options.validitySeconds ? { certificateValidityPeriod: options.validitySeconds } : {}),
        },
      }),
    );
    const dnsAddress = `127.0.0.1:${dnsPort}`;
    const dns = new Service('pebble-challtestsrv', [
      '-defaultIPv4',
      '127.0.0.1',
      '-defaultIPv6',
      '',
      '-dns01',
      dnsAddress,
      '-http01',
      '',
      '-https01',
      '',
      '-tlsalpn01',
      '',
      '-management',
      `127.0.0.1:${dnsManagement}`,
    ]);
    await dns.waitFor('Starting challenge servers');
    return new Pebble({
      directoryUrl: `https://127.0.0.1:${port}/dir`,
      managementUrl: `https://127.0.0.1:${management}`,
      caBundlePath: ca.certPath,
      dns,
      configPath,
      dnsAddress,
    });
  }

  async start(): Promise<void> {
    if (this.server) this.earlier += this.server.output;
    this.server = new Service('pebble', ['-config', this.configPath, '-dnsserver', this.dnsAddress], {
      // Without the random 0-15 s sleep before each validation; validation itself stays real.
      PEBBLE_VA_NOSLEEP: '1',
      PEBBLE_VA_ALWAYS_VALID: '',
      // Every order is validated anew (pebble reuses a valid authorization half of the time).
      PEBBLE_AUTHZREUSE: '0',
    });
    await this.server.waitFor('ACME directory available');
  }

  async stopServer(): Promise<void> {
    await this.server?.stop();
  }

  /** Orders pebble has accepted since it was first started (its own `Added order` log lines). */
  orders(): number {
    return `${this.earlier}${this.server?.output ?? ''}`.split('Added order').length - 1;
  }

  /** Pebble's root certificate for the certificates it issues (a new one per pebble run). */
  async issuingRoot(): Promise<string> {
    const ca = await readFile(this.caBundlePath, 'utf8');
    return new Promise((resolve, reject) => {
      https
        .get(`${this.managementUrl}/roots/0`, { ca }, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (d: string) => {
            body += d;
          });
          res.on('end', () => resolve(body));
        })
        .on('error', reject);
    });
  }

  get log(): string {
    return `${this.earlier}${this.server?.output ?? ''}`;
  }

  async stop(): Promise<void> {
    await this.stopServer();
    await this.dns.stop();
  }
}
