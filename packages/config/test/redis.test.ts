// `gateway.redis.tls`: Goma's keys, read as certificate material (path, PEM or base64) like every
// other certificate field, and usable with rate limits (the workers get the PEM in the snapshot).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { oneError, ok, yaml } from './helpers.ts';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';

function withRedisTls(...tlsLines: string[]): string {
  return yaml(
    'version: 2',
    'gateway:',
    '  redis:',
    '    addr: redis.internal:6380',
    '    tls:',
    ...tlsLines.map((l) => `      ${l}`),
    'middlewares:',
    '  - name: limit',
    '    type: rateLimit',
    '    rule: { unit: minute, requestsPerUnit: 10 }',
    'routes:',
    '  - name: r',
    '    path: /',
    '    backends: [{ endpoint: "http://x:1" }]',
    '    middlewares: [limit]',
  );
}

describe('gateway.redis.tls', () => {
  it('is accepted beside rate limits, its three keys as material references', () => {
    const config = ok(
      withRedisTls('clientCa: certs/ca.pem', 'clientCert: /etc/redis/client.pem', 'clientKey: client.key'),
    );
    const tls = config.gateway.redis?.tls;
    assert.deepEqual(
      [tls?.clientCa, tls?.clientCert, tls?.clientKey].map((r) => [r?.form, r?.kind, r?.path, r?.at.line, r?.at.path]),
      [
        ['file', 'ca-bundle', '/etc/gatehouse/certs/ca.pem', 6, 'gateway.redis.tls.clientCa'],
        ['file', 'certificate', '/etc/redis/client.pem', 7, 'gateway.redis.tls.clientCert'],
        ['file', 'private-key', '/etc/gatehouse/client.key', 8, 'gateway.redis.tls.clientKey'],
      ],
    );
    assert.equal(config.middlewares[0]?.type, 'rateLimit');
  });

  it('takes inline and base64 PEM as the other certificate fields do', () => {
    const base64 = Buffer.from(`${PEM}\n`).toString('base64');
    const config = ok(withRedisTls(`clientCa: ${JSON.stringify(PEM)}`, `clientCert: ${base64}`, 'clientKey: k.pem'));
    const tls = config.gateway.redis?.tls;
    assert.equal(tls?.clientCa?.form, 'pem');
    assert.equal(tls?.clientCert?.form, 'base64');
    assert.equal(tls?.clientCert?.pem, `${PEM}\n`);
  });

  it('is TLS with the system roots when present but empty', () => {
    const config = ok(withRedisTls('{}').replace('    tls:\n      {}', '    tls: {}'));
    assert.deepEqual(config.gateway.redis?.tls, { clientCa: null, clientCert: null, clientKey: null });
  });

  it('wants clientCert and clientKey together', () => {
    const missingKey = oneError(withRedisTls('clientCert: c.pem'), 'GH_CONFIG_CLIENT_KEY_MISSING', 6, 7);
    assert.equal(missingKey.path, 'gateway.redis.tls.clientCert');
    const missingCert = oneError(withRedisTls('clientKey: k.pem'), 'GH_CONFIG_CLIENT_CERT_MISSING', 6, 7);
    assert.equal(missingCert.path, 'gateway.redis.tls.clientKey');
  });

  it('refuses an empty clientCa rather than trust nothing in particular', () => {
    const error = oneError(withRedisTls('clientCa: ""'), 'GH_CONFIG_EMPTY_MATERIAL', 6, 17);
    assert.equal(error.path, 'gateway.redis.tls.clientCa');
  });
});
