// One wording for a file that cannot be read, whatever named it (material, key files, error pages,
// the config itself).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readFailure, readRegularFile } from '../src/regular-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-read-failure-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** What `read(path)` rejects with. */
async function failureOf(read: (path: string) => Promise<unknown>, path: string): Promise<unknown> {
  try {
    await read(path);
  } catch (error) {
    return error;
  }
  assert.fail(`${path} was read`);
}

describe('readFailure', () => {
  it('says the same for a missing file whether fs or readRegularFile read it', async () => {
    const missing = join(dir, 'nope.pem');
    const expected = { kind: 'missing', why: 'no such file' };
    assert.deepEqual(readFailure(await failureOf(readRegularFile, missing)), expected);
    assert.deepEqual(readFailure(await failureOf(readFile, missing)), expected);
    assert.deepEqual(readFailure(await failureOf(readFile, join(missing, 'below'))), expected, 'ENOTDIR');
  });

  it('names a directory, a FIFO and a device as no file to read', async () => {
    assert.deepEqual(readFailure(await failureOf(readRegularFile, dir)), { kind: 'notAFile', why: 'is a directory' });
    assert.deepEqual(readFailure(await failureOf(readFile, dir)), { kind: 'notAFile', why: 'is a directory' });
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const notRegular = { kind: 'notAFile', why: 'is not a regular file' };
    assert.deepEqual(readFailure(await failureOf(readRegularFile, fifo)), notRegular);
    assert.deepEqual(readFailure(await failureOf(readRegularFile, '/dev/null')), notRegular);
  });

  it('keeps the errno of a refused read, and the message of anything else', () => {
    // Root reads any file, so these are the errors fs gives a user without access.
    const errno = (code: string) => Object.assign(new Error(`${code} from the read`), { code });
    assert.deepEqual(readFailure(errno('EACCES')), { kind: 'denied', why: 'permission denied (EACCES)' });
    assert.deepEqual(readFailure(errno('EPERM')), { kind: 'denied', why: 'permission denied (EPERM)' });
    assert.deepEqual(readFailure(errno('EIO')), { kind: 'other', why: 'EIO from the read' });
  });
});
