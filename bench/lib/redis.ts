// A real redis-server on a free loopback port, for the tests of the shared rate limit, in plain TCP
// or TLS only. No config file, no persistence: it lives and dies with the test.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { freePort } from './processes.ts';

export interface RedisServer {
  readonly port: number;
  readonly child: ChildProcess;
  /** SIGKILL, as a crash would. */
  kill(): Promise<void>;
  /** Starts it again on the same port (empty). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** TLS only (no plain port): the server's certificate and key, and the CA its clients must chain to. */
export interface RedisTlsFiles {
  certFile: string;
  keyFile: string;
  /** Clients must present a certificate that chains to it (`--tls-auth-clients yes`). */
  clientCaFile: string;
}

function listenArgs(port: number, tls: RedisTlsFiles | null): string[] {
  if (tls === null) return ['--port', String(port)];
  return [
    '--port',
    '0',
    '--tls-port',
    String(port),
    '--tls-cert-file',
    tls.certFile,
    '--tls-key-file',
    tls.keyFile,
    '--tls-ca-cert-file',
    tls.clientCaFile,
    '--tls-auth-clients',
    'yes',
  ];
}

async function launch(port: number, tls: RedisTlsFiles | null): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    [...listenArgs(port, tls), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start on ${port}: ${out}`)), 10_000);
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited (${code}): ${out}`));
    });
  });
  child.stdout?.resume();
  child.stderr?.resume();
  return child;
}

export async function startRedis(tls: RedisTlsFiles | null = null): Promise<RedisServer> {
  const port = await freePort();
  let child = await launch(port, tls);
  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    await exited;
  };
  return {
    port,
    get child() {
      return child;
    },
    kill: () => end('SIGKILL'),
    restart: async () => {
      await end('SIGKILL');
      child = await launch(port, tls);
    },
    stop: () => end('SIGTERM'),
  };
}
