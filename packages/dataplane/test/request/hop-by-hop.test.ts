import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, it } from 'node:test';
import { stripH2ResponseHeaders } from '../../src/edge/http2.ts';
import { clientResponseHeaders, stripHopByHop, stripResponseHopByHop } from '../../src/request/headers.ts';
import { HOP_BY_HOP } from '../../src/request/hop-by-hop.ts';

describe('one hop-by-hop table, applied on every side', () => {
  it('a request keeps none of them but transfer-encoding (re-framed by Node), and loses expect', () => {
    const headers: IncomingHttpHeaders = { host: 'a', expect: '100-continue' };
    for (const name of HOP_BY_HOP) headers[name] = 'x';
    stripHopByHop(headers);
    assert.deepEqual(Object.keys(headers).sort(), ['host', 'transfer-encoding']);
  });

  it('a raw HTTP/1 response head keeps none of them but trailer, in any case, nor Server or X-Powered-By', () => {
    const raw: string[] = ['Content-Type', 'text/plain'];
    for (const name of HOP_BY_HOP) raw.push(name.toUpperCase(), 'x');
    raw.push('Server', 'b/1', 'x-powered-by', 'php', 'X-Kept', 'y');
    const out = clientResponseHeaders(raw, false);
    assert.deepEqual(
      out.filter((_, i) => i % 2 === 0),
      ['Content-Type', 'TRAILER', 'X-Kept'],
    );
  });

  it('a response relayed to an HTTP/2 client loses the same ones and what h2 forbids', () => {
    const headers: IncomingHttpHeaders = { 'content-type': 'text/plain', 'http2-settings': 'x' };
    for (const name of HOP_BY_HOP) headers[name] = 'x';
    stripResponseHopByHop(headers);
    stripH2ResponseHeaders(headers);
    assert.deepEqual(Object.keys(headers).sort(), ['content-type', 'trailer']);
  });
});
