import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { DAY_MS, expiringWithin, startExpiryWarnings } from '../src/expiry.ts';
import type { CertificateStatus } from '../src/gateway-api.ts';

const NOW = Date.parse('2026-11-27T12:00:00Z');

function cert(name: string, daysFromNow: number, over: Partial<CertificateStatus> = {}): CertificateStatus {
  return {
    role: 'server',
    names: [name],
    subject: `CN=${name}`,
    serial: name.toUpperCase().replace(/[^A-Z0-9]/g, ''),
    fingerprint256: 'AA',
    issuer: 'CN=Test CA',
    sourceKind: 'file',
    notAfter: new Date(NOW + daysFromNow * DAY_MS).toISOString(),
    daysLeft: daysFromNow,
    source: `/certs/${name}.crt`,
    ...over,
  };
}

function capture(): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const text of String(chunk).split('\n')) if (text) lines.push(JSON.parse(text));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

describe('expiringWithin', () => {
  it('keeps certificates at or inside the window, expired ones included', () => {
    const list = [
      cert('far.test', 90),
      cert('edge.test', 14),
      cert('soon.test', 3.5),
      cert('gone.test', -2),
      cert('ca', 10, { role: 'client-ca', names: [], subject: 'CN=Client CA' }),
      cert('bad.test', 1, { notAfter: 'not a date' }),
    ];
    assert.deepEqual(
      expiringWithin(list, 14, NOW).map((c) => [c.name, c.role, c.daysLeft]),
      [
        ['edge.test', 'server', 14],
        ['soon.test', 'server', 3],
        ['gone.test', 'server', -2],
        ['CN=Client CA', 'client-ca', 10],
      ],
    );
    assert.deepEqual(
      expiringWithin(list, 0, NOW).map((c) => c.name),
      ['gone.test'],
    );
  });
});

describe('startExpiryWarnings', () => {
  it('warns once per expiring certificate at start, then again on each interval with the current list', async () => {
    const { logger, lines } = capture();
    let list = [cert('soon.test', 5), cert('far.test', 200)];
    const warnings = startExpiryWarnings({
      logger,
      getCertificates: () => list,
      days: 14,
      intervalMs: 100,
      now: () => NOW,
    });
    try {
      await sleep(10);
      assert.equal(lines.length, 1);
      assert.equal(lines[0]!.msg, 'certificate expires soon');
      assert.equal(lines[0]!.level, 40);
      assert.equal(lines[0]!.name, 'soon.test');
      assert.equal(lines[0]!.serial, 'SOONTEST');
      assert.equal(lines[0]!.daysLeft, 5);
      assert.equal(lines[0]!.notAfter, list[0]!.notAfter);

      // The next check (a day in production) warns again.
      for (let waited = 0; lines.length < 2 && waited < 5000; waited += 20) await sleep(20);
      assert.equal(lines[1]?.name, 'soon.test');

      // A reload brought a certificate close to expiry: an explicit check warns at once.
      const before = lines.length;
      list = [cert('soon.test', 5), cert('reloaded.test', 2)];
      warnings.check();
      assert.deepEqual(
        lines.slice(before).map((l) => l.name),
        ['soon.test', 'reloaded.test'],
      );

      // The certificate was rotated: later checks find nothing to warn about.
      list = [cert('soon.test', 90), cert('far.test', 200)];
      await sleep(150);
      const seen = lines.length;
      await sleep(300);
      assert.equal(lines.length, seen);
    } finally {
      warnings.stop();
    }
  });
});
