// The files of one reload, each read once. The watcher has just read every watched file to see what
// changed; those bytes are handed over, so the config parse, the content hash and the material
// checks all see the same bytes the watcher saw, and a file the watcher did not read (a new one) is
// read here once for all three.
import { type FileRead, type FileReader, readRegularFile } from '@gatehouse/pki';

export class FileReads {
  readonly #reads = new Map<string, Promise<FileRead>>();
  readonly #read: FileReader;

  /** `handed`: what the watcher read (path to bytes and mode); `read`: for every other file. */
  constructor(handed: ReadonlyMap<string, FileRead> = new Map(), read: FileReader = readRegularFile) {
    this.#read = read;
    for (const [path, file] of handed) this.#reads.set(path, Promise.resolve(file));
  }

  /** The file's bytes and mode, read at most once; a failed read fails the same way each time. */
  read(path: string): Promise<FileRead> {
    let found = this.#reads.get(path);
    if (!found) {
      found = this.#read(path);
      this.#reads.set(path, found);
    }
    return found;
  }

  readonly reader: FileReader = (path) => this.read(path);
  readonly textReader = async (path: string): Promise<string> => (await this.read(path)).bytes.toString('utf8');
}
