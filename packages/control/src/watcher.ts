// Watches the config file and every material file it references, and reports which of them really
// changed. Operators replace files in many ways (in-place writes, write-then-rename, delete and
// re-create, certbot's `live/` symlinks, Kubernetes' `..data` symlink swap), and each produces a
// different burst of filesystem events, some of them on the parent directory only. So an event is
// only a hint: after a quiet period (debounce) every file is re-hashed, and only files whose bytes
// differ from what was last reported are passed to `onChange`. A slow poll re-hashes too, for the
// events a watcher can miss (network filesystems, a directory replaced as a whole).
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, realpathSync } from 'node:fs';
import { readdir, realpath } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { type FSWatcher, watch } from 'chokidar';
import { type FileRead, readRegularFile } from '@gatehouse/pki';
import type { Logger } from 'pino';

export interface MaterialWatcherOptions {
  debounceMs: number;
  pollIntervalMs: number;
  logger: Logger;
  /**
   * `read`: every watched file read by this look (path to bytes and mode), so that the reload
   * reads none of them again.
   */
  onChange: (paths: string[], read: ReadonlyMap<string, FileRead>) => void;
}

/** The hash recorded for a file that does not exist (or cannot be read) right now. */
const ABSENT = 'absent';

export function hashBytes(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A watched folder (an extra config folder) changes when an entry is added, removed or renamed. */
function folderHash(names: string[]): string {
  return `folder ${hashBytes(Buffer.from([...names].sort().join('\n')))}`;
}

function hashFileSync(path: string): string {
  try {
    return hashBytes(readFileSync(path));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EISDIR') {
      try {
        return folderHash(readdirSync(path));
      } catch {
        return ABSENT;
      }
    }
    return ABSENT;
  }
}

/** The file's hash, and what was read (null for a folder or a file that cannot be read). */
async function hashFile(path: string): Promise<{ hash: string; read: FileRead | null }> {
  try {
    const read = await readRegularFile(path);
    return { hash: hashBytes(read.bytes), read };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EISDIR') {
      try {
        return { hash: folderHash(await readdir(path)), read: null };
      } catch {
        return { hash: ABSENT, read: null };
      }
    }
    return { hash: ABSENT, read: null };
  }
}

function realDirSync(path: string): string | null {
  try {
    return dirname(realpathSync(path));
  } catch {
    return null;
  }
}

async function realDir(path: string): Promise<string | null> {
  try {
    return dirname(await realpath(path));
  } catch {
    return null;
  }
}

const MAX_WAIT_PERIODS = 5;

export class MaterialWatcher {
  readonly #opts: MaterialWatcherOptions;
  /** Last reported content hash per watched file (following symlinks). */
  #hashes = new Map<string, string>();
  /** Directories (and files) currently handed to chokidar. */
  #watched = new Set<string>();
  #fsWatcher: FSWatcher | null = null;
  #debounceTimer: NodeJS.Timeout | null = null;
  /** When the first event of the pending debounce arrived. */
  #pendingSince = 0;
  #pollTimer: NodeJS.Timeout | null = null;
  #checking = false;
  #checkAgain = false;
  #closed = false;
  #ready: Promise<void> = Promise.resolve();

  constructor(opts: MaterialWatcherOptions) {
    this.#opts = opts;
    if (opts.pollIntervalMs > 0) {
      this.#pollTimer = setInterval(() => this.#check('poll'), opts.pollIntervalMs);
      this.#pollTimer.unref();
    }
  }

