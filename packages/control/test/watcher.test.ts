import assert from 'node:assert/strict';
import {
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { MaterialWatcher } from '../src/watcher.ts';

const logger = pino({ level: 'silent' });
const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-watcher-'));
  dirs.push(dir);
  return dir;
}

/** A real watcher plus a queue of the change batches it reported. */
class Recorder {
  readonly batches: string[][] = [];
  /** What each reported look read, path to text. */
  readonly reads: Array<Record<string, string>> = [];
  readonly watcher: MaterialWatcher;
  #waiter: (() => void) | null = null;

  constructor(opts: { debounceMs?: number; pollIntervalMs?: number } = {}) {
    this.watcher = new MaterialWatcher({
      debounceMs: opts.debounceMs ?? 50,
      pollIntervalMs: opts.pollIntervalMs ?? 0,
      logger,
      onChange: (paths, read) => {
        this.reads.push(Object.fromEntries([...read].map(([path, file]) => [path, file.bytes.toString('utf8')])));
        this.batches.push(paths);
        this.#waiter?.();
      },
    });
  }

  /** Waits for the next batch after `count` batches were seen. */
  async next(count: number, timeoutMs = 5000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.batches.length <= count) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no change reported within ${timeoutMs} ms (seen ${this.batches.length})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#waiter = null;
    }
    return this.batches[count]!;
  }

  /** Asserts that nothing is reported for `ms`. */
  async quiet(ms: number): Promise<void> {
    const before = this.batches.length;
    await sleep(ms);
    assert.deepEqual(this.batches.slice(before), [], 'expected no change to be reported');
  }
}

