// What the session-ticket key hook (dataplane tls/session-tickets.ts) costs a TLS server per full
// handshake. Two servers take turns, each in its own process, with the same certificate and key:
// one seals tickets with OpenSSL's own key handling (`ticketKeys`), the other through the hook that
// calls into JavaScript for every ticket. A TLS 1.3 full handshake seals two tickets. The server's
// own CPU time (process.cpuUsage) per handshake is reported per round, then the medians. First, the
// hook's own cost is taken apart from any handshake: its sealing answer called in a loop.
//
//   node bench/ticket-key-hook.ts [--handshakes 3000] [--rounds 6] [--concurrency 8]
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { createCa, issueCertificate } from '@gatehouse/pki';
import { serverDefaultContext, sessionTickets } from '../packages/dataplane/src/tls/session-tickets.ts';

type Variant = 'ticketKeys' | 'hook';

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
}

if (process.argv[2] === '--serve') serve(process.argv[3] as Variant, process.argv[4] ?? '', process.argv[5] ?? '');
else await main();

function serve(variant: Variant, certPath: string, keyPath: string): void {
  const keys = randomBytes(96);
  const server = tls.createServer(
    { cert: readFileSync(certPath), key: readFileSync(keyPath), ticketKeys: keys.subarray(0, 48) },
    (socket) => socket.end('ok'),
  );
  if (variant === 'hook') {
    sessionTickets.update(keys);
    const context = serverDefaultContext(server);
    if (context === null || !sessionTickets.install(context, true)) throw new Error('this Node has no ticket-key hook');
  }
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    process.send?.({ port: typeof address === 'object' && address ? address.port : 0 });
  });
  process.on('message', () => process.send?.({ cpu: process.cpuUsage() }));
}

function handshake(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false });
    socket.on('data', () => {});
    socket.on('end', () => {
      socket.destroy();
      resolve();
    });
    socket.on('error', reject);
  });
}

async function handshakes(port: number, count: number, concurrency: number): Promise<void> {
  let left = count;
  const loop = async () => {
    while (left-- > 0) await handshake(port);
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
}

/** One server of `variant`: warm-up, then the server's CPU µs per measured handshake. */
async function round(variant: Variant, certPath: string, keyPath: string, count: number, concurrency: number) {
  const child = fork(import.meta.filename, ['--serve', variant, certPath, keyPath]);
  const next = () => new Promise<Record<string, unknown>>((resolve) => child.once('message', resolve as never));
  const { port } = (await next()) as { port: number };
  await handshakes(port, Math.ceil(count / 10), concurrency);
  child.send('cpu');
  const before = (await next()).cpu as NodeJS.CpuUsage;
  await handshakes(port, count, concurrency);
  child.send('cpu');
  const after = (await next()).cpu as NodeJS.CpuUsage;
  child.kill();
  return (after.user + after.system - before.user - before.system) / count;
}

/** What OpenSSL's call into the hook runs in JavaScript to seal one ticket (the transition excluded). */
function sealCostUs(): number {
  const context = tls.createSecureContext({});
  sessionTickets.update(randomBytes(96));
  if (!sessionTickets.install(context, true)) throw new Error('this Node has no ticket-key hook');
  const native = (context as unknown as { context: { onticketkeycallback: (...args: unknown[]) => unknown } }).context;
  const name = Buffer.alloc(16);
  const runs: number[] = [];
  for (let r = 0; r < 3; r++) {
    const start = process.cpuUsage();
    for (let i = 0; i < 200_000; i++) native.onticketkeycallback(name, name, true);
    const spent = process.cpuUsage(start);
    runs.push((spent.user + spent.system) / 200_000);
  }
  return median(runs);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

async function main(): Promise<void> {
  const count = option('handshakes', 3_000);
  const rounds = option('rounds', 6);
  const concurrency = option('concurrency', 8);
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-ticket-hook-'));
  try {
    const ca = await createCa(dir, { name: 'root' });
    const leaf = await issueCertificate(ca, { name: 'server', cn: 'localhost', dns: ['localhost'], usage: 'server' });
    console.log(
      `the hook's sealing answer alone: ${sealCostUs().toFixed(2)} µs per ticket (median of 3 × 200,000 calls)`,
    );
    const results: Record<Variant, number[]> = { ticketKeys: [], hook: [] };
    for (let i = 0; i < rounds; i++) {
      // Alternate which goes first, so that a slow patch of the machine does not favour one.
      const order: Variant[] = i % 2 === 0 ? ['ticketKeys', 'hook'] : ['hook', 'ticketKeys'];
      for (const variant of order)
        results[variant].push(await round(variant, leaf.certPath, leaf.keyPath, count, concurrency));
      console.log(
        `round ${i + 1}: ticketKeys ${results.ticketKeys.at(-1)?.toFixed(0)} µs, hook ${results.hook.at(-1)?.toFixed(0)} µs`,
      );
    }
    const a = median(results.ticketKeys);
    const b = median(results.hook);
    console.log(
      `median server CPU per full handshake: ticketKeys ${a.toFixed(0)} µs, hook ${b.toFixed(0)} µs (${(((b - a) / a) * 100).toFixed(1)} %)`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
