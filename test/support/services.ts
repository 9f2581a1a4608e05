// Third-party programs that some end-to-end tests start for real (redis-server, pebble, chromium).
// They come from Debian packages that `.ci/run` installs. On a developer's machine without one, the
// tests that need it skip with a message that names the package; in CI (GATEHOUSE_REQUIRE_SERVICES=1)
// a missing program is a failure, so CI never skips.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The absolute path of `program` on PATH, or null. */
export function findProgram(program: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, program);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return null;
}

/**
 * For `describe(..., { skip: missingPackage(...) })`: false when every program is there, else the
 * skip message naming the Debian package. Throws instead when CI requires every service.
 */
export function missingPackage(debianPackage: string, ...programs: string[]): string | false {
  const missing = programs.filter((p) => findProgram(p) === null);
  if (missing.length === 0) return false;
  const message = `needs ${missing.join(', ')} from the Debian package "${debianPackage}" (apt-get install ${debianPackage})`;
  if (process.env.GATEHOUSE_REQUIRE_SERVICES === '1') throw new Error(`CI requires it: ${message}`);
  return message;
}