  /**
   * Replaces the set of watched files. Files already watched keep their last hash (so a change that
   * happened while a reload was running is still reported); new files are hashed now as a baseline,
   * from `read` (what the reload read) where it has them.
   */
  setFiles(paths: string[], read: ReadonlyMap<string, FileRead> = new Map()): void {
    if (this.#closed) return;
    const files = [...new Set(paths.map((p) => resolve(p)))];
    const next = new Map<string, string>();
    for (const file of files) {
      // A file the reload has just read: its baseline is those bytes (a change since then is seen).
      const known = read.get(file);
      next.set(file, this.#hashes.get(file) ?? (known ? hashBytes(known.bytes) : hashFileSync(file)));
    }
    this.#hashes = next;

    const targets = new Set<string>();
    for (const file of files) {
      targets.add(file);
      targets.add(dirname(file));
      const real = realDirSync(file);
      if (real) targets.add(real);
    }
    this.#retarget(targets);
  }

  /** Files currently watched, for logs and tests. */
  files(): string[] {
    return [...this.#hashes.keys()];
  }

  /** Resolves once the first set of watches is in place (events before that can be missed). */
  ready(): Promise<void> {
    return this.#ready;
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#debounceTimer) clearTimeout(this.#debounceTimer);
    if (this.#pollTimer) clearInterval(this.#pollTimer);
    this.#debounceTimer = null;
    this.#pollTimer = null;
    const fsWatcher = this.#fsWatcher;
    this.#fsWatcher = null;
    if (fsWatcher) await fsWatcher.close();
  }

  #retarget(targets: Set<string>): void {
    const added = [...targets].filter((t) => !this.#watched.has(t));
    const removed = [...this.#watched].filter((t) => !targets.has(t));
    this.#watched = targets;
    if (!this.#fsWatcher) {
      if (targets.size === 0) return;
      // depth 0: a parent directory is watched for its direct entries only (the file itself, a
      // renamed-over temp file, a `..data` symlink), never recursively.
      // followSymlinks false: the link entries themselves are what a symlink swap changes.
      this.#fsWatcher = watch([...targets], {
        ignoreInitial: true,
        depth: 0,
        followSymlinks: false,
        atomic: false,
        persistent: false,
        ignorePermissionErrors: true,
      });
      const fsWatcher = this.#fsWatcher;
      this.#ready = new Promise((resolveReady) =>
        fsWatcher.once('ready', () => {
          // A change between setFiles (the baseline) and now produced no event: look once.
          this.#schedule();
          resolveReady();
        }),
      );
      this.#fsWatcher.on('all', (event, path) => this.#onEvent(event, path));
      this.#fsWatcher.on('error', (error) => {
        this.#opts.logger.warn({ err: error }, 'file watcher error; the poll fallback still runs');
      });
      return;
    }
    if (removed.length > 0) this.#fsWatcher.unwatch(removed);
    if (added.length > 0) {
      this.#fsWatcher.add(added);
      // add() has no ready event of its own; look again once its watches are likely in place.
      this.#schedule();
    }
  }

  #onEvent(event: string, path: string): void {
    this.#opts.logger.trace({ event, path }, 'file event');
    this.#schedule();
  }

  #schedule(): void {
    if (this.#closed) return;
    const now = Date.now();
    if (this.#debounceTimer) clearTimeout(this.#debounceTimer);
    else this.#pendingSince = now;
    // Events for neighbours (a busy log beside the config) restart the quiet period, and cannot be
    // told apart from a `..data` swap by name alone; so a check waits at most MAX_WAIT_PERIODS
    // debounce periods after the first event, however busy the directory is.
    const latest = this.#pendingSince + this.#opts.debounceMs * MAX_WAIT_PERIODS;
    const delay = Math.max(0, Math.min(this.#opts.debounceMs, latest - now));
    this.#debounceTimer = setTimeout(() => {
      this.#debounceTimer = null;
      this.#check('event');
    }, delay);
  }

  /** Re-hashes every file; reports those whose bytes differ from the last report. */
  #check(cause: 'event' | 'poll'): void {
    if (this.#closed) return;
    if (this.#checking) {
      this.#checkAgain = true;
      return;
    }
    this.#checking = true;
    this.#rehash(cause)
      .catch((error: unknown) => this.#opts.logger.error({ err: error }, 'file watcher check failed'))
      .finally(() => {
        this.#checking = false;
        if (this.#checkAgain) {
          this.#checkAgain = false;
          this.#schedule();
        }
      });
  }

  async #rehash(cause: 'event' | 'poll'): Promise<void> {
    const files = [...this.#hashes.keys()];
    const looks = await Promise.all(files.map((f) => hashFile(f)));
    if (this.#closed) return;
    const changed: string[] = [];
    const read = new Map<string, FileRead>();
    files.forEach((file, i) => {
      const look = looks[i];
      if (look?.read) read.set(file, look.read);
      const hash = look?.hash ?? ABSENT;
      // setFiles may have replaced the list meanwhile; only report files still watched.
      const last = this.#hashes.get(file);
      if (last === undefined || last === hash) return;
      this.#hashes.set(file, hash);
      changed.push(file);
    });

    // A symlink swap may have moved a file's real directory (`..data` -> `..2026_y`): follow it.
    const targets = new Set<string>();
    for (const file of this.#hashes.keys()) {
      targets.add(file);
      targets.add(dirname(file));
      const real = await realDir(file);
      if (real) targets.add(real);
    }
    if (this.#closed) return;
    this.#retarget(targets);

    if (changed.length === 0) return;
    this.#opts.logger.debug({ files: changed, cause }, 'watched files changed');
    if (cause === 'poll') this.#opts.logger.info({ files: changed }, 'poll found a change the watcher missed');
    this.#opts.onChange(changed, read);
  }
}
