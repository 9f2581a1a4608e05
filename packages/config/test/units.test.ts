// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these tests are about the config's ${ENV} syntax
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseListenAddress } from '../src/address.ts';
import { parseCidr } from '../src/cidr.ts';
import { formatDuration, parseDuration } from '../src/duration.ts';
import { expandEnv } from '../src/env.ts';
import { materialRef } from '../src/material-ref.ts';
import { formatSize, parseSize } from '../src/size.ts';
import { closest, editDistance } from '../src/suggest.ts';

describe('parseDuration', () => {
  it('reads Go-style durations', () => {
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('15s'), 15_000);
    assert.equal(parseDuration('1m'), 60_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('1m30s250ms'), 90_250);
    assert.equal(parseDuration('1.5s'), 1500);
    assert.equal(parseDuration('2d'), 172_800_000);
    assert.equal(parseDuration('0s'), 0);
  });
  it('reads bare integers as seconds (Goma)', () => {
    assert.equal(parseDuration(30), 30_000);
    assert.equal(parseDuration('30'), 30_000);
    assert.equal(parseDuration(0), 0);
  });
  it('rejects what is not a duration', () => {
    for (const bad of ['', '15 seconds', 'ms', '1x', '-5s', '5s trailing', '1h 30m', true, null, -1, Number.NaN]) {
      assert.equal(parseDuration(bad), null, `${String(bad)} should be rejected`);
    }
  });
  it('formats back', () => {
    assert.equal(formatDuration(5_400_000), '1h30m');
    assert.equal(formatDuration(90_250), '1m30s250ms');
    assert.equal(formatDuration(0), '0s');
    assert.equal(formatDuration(200), '200ms');
  });
});

describe('parseSize', () => {
  it('reads binary and decimal units', () => {
    assert.equal(parseSize('16KiB'), 16_384);
    assert.equal(parseSize('10MiB'), 10 * 1024 * 1024);
    assert.equal(parseSize('10MB'), 10_000_000);
    assert.equal(parseSize('1k'), 1024);
    assert.equal(parseSize('1GiB'), 1024 ** 3);
    assert.equal(parseSize('512'), 512);
    assert.equal(parseSize(512), 512);
    assert.equal(parseSize('1.5KiB'), 1536);
    assert.equal(parseSize('0'), 0);
  });
  it('rejects what is not a size', () => {
    for (const bad of ['', 'big', '10 parsecs', '-1', -1, 1.5, '10XB', true]) {
      assert.equal(parseSize(bad), null, `${String(bad)} should be rejected`);
    }
  });
  it('formats back', () => {
    assert.equal(formatSize(16_384), '16KiB');
    assert.equal(formatSize(10 * 1024 * 1024), '10MiB');
    assert.equal(formatSize(1000), '1000B');
  });
});

describe('expandEnv', () => {
  const env = { HOST: 'api', EMPTY: '', PORT: '8443' };
  it('replaces set variables', () => {
    assert.deepEqual(expandEnv('https://${HOST}:${PORT}', env), {
      ok: true,
      value: 'https://api:8443',
      expanded: true,
    });
  });
  it('uses the default when unset or empty', () => {
    assert.deepEqual(expandEnv('${MISSING:-x}/${EMPTY:-y}', env), { ok: true, value: 'x/y', expanded: true });
    assert.deepEqual(expandEnv('${MISSING:-}', env), { ok: true, value: '', expanded: true });
  });
  it('keeps an empty value that is set without default', () => {
    assert.deepEqual(expandEnv('a${EMPTY}b', env), { ok: true, value: 'ab', expanded: true });
  });
  it('fails on an unset variable without default, at its offset', () => {
    assert.deepEqual(expandEnv('http://${NOPE}:80', env), { ok: false, name: 'NOPE', index: 7 });
  });
  it('leaves text without references alone and honours $${ as an escape', () => {
    assert.deepEqual(expandEnv('plain $HOST', env), { ok: true, value: 'plain $HOST', expanded: false });
    assert.deepEqual(expandEnv('$${HOST}', env), { ok: true, value: '${HOST}', expanded: true });
  });
});

