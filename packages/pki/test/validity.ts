// Validity windows for the certificates the tests issue to be out of date.

export const DAY = 86_400_000;

/** Ended yesterday, after ten days of validity. */
export function expiredWindow(now = Date.now()): { notBefore: Date; notAfter: Date } {
  return { notBefore: new Date(now - 10 * DAY), notAfter: new Date(now - DAY) };
}
