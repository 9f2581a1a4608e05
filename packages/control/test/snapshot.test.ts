import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  contentHash,
  describeChanges,
  materialFiles,
  pinListeners,
  stableJson,
  summarizeChanges,
} from '../src/snapshot.ts';
import { certificate, config, fileRef, route, snapshot } from './snapshot-fixtures.ts';

test('contentHash: same bytes in any file order give the same hash', () => {
  const a = contentHash('routes: []', [
    { path: '/a.pem', bytes: Buffer.from('A') },
    { path: '/b.pem', bytes: Buffer.from('B') },
  ]);
  const b = contentHash('routes: []', [
    { path: '/b.pem', bytes: Buffer.from('B') },
    { path: '/a.pem', bytes: Buffer.from('A') },
  ]);
  assert.equal(a, b);
});

test('contentHash: a changed config, file byte, or a missing file changes the hash', () => {
  const base = contentHash('x', [{ path: '/a.pem', bytes: Buffer.from('A') }]);
  assert.notEqual(contentHash('y', [{ path: '/a.pem', bytes: Buffer.from('A') }]), base);
  assert.notEqual(contentHash('x', [{ path: '/a.pem', bytes: Buffer.from('B') }]), base);
  assert.notEqual(contentHash('x', [{ path: '/a.pem', bytes: null }]), base);
  assert.notEqual(
    contentHash('x', [{ path: '/a.pem', bytes: Buffer.alloc(0) }]),
    contentHash('x', [{ path: '/a.pem', bytes: null }]),
  );
});

test('contentHash: bytes cannot move between the config text and a file name', () => {
  assert.notEqual(
    contentHash('ab', [{ path: '/c', bytes: Buffer.from('') }]),
    contentHash('a', [{ path: 'b/c', bytes: Buffer.from('') }]),
  );
});

test('materialFiles: every referenced file once, pem forms skipped', () => {
  const cfg = config([
    route('api', ['https://127.0.0.1:9443'], {
      security: {
        forwardHostHeaders: true,
        exploitProtection: false,
        tls: {
          rootCAs: fileRef('/pki/ca.pem', 'ca-bundle'),
          clientCert: fileRef('/pki/client.pem', 'certificate'),
          clientKey: { form: 'pem', kind: 'private-key', path: null, pem: 'x', at: fileRef('/', 'crl').at },
          insecureSkipVerify: false,
          serverName: null,
        },
      },
    }),
  ]);
  cfg.gateway.tls.certificates.push({
    cert: fileRef('/pki/server.pem', 'certificate'),
    key: fileRef('/pki/server.key', 'private-key'),
    passphrase: null,
  });
  cfg.gateway.tls.clientAuth = { clientCA: fileRef('/pki/ca.pem', 'ca-bundle'), required: true, crl: null };
  assert.deepEqual(materialFiles(cfg), ['/pki/server.pem', '/pki/server.key', '/pki/ca.pem', '/pki/client.pem']);
});

test('describeChanges: routes added, removed and changed; positions alone are no change', () => {
  const before = snapshot(1, config([route('a', ['http://127.0.0.1:1']), route('b', ['http://127.0.0.1:2'])]));
  const moved = route('a', ['http://127.0.0.1:1']);
  moved.at = { ...moved.at, line: 40 };
  const after = snapshot(2, config([moved, route('c', ['http://127.0.0.1:3'])]));
  const changes = describeChanges(before, after);
  assert.deepEqual(changes.routesAdded, ['c']);
  assert.deepEqual(changes.routesRemoved, ['b']);
  assert.deepEqual(changes.routesChanged, []);

  const reweighted = route('a', ['http://127.0.0.1:1']);
  reweighted.backends[0]!.weight = 5;
  const third = snapshot(3, config([reweighted, route('c', ['http://127.0.0.1:3'])]));
  assert.deepEqual(describeChanges(after, third).routesChanged, ['a']);
});

test('describeChanges: a new serial for the same source is a swap with old and new serial', () => {
  const cfg = config([]);
  const before = snapshot(1, cfg, [certificate('/pki/server.pem', '01')]);
  const after = snapshot(2, cfg, [certificate('/pki/server.pem', '02')]);
  const changes = describeChanges(before, after);
  assert.deepEqual(changes.certificateSwaps, [
    { name: 'localhost', source: '/pki/server.pem', oldSerial: '01', newSerial: '02' },
  ]);
  assert.match(summarizeChanges(changes), /certificates swapped: localhost/);
  assert.equal(summarizeChanges(describeChanges(before, before)), 'no effective change');
});

test('describeChanges: listener and log level changes are reported separately', () => {
  const before = snapshot(1, config([], { webPort: 8080 }));
  const after = snapshot(2, config([], { webPort: 9090, level: 'debug' }));
  const changes = describeChanges(before, after);
  assert.equal(changes.listenersChanged, true);
  assert.deepEqual(changes.gatewayChanged, ['log']);
  assert.match(summarizeChanges(changes), /needs restart/);
});

test('pinListeners keeps the bound listeners and everything else from the new snapshot', () => {
  const bound = config([], { webPort: 8080 }).gateway.entryPoints;
  const next = snapshot(2, config([route('new', ['http://127.0.0.1:1'])], { webPort: 9090 }));
  const pinned = pinListeners(next, bound);
  assert.equal(pinned.config.gateway.entryPoints.web?.port, 8080);
  assert.deepEqual(
    pinned.config.routes.map((r) => r.name),
    ['new'],
  );
  assert.equal(next.config.gateway.entryPoints.web?.port, 9090, 'the input is not mutated');
  const same = snapshot(3, config([], { webPort: 8080 }));
  assert.equal(pinListeners(same, bound), same);
});

test('stableJson ignores key order and source positions', () => {
  assert.equal(stableJson({ a: 1, b: { c: 2, at: { line: 3 } } }), stableJson({ b: { c: 2 }, a: 1 }));
});