describe('MaterialWatcher', () => {
  it('reports an in-place write, and nothing for a touch without change', async () => {
    const dir = tempDir();
    const cert = join(dir, 'tls.crt');
    const key = join(dir, 'tls.key');
    writeFileSync(cert, 'cert v1');
    writeFileSync(key, 'key v1');
    const rec = new Recorder();
    rec.watcher.setFiles([cert, key]);
    await rec.watcher.ready();
    try {
      writeFileSync(cert, 'cert v2');
      assert.deepEqual(await rec.next(0), [cert]);
      // The reload is handed every watched file as the watcher read it, and reads none again.
      assert.deepEqual(rec.reads[0], { [cert]: 'cert v2', [key]: 'key v1' });

      // Same bytes written again and a new mtime: events fire, hashes match, nothing reported.
      writeFileSync(cert, 'cert v2');
      const later = new Date(Date.now() + 5000);
      utimesSync(key, later, later);
      await rec.quiet(400);

      writeFileSync(key, 'key v2');
      writeFileSync(cert, 'cert v3');
      assert.deepEqual((await rec.next(1)).sort(), [cert, key].sort());
    } finally {
      await rec.watcher.close();
    }
  });

  it('takes a new file baseline from what the reload read: a change after that read is reported', async () => {
    const dir = tempDir();
    const cert = join(dir, 'tls.crt');
    writeFileSync(cert, 'cert v2');
    const rec = new Recorder();
    // The reload read v1; the file moved on before the watcher took it over.
    rec.watcher.setFiles([cert], new Map([[cert, { bytes: Buffer.from('cert v1'), mode: 0o644 }]]));
    await rec.watcher.ready();
    try {
      assert.deepEqual(await rec.next(0), [cert]);
      assert.deepEqual(rec.reads[0], { [cert]: 'cert v2' });
    } finally {
      await rec.watcher.close();
    }
  });

  it('reports an atomic rename over the file', async () => {
    const dir = tempDir();
    const cert = join(dir, 'tls.crt');
    writeFileSync(cert, 'cert v1');
    const rec = new Recorder();
    rec.watcher.setFiles([cert]);
    await rec.watcher.ready();
    try {
      for (let i = 2; i <= 4; i++) {
        const tmp = join(dir, `.tls.crt.${i}.tmp`);
        writeFileSync(tmp, `cert v${i}`);
        renameSync(tmp, cert);
        assert.deepEqual(await rec.next(i - 2), [cert]);
      }
      // Renaming identical bytes over the file changes the inode, not the content.
      const tmp = join(dir, '.tls.crt.same.tmp');
      writeFileSync(tmp, 'cert v4');
      renameSync(tmp, cert);
      await rec.quiet(400);
    } finally {
      await rec.watcher.close();
    }
  });

  it('reports a Kubernetes-style ..data symlink swap', async () => {
    const dir = tempDir();
    const writeVersion = (name: string, text: string) => {
      mkdirSync(join(dir, name));
      writeFileSync(join(dir, name, 'tls.crt'), `cert ${text}`);
      writeFileSync(join(dir, name, 'tls.key'), `key ${text}`);
    };
    writeVersion('..2026_01', 'v1');
    symlinkSync('..2026_01', join(dir, '..data'));
    symlinkSync('..data/tls.crt', join(dir, 'tls.crt'));
    symlinkSync('..data/tls.key', join(dir, 'tls.key'));
    const cert = join(dir, 'tls.crt');
    const key = join(dir, 'tls.key');
    const rec = new Recorder();
    rec.watcher.setFiles([cert, key]);
    await rec.watcher.ready();
    try {
      for (let i = 2; i <= 4; i++) {
        const version = `..2026_0${i}`;
        writeVersion(version, `v${i}`);
        symlinkSync(version, join(dir, '..data_tmp'));
        renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
        assert.deepEqual((await rec.next(i - 2)).sort(), [cert, key].sort());
        rmSync(join(dir, `..2026_0${i - 1}`), { recursive: true });
      }
      // A swap to a new directory with the same bytes reports nothing.
      writeVersion('..2026_05', 'v4');
      symlinkSync('..2026_05', join(dir, '..data_tmp'));
      renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
      await rec.quiet(400);
    } finally {
      await rec.watcher.close();
    }
  });

  it('reports a delete followed by a re-create', async () => {
    const dir = tempDir();
    const crl = join(dir, 'ca.crl');
    writeFileSync(crl, 'crl v1');
    const rec = new Recorder();
    rec.watcher.setFiles([crl]);
    await rec.watcher.ready();
    try {
      unlinkSync(crl);
      // The deletion itself is a change (the reload will then fail and keep the old generation).
      assert.deepEqual(await rec.next(0), [crl]);
      writeFileSync(crl, 'crl v2');
      assert.deepEqual(await rec.next(1), [crl]);
      // Deleted and re-created with the same bytes inside the debounce window: no change.
      unlinkSync(crl);
      writeFileSync(crl, 'crl v2');
      await rec.quiet(400);
    } finally {
      await rec.watcher.close();
    }
  });

  it('debounces a burst of writes into one report', async () => {
    const dir = tempDir();
    const config = join(dir, 'gatehouse.yaml');
    writeFileSync(config, 'v0');
    const rec = new Recorder({ debounceMs: 150 });
    rec.watcher.setFiles([config]);
    await rec.watcher.ready();
    try {
      for (let i = 1; i <= 5; i++) {
        writeFileSync(config, `v${i}`);
        await sleep(20);
      }
      assert.deepEqual(await rec.next(0), [config]);
      await rec.quiet(400);
      assert.equal(rec.batches.length, 1);
    } finally {
      await rec.watcher.close();
    }
  });

  it('a busy neighbour file cannot postpone a report past five debounce periods', async () => {
    const dir = tempDir();
    const config = join(dir, 'gatehouse.yaml');
    const log = join(dir, 'access.log');
    writeFileSync(config, 'v0');
    const rec = new Recorder({ debounceMs: 200 });
    rec.watcher.setFiles([config]);
    await rec.watcher.ready();
    try {
      writeFileSync(config, 'v1');
      // The log is written every 40 ms for 3 s (bounded: 75 writes), far past 5 x 200 ms.
      let reportedWhileBusy = false;
      for (let i = 0; i < 75; i++) {
        writeFileSync(log, `line ${i}\n`, { flag: 'a' });
        await sleep(40);
        if (rec.batches.length > 0) {
          reportedWhileBusy = true;
          break;
        }
      }
      assert.ok(reportedWhileBusy, 'the change was reported while the neighbour kept writing');
      assert.deepEqual(rec.batches[0], [config]);
    } finally {
      await rec.watcher.close();
    }
  });

  it('the poll catches a change before the (here very slow) event path does', async () => {
    const dir = tempDir();
    const cert = join(dir, 'tls.crt');
    writeFileSync(cert, 'cert v1');
    // A one-minute debounce means only the 100 ms poll can report within the test's timeout.
    const rec = new Recorder({ debounceMs: 60_000, pollIntervalMs: 100 });
    rec.watcher.setFiles([cert]);
    await rec.watcher.ready();
    try {
      writeFileSync(cert, 'cert v2');
      assert.deepEqual(await rec.next(0, 3000), [cert]);
    } finally {
      await rec.watcher.close();
    }
  });

  it('reports a change made before the watches were in place (start-up window)', async () => {
    const dir = tempDir();
    const cert = join(dir, 'tls.crt');
    writeFileSync(cert, 'cert v1');
    const rec = new Recorder(); // no poll: only the watcher's own look at ready can see this
    rec.watcher.setFiles([cert]);
    writeFileSync(cert, 'cert v2');
    try {
      assert.deepEqual(await rec.next(0), [cert]);
    } finally {
      await rec.watcher.close();
    }
  });

  it('setFiles follows a new file list: new files are watched, dropped ones are not', async () => {
    const dir = tempDir();
    const other = tempDir();
    const a = join(dir, 'a.pem');
    const b = join(other, 'b.pem');
    writeFileSync(a, 'a1');
    writeFileSync(b, 'b1');
    const rec = new Recorder();
    rec.watcher.setFiles([a]);
    await rec.watcher.ready();
    try {
      rec.watcher.setFiles([b]);
      assert.deepEqual(rec.watcher.files(), [b]);
      await sleep(200); // chokidar's add() of the new directory has no ready event of its own
      writeFileSync(a, 'a2');
      await rec.quiet(300);
      writeFileSync(b, 'b2');
      assert.deepEqual(await rec.next(0), [b]);
    } finally {
      await rec.watcher.close();
    }
  });
});
