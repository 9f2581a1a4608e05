// Reading a file the config names (certificate material, error pages; the primary's watcher too),
// and why a read failed in an operator's words: one wording for every file the gateway reads, so
// the same errno reads the same whatever named the file.
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { NotAFileError } from './errors.ts';

/** One file as read: its bytes and its mode (a private key's mode is checked). */
export interface FileRead {
  bytes: Buffer;
  mode: number;
}

/**
 * Reads one file. The primary passes its own (the bytes the watcher already read, each other file
 * read once per reload); alone, pki reads with readRegularFile.
 */
export type FileReader = (path: string) => Promise<FileRead>;

/** No config or material file comes near this; a bigger one is never pulled into memory. */
const FILE_MAX_BYTES = 64 * 1024 * 1024;

/**
 * Reads a regular file; a FIFO or device would block or never end, so it is refused
 * (NotAFileError), as is a directory (EISDIR). A caller with a tighter size limit checks it itself.
 */
export async function readRegularFile(path: string): Promise<FileRead> {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const info = await handle.stat();
    if (info.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    if (!info.isFile()) throw new NotAFileError('GH_NOT_REGULAR', 'is not a regular file');
    if (info.size > FILE_MAX_BYTES) {
      throw new NotAFileError('GH_TOO_LARGE', `is ${info.size} bytes, far more than any config or material file`);
    }
    return { bytes: await handle.readFile(), mode: info.mode };
  } finally {
    await handle.close();
  }
}

export interface ReadFailure {
  /**
   * missing: nothing at the path (check the path); denied: this process may not read it (fix the
   * owner or mode); notAFile: a directory, FIFO, device or oversized file (name another one).
   */
  kind: 'missing' | 'denied' | 'notAFile' | 'other';
  /** The words that follow `cannot read PATH: `. */
  why: string;
}

/** Why reading a file failed, from what fs (or readRegularFile) threw. */
export function readFailure(error: unknown): ReadFailure {
  if (error instanceof NotAFileError) return { kind: 'notAFile', why: error.message };
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return { kind: 'missing', why: 'no such file' };
    case 'EACCES':
    case 'EPERM':
      return { kind: 'denied', why: `permission denied (${code})` };
    case 'EISDIR':
      return { kind: 'notAFile', why: 'is a directory' };
    default:
      return { kind: 'other', why: (error as Error).message };
  }
}