describe('parseListenAddress', () => {
  it('reads Go-style addresses', () => {
    assert.deepEqual(parseListenAddress(':8080'), { raw: ':8080', host: '', port: 8080 });
    assert.deepEqual(parseListenAddress('127.0.0.1:9180'), { raw: '127.0.0.1:9180', host: '127.0.0.1', port: 9180 });
    assert.deepEqual(parseListenAddress('[::1]:9180'), { raw: '[::1]:9180', host: '::1', port: 9180 });
    assert.deepEqual(parseListenAddress('localhost:80'), { raw: 'localhost:80', host: 'localhost', port: 80 });
  });
  it('says what is wrong', () => {
    assert.match((parseListenAddress('8080') as { error: string }).error, /port is missing/);
    assert.match((parseListenAddress(':99999') as { error: string }).error, /above 65535/);
    assert.match((parseListenAddress('::1:80') as { error: string }).error, /brackets/);
    assert.match((parseListenAddress('[zz]:80') as { error: string }).error, /not an IPv6/);
    assert.match((parseListenAddress('host:http') as { error: string }).error, /not a port/);
  });
});

describe('parseCidr', () => {
  it('accepts IPv4 and IPv6 CIDRs and bare addresses', () => {
    assert.deepEqual(parseCidr('10.0.0.0/8'), { cidr: '10.0.0.0/8' });
    assert.deepEqual(parseCidr('127.0.0.1'), { cidr: '127.0.0.1/32' });
    assert.deepEqual(parseCidr('fd00::/8'), { cidr: 'fd00::/8' });
    assert.deepEqual(parseCidr('::1'), { cidr: '::1/128' });
  });
  it('rejects bad ones', () => {
    assert.ok('error' in parseCidr('10.0.0.0/33'));
    assert.ok('error' in parseCidr('fd00::/129'));
    assert.ok('error' in parseCidr('example.com/8'));
    assert.ok('error' in parseCidr('10.0.0.0/8/1'));
  });
});

describe('did you mean', () => {
  it('measures edit distance', () => {
    assert.equal(editDistance('backend', 'backends'), 1);
    assert.equal(editDistance('kitten', 'sitting'), 3);
    assert.equal(editDistance('Hosts', 'hosts'), 0);
  });
  it('suggests only near keys', () => {
    assert.equal(closest('backend', ['backends', 'target', 'hosts']), 'backends');
    assert.equal(closest('helthCheck', ['healthCheck', 'hosts']), 'healthCheck');
    assert.equal(closest('zzzzzz', ['backends', 'target']), null);
  });
});

describe('materialRef', () => {
  const at = { file: '/etc/gatehouse/gatehouse.yaml', line: 3, col: 9, path: 'x.cert' };
  const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
  it('is a file for a path; relative paths resolve against the config directory', () => {
    assert.deepEqual(materialRef('certs/a.pem', 'certificate', '/etc/gatehouse', at), {
      form: 'file',
      kind: 'certificate',
      path: '/etc/gatehouse/certs/a.pem',
      pem: null,
      at,
    });
    const absolute = materialRef('/etc/ssl/x.pem', 'ca-bundle', '/etc/gatehouse', at);
    assert.equal(absolute.path, '/etc/ssl/x.pem');
    assert.equal(absolute.kind, 'ca-bundle');
  });
  it('is pem for inline PEM text', () => {
    const ref = materialRef(pem, 'certificate', '/etc', at);
    assert.equal(ref.form, 'pem');
    assert.equal(ref.pem, pem);
    assert.equal(ref.path, null);
  });
  it('is base64 for base64 of PEM, and carries the decoded PEM', () => {
    const ref = materialRef(Buffer.from(pem).toString('base64'), 'private-key', '/etc', at);
    assert.equal(ref.form, 'base64');
    assert.equal(ref.kind, 'private-key');
    assert.equal(ref.pem, pem);
    const wrapped = Buffer.from(pem)
      .toString('base64')
      .replace(/(.{20})/g, '$1\n');
    assert.equal(materialRef(wrapped, 'certificate', '/etc', at).pem, pem);
  });
  it('treats base64 that is not PEM as a file name', () => {
    const ref = materialRef(Buffer.from('hello world, not pem').toString('base64'), 'certificate', '/etc', at);
    assert.equal(ref.form, 'file');
  });
});
