import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalHost, HOST_REFUSAL } from '../../src/request/canonical-host.ts';

describe('canonicalHost', () => {
  it('returns an already canonical host as the same string', () => {
    for (const host of ['api.test', 'api.test:8443', '127.0.0.1:80', '[::1]', '[::1]:8443', 'localhost']) {
      assert.equal(canonicalHost(host), host);
    }
  });

  it('lower-cases, drops one trailing dot of the name and an empty port', () => {
    const cases: Array<[string, string]> = [
      ['api.test.', 'api.test'],
      ['API.Test', 'api.test'],
      ['API.test.:8443', 'api.test:8443'],
      ['api.test:', 'api.test'],
      ['api.test.:', 'api.test'],
      ['[::FFFF:7F00:1]:443', '[::ffff:7f00:1]:443'],
      ['[::1]:', '[::1]'],
    ];
    for (const [input, expected] of cases) assert.equal(canonicalHost(input), expected, input);
  });

  it('refuses empty labels, escapes, bad ports and bare IPv6', () => {
    for (const host of [
      '',
      '.',
      'api.test..',
      '.api.test',
      'api..test',
      'api%2etest',
      'api.test:0',
      'api.test:65536',
      'api.test:80a',
      'api.test:123456',
      '::1',
      '[::1',
      '[::1]x',
      '[::1%25eth0]',
      ':8443',
    ]) {
      assert.equal(canonicalHost(host), HOST_REFUSAL, host);
    }
  });
});
