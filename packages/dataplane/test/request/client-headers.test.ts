import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, it } from 'node:test';
import {
  CONNECTION_REFUSAL,
  compileHeaderRules,
  impersonatesProtected,
  namesFraming,
  screenClientHeaders,
} from '../../src/request/client-headers.ts';
import { compileTrustedProxies } from '../../src/request/trusted-proxies.ts';

/** rawHeaders and the headers object Node would build from them (lower-case keys, last one wins here). */
function request(...raw: string[]): { raw: string[]; headers: IncomingHttpHeaders } {
  const headers: IncomingHttpHeaders = {};
  for (let i = 0; i < raw.length; i += 2) headers[raw[i]!.toLowerCase()] = raw[i + 1]!;
  return { raw, headers };
}

const nobody = compileTrustedProxies([]);
const proxy = compileTrustedProxies(['10.0.0.0/8']);
const strict = compileHeaderRules(false, ['x-client-identity']);
const lenient = compileHeaderRules(true, ['x-client-identity']);

describe('screenClientHeaders: underscores', () => {
  it('drops every name with an underscore by default', () => {
    const r = request('Host', 'a', 'X_Forwarded_For', '1.2.3.4', 'my_header', 'v', 'X-Ok', 'y');
    assert.equal(typeof screenClientHeaders(r.raw, r.headers, strict, nobody, '127.0.0.1', false), 'number');
    assert.deepEqual(r.headers, { host: 'a', 'x-ok': 'y' });
  });

  it('with allowUnderscoresInHeaders keeps them, except spellings of protected headers', () => {
    const r = request(
      'my_header',
      'v',
      'X_Forwarded_Client_Cert',
      'forged',
      'x_real_ip',
      '1.1.1.1',
      'X_CLIENT_IDENTITY',
      'forged',
      'Content_Length',
      '5',
      'x_client_cert_chain',
      'forged',
      'x_request_id',
      'forged',
    );
    assert.equal(typeof screenClientHeaders(r.raw, r.headers, lenient, nobody, '127.0.0.1', false), 'number');
    assert.deepEqual(r.headers, { my_header: 'v' });
  });

  it('knows which folded names are protected', () => {
    assert.equal(impersonatesProtected(lenient, 'x_forwarded_anything'), true);
    assert.equal(impersonatesProtected(lenient, 'transfer_encoding'), true);
    assert.equal(impersonatesProtected(lenient, 'x_client_identity'), true);
    assert.equal(impersonatesProtected(lenient, 'x_custom'), false);
  });
});

describe('screenClientHeaders: the Forwarded family', () => {
  const names = [
    'Forwarded',
    'X-Forwarded-Port',
    'X-Forwarded-Prefix',
    'X-Forwarded-Server',
    'X-Forwarded-Scheme',
    'X-Forwarded-Ssl',
    'X-Original-URL',
    'X-Rewrite-URL',
  ];
  const raw = ['Host', 'a', ...names.flatMap((n) => [n, 'forged'])];

  it('removes them when the peer is not a trusted proxy', () => {
    const r = request(...raw);
    assert.equal(typeof screenClientHeaders(r.raw, r.headers, strict, proxy, '192.0.2.1', false), 'number');
    assert.deepEqual(r.headers, { host: 'a' });
  });

  it('keeps them from a trusted proxy', () => {
    const r = request(...raw);
    assert.equal(typeof screenClientHeaders(r.raw, r.headers, strict, proxy, '10.1.2.3', false), 'number');
    assert.equal(Object.keys(r.headers).length, names.length + 1);
  });
});

describe('screenClientHeaders: Connection', () => {
  it('refuses a Connection that names a framing or routing field', () => {
    for (const value of ['content-length', 'close, Transfer-Encoding', 'keep-alive,host', ' TE ', 'Upgrade']) {
      const r = request('Host', 'a', 'Connection', value);
      assert.equal(
        screenClientHeaders(r.raw, r.headers, strict, nobody, '127.0.0.1', false),
        CONNECTION_REFUSAL,
        value,
      );
    }
  });

  it('lets other Connection values through, and any on an upgrade', () => {
    for (const value of ['keep-alive', 'close', 'x-custom, keep-alive', 'hostname']) {
      const r = request('Host', 'a', 'Connection', value);
      assert.equal(typeof screenClientHeaders(r.raw, r.headers, strict, nobody, '127.0.0.1', false), 'number', value);
    }
    const r = request('Host', 'a', 'Connection', 'Upgrade, content-length', 'Upgrade', 'websocket');
    assert.equal(typeof screenClientHeaders(r.raw, r.headers, strict, nobody, '127.0.0.1', true), 'number');
  });

  it('counts the bytes of every field name and value the client sent', () => {
    const r = request('Host', 'a.test', 'X_Dropped', '12345');
    assert.equal(screenClientHeaders(r.raw, r.headers, strict, nobody, '127.0.0.1', false), 4 + 6 + 9 + 5);
  });

  it('reads each token of the list', () => {
    assert.equal(namesFraming(''), false);
    assert.equal(namesFraming(',,'), false);
    assert.equal(namesFraming('a,te'), true);
    assert.equal(namesFraming('tee'), false);
  });
});
