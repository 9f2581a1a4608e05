// The rotation scenario's operator: replaces the gateway's serving certificate every N ms the way a
// careful script does, by writing a temporary file next to the target and renaming it over it (key
// first, then certificate), while the load runs.
import { copyFileSync, renameSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:tls';
import type { LeafHandle } from '@gatehouse/pki';

export interface RotationStats {
  rotations: number;
  failedRenames: number;
  /** Config generation reported by the admin /status before and after (null when unavailable). */
  generationBefore: number | null;
  generationAfter: number | null;
  /** The last certificate written is the one a new handshake gets, within this long after the load (null: never seen). */
  lastVisibleAfterMs: number | null;
}

export class CertificateRotator {
  private readonly certPath: string;
  private readonly keyPath: string;
  private readonly pairs: LeafHandle[];
  private timer: NodeJS.Timeout | null = null;
  rotations = 0;
  failedRenames = 0;
  lastSerial: string | null = null;

  constructor(certPath: string, keyPath: string, pairs: LeafHandle[]) {
    this.certPath = certPath;
    this.keyPath = keyPath;
    this.pairs = pairs;
  }

  start(everyMs: number): void {
    this.timer = setInterval(() => this.rotateOnce(), everyMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private rotateOnce(): void {
    const pair = this.pairs[this.rotations % this.pairs.length] as LeafHandle;
    try {
      copyFileSync(pair.keyPath, `${this.keyPath}.tmp`);
      copyFileSync(pair.certPath, `${this.certPath}.tmp`);
      renameSync(`${this.keyPath}.tmp`, this.keyPath);
      renameSync(`${this.certPath}.tmp`, this.certPath);
      this.rotations++;
      this.lastSerial = pair.serial;
    } catch {
      this.failedRenames++;
    }
  }
}

/** Serial number of the certificate a new TLS handshake to `port` receives. */
export function servedSerial(port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false }, () => {
      const serial = socket.getPeerCertificate().serialNumber ?? null;
      socket.destroy();
      resolve(serial ? serial.toUpperCase() : null);
    });
    socket.setTimeout(3000, () => {
      socket.destroy();
      resolve(null);
    });
    socket.on('error', () => resolve(null));
  });
}

/** The config generation from the admin listener's /status, or null when it is not there. */
export function adminGeneration(adminPort: number): Promise<number | null> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port: adminPort, path: '/status', timeout: 3000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => {
        try {
          const generation = (JSON.parse(body) as { generation?: unknown }).generation;
          resolve(typeof generation === 'number' ? generation : null);
        } catch {
          resolve(null);
        }
      });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
    req.end();
  });
}
