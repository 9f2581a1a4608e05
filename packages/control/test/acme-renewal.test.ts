// When an ACME certificate is renewed and how long a failed order waits.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DAY_MS,
  parseRetryAfter,
  RETRY_BASE_MS,
  RETRY_MAX_MS,
  renewalTime,
  retryDelayMs,
} from '../src/acme/renewal.ts';

describe('renewalTime', () => {
  it('renews a 90-day certificate 30 days before expiry', () => {
    assert.equal(renewalTime(0, 90 * DAY_MS), 60 * DAY_MS);
  });
  it('renews a one-year certificate 30 days before expiry', () => {
    assert.equal(renewalTime(0, 365 * DAY_MS), 335 * DAY_MS);
  });
  it('renews a short-lived certificate when a third of its lifetime is left', () => {
    assert.equal(renewalTime(0, 6 * DAY_MS), 4 * DAY_MS);
    assert.equal(renewalTime(1_000, 31_000), 21_000);
  });
});

describe('retryDelayMs', () => {
  it('doubles from the base up to the maximum', () => {
    assert.deepEqual(
      [1, 2, 3].map((n) => retryDelayMs(n, null)),
      [RETRY_BASE_MS, 2 * RETRY_BASE_MS, 4 * RETRY_BASE_MS],
    );
    assert.equal(retryDelayMs(40, null), RETRY_MAX_MS);
  });
  it("waits at least the server's Retry-After", () => {
    assert.equal(retryDelayMs(1, 3_600_000), 3_600_000);
    assert.equal(retryDelayMs(3, 1_000), 4 * RETRY_BASE_MS);
  });
  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('120', now), 120_000);
    assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:01:00 GMT', now), 60_000);
    assert.equal(parseRetryAfter(undefined, now), null);
    assert.equal(parseRetryAfter('soon', now), null);
  });
});
