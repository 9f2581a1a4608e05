// buildCandidate against real files: a real config parsed by @gatehouse/config and a real
// certificate from the dev PKI read and preflighted by @gatehouse/pki.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { createCa, type FileRead, issueCertificate, type LeafHandle, readRegularFile } from '@gatehouse/pki';
import { buildCandidate, type BuildInputs } from '../src/snapshot.ts';

let dir: string;
let first: LeafHandle;
let second: LeafHandle;
let configFile: string;

function inputs(currentHash: string | null): BuildInputs {
  return {
    configFile,
    env: {},
    currentHash,
    generation: 2,
    ticketKeys: Buffer.alloc(48, 1).toString('base64'),
    health: {},
    now: Date.now(),
  };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-build-'));
  const ca = await createCa(dir, { name: 'root' });
  first = await issueCertificate(ca, { name: 'one', cn: 'localhost', dns: ['localhost'], usage: 'server' });
  second = await issueCertificate(ca, { name: 'two', cn: 'localhost', dns: ['localhost'], usage: 'server' });
  copyFileSync(first.certPath, join(dir, 'live.crt'));
  copyFileSync(first.keyPath, join(dir, 'live.key'));
  configFile = join(dir, 'gatehouse.yaml');
  writeFileSync(
    configFile,
    `version: 2
gateway:
  entryPoints:
    web:
      address: 127.0.0.1:8080
    webSecure:
      address: 127.0.0.1:8443
  tls:
    certificates:
      - cert: live.crt
        key: live.key
routes:
  - name: a
    path: /
    backends:
      - endpoint: http://127.0.0.1:9000
`,
  );
});

test('a valid config and certificate build a snapshot; the same bytes again are unchanged', async () => {
  const built = await buildCandidate(inputs(null));
  assert.equal(built.kind, 'changed', JSON.stringify(built));
  if (built.kind !== 'changed') return;
  assert.equal(built.snapshot.generation, 2);
  assert.equal(built.snapshot.tls.certificates[0]?.serial, first.serial);
  assert.deepEqual(built.files.sort(), [configFile, join(dir, 'live.crt'), join(dir, 'live.key')].sort());
  writeFileSync(configFile, readFileSync(configFile)); // touched, same bytes
  const again = await buildCandidate(inputs(built.hash));
  assert.equal(again.kind, 'unchanged');
});

/** A file reader that counts the reads of each path (the files are real, so is the reading). */
function countingReader(): { read: (path: string) => Promise<FileRead>; counts: Map<string, number> } {
  const counts = new Map<string, number>();
  return {
    counts,
    read: (path) => {
      counts.set(path, (counts.get(path) ?? 0) + 1);
      return readRegularFile(path);
    },
  };
}

test('one build reads each file once: the parse, the hash and the material checks share the read', async () => {
  const { read, counts } = countingReader();
  const built = await buildCandidate({ ...inputs(null), read });
  assert.equal(built.kind, 'changed', JSON.stringify(built));
  const files = [configFile, join(dir, 'live.crt'), join(dir, 'live.key')];
  assert.deepEqual(Object.fromEntries(counts), Object.fromEntries(files.map((f) => [f, 1])));
});

test('what the watcher read is handed over and not read again, and it is what the snapshot holds', async () => {
  const { read, counts } = countingReader();
  const handed = new Map<string, FileRead>();
  for (const path of [configFile, join(dir, 'live.crt'), join(dir, 'live.key')]) {
    handed.set(path, await readRegularFile(path));
  }
  // The certificate on disk moves on after the watcher's look: this build is of what it saw.
  const seen = handed.get(join(dir, 'live.crt'))?.bytes.toString('utf8');
  const onDisk = readFileSync(join(dir, 'live.crt'), 'utf8');
  writeFileSync(join(dir, 'live.crt'), '');
  try {
    const built = await buildCandidate({ ...inputs(null), read, handed });
    assert.equal(built.kind, 'changed', JSON.stringify(built));
    assert.deepEqual([...counts.keys()], [], 'no file read again');
    if (built.kind === 'changed') assert.equal(built.snapshot.tls.certificates[0]?.certPem, seen);
  } finally {
    writeFileSync(join(dir, 'live.crt'), onDisk);
  }
});

test('a new certificate with its old key is rejected naming the file; with its key it is a new snapshot', async () => {
  const current = await buildCandidate(inputs(null));
  assert.equal(current.kind, 'changed');
  if (current.kind !== 'changed') return;
  copyFileSync(second.certPath, join(dir, 'live.crt'));
  const mismatched = await buildCandidate(inputs(current.hash));
  assert.equal(mismatched.kind, 'rejected');
  if (mismatched.kind === 'rejected') {
    assert.ok(mismatched.errors.length > 0);
    assert.ok(
      mismatched.errors.some((e) => e.file.includes('live') || e.message.includes('live')),
      JSON.stringify(mismatched.errors),
    );
    assert.ok(mismatched.files.includes(join(dir, 'live.key')), 'still watching the files to heal');
  }
  copyFileSync(second.keyPath, join(dir, 'live.key'));
  const healed = await buildCandidate(inputs(current.hash));
  assert.equal(healed.kind, 'changed');
  if (healed.kind === 'changed') assert.equal(healed.snapshot.tls.certificates[0]?.serial, second.serial);
});

test('invalid YAML is rejected with its position and nothing else is read', async () => {
  const good = readFileSync(configFile, 'utf8');
  writeFileSync(configFile, `${good}  - [broken\n`);
  try {
    const result = await buildCandidate(inputs(null));
    assert.equal(result.kind, 'rejected');
    if (result.kind === 'rejected') {
      assert.equal(result.errors[0]?.file, configFile);
      assert.ok((result.errors[0]?.line ?? 0) > 0);
      assert.deepEqual(result.files, [configFile]);
    }
  } finally {
    writeFileSync(configFile, good);
  }
});
