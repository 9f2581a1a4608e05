import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { slashRedirectLocation } from '../../src/request/trailing-slash.ts';

describe('slashRedirectLocation (strictSlash)', () => {
  it('redirects only the bare prefix, with its query', () => {
    assert.equal(slashRedirectLocation('/docs', '/docs'), '/docs/');
    assert.equal(slashRedirectLocation('/docs?a=1', '/docs'), '/docs/?a=1');
    assert.equal(slashRedirectLocation('/docs/', '/docs'), null);
    assert.equal(slashRedirectLocation('/docs/x', '/docs'), null);
    assert.equal(slashRedirectLocation('/docsx', '/docs'), null);
  });
});
