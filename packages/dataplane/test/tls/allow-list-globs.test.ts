// The allow-list globs of `clientAuth`: pure, compiled once per snapshot.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileGlobs, compileSanGlobs, compileSubjectGlobs } from '../../src/tls/allow-list-globs.ts';

describe('allow-list globs', () => {
  it('compiles globs once and matches exactly', () => {
    const m = compileGlobs(['CN=admin,O=*', 'CN=exact']) as (v: string) => boolean;
    assert.equal(m('CN=admin,O=Acme'), true);
    assert.equal(m('CN=admin,O=Acme,C=DE'), true);
    assert.equal(m('CN=exact'), true);
    assert.equal(m('CN=exact2'), false);
    assert.equal(m('xCN=admin,O=a'), false);
    assert.equal(compileGlobs(['a.b'])?.('aXb'), false, 'dots are literal');
    assert.equal(compileGlobs([]), null);
  });

  it('subjects match RDN by RDN; `*` never crosses `,` nor an escaped `\\,`', () => {
    const m = compileSubjectGlobs(['CN=admin,O=*', 'CN=*,O=Acme']) as (v: string) => boolean;
    assert.equal(m('CN=admin,O=Acme'), true);
    assert.equal(m('CN=admin,O=Acme\\, Inc'), false, '`*` does not cross an escaped comma');
    const escaped = compileSubjectGlobs(['CN=admin,O=Acme\\, *']) as (v: string) => boolean;
    assert.equal(escaped('CN=admin,O=Acme\\, Inc'), true, 'written out, an escaped comma matches itself');
    assert.equal(m('CN=admin,O=Acme,C=DE'), false, 'one RDN more: `*` does not take `Acme,C=DE`');
    assert.equal(m('CN=x,O=Evil,O=Acme'), false);
    assert.equal(m('CN=x\\,O=Evil,O=Acme'), false, '`*` does not cross an escaped comma either');
    assert.equal(m('CN=anyone,O=Acme'), true);
    assert.equal(m('xCN=admin,O=a'), false);
    assert.equal(compileSubjectGlobs([]), null);
  });

  it('SAN entries carry a type prefix, and an entry without one matches DNS names only', () => {
    const identity = {
      dns: ['good.clients.test'],
      uris: ['spiffe://partners/billing'],
      ips: ['10.0.0.7'],
      emails: ['ops@example.com'],
    };
    const allowed = (...patterns: string[]) =>
      (compileSanGlobs(patterns) as NonNullable<ReturnType<typeof compileSanGlobs>>)(identity);
    assert.equal(allowed('*.clients.test'), true);
    assert.equal(allowed('DNS:*.clients.test'), true);
    assert.equal(allowed('spiffe://partners/*'), false, 'a URI pattern without `URI:` is a DNS pattern');
    assert.equal(allowed('URI:spiffe://partners/*'), true);
    assert.equal(allowed('URI:*.clients.test'), false, 'a URI entry never matches a DNS SAN');
    assert.equal(allowed('IP:10.0.0.*'), true);
    assert.equal(allowed('10.0.0.7'), false, 'an IP needs `IP:`');
    assert.equal(allowed('email:ops@example.com'), true);
    assert.equal(allowed('DNS:ops@example.com'), false);
  });
});
