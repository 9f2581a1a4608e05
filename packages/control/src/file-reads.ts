// The files of one reload, each read once. The watcher has just read every watched file to see what
// changed; those bytes are handed over, so the config parse, the content hash and the material
// checks all see the same bytes the watcher saw, and a file the watcher did not read (a new one) is
// read here once for all three.
import { resolve } from 'node:path';
import { type FileRead, type FileReader, readRegularFile } from '@gatehouse/pki';

export class FileReads {
  readonly #reads = new Map<string, Promise<FileRead>>();
  readonly #done = new Map<string, FileRead>();
  readonly #read: FileReader;

  /** `handed`: what the watcher read (path to bytes and mode); `read`: for every other file. */
  constructor(handed: ReadonlyMap<string, FileRead> = new Map(), read: FileReader = readRegularFile) {
    this.#read = read;
    for (const [path, file] of handed) {
      this.#reads.set(resolve(path), Promise.resolve(file));
      this.#done.set(resolve(path), file);
    }
  }

  /** The file's bytes and mode, read at most once; a failed read fails the same way each time. */
  read(path: string): Promise<FileRead> {
    // Keyed by absolute path, as the watcher keys its files (a relative config path included).
    const key = resolve(path);
    let found = this.#reads.get(key);
    if (!found) {
      found = this.#read(path);
      found.then(
        (file) => this.#done.set(key, file),
        () => {},
      );
      this.#reads.set(key, found);
    }
    return found;
  }

  /** Every file read so far (for the watcher's baseline of a newly watched file). */
  done(): ReadonlyMap<string, FileRead> {
    return this.#done;
  }

  readonly reader: FileReader = (path) => this.read(path);
  readonly textReader = async (path: string): Promise<string> => (await this.read(path)).bytes.toString('utf8');
}
