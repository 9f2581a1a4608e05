import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FieldNameSet, removeFieldsNamed } from '../../src/edge/field-name-set.ts';

describe('FieldNameSet', () => {
  it('matches names in any case, and only whole names', () => {
    const names = new FieldNameSet(['x-frame-options', 'Server', 'server', 'vary']);
    assert.equal(names.size, 3, 'the same name in two cases is one name');
    assert.equal(names.has('X-Frame-Options'), true);
    assert.equal(names.has('SERVER'), true);
    assert.equal(names.has('Vary'), true);
    assert.equal(names.has('varx'), false, 'same length, another name');
    assert.equal(names.has('x-frame-option'), false);
    assert.equal(names.has(''), false);
    assert.equal(new FieldNameSet([]).has('vary'), false);
  });

  it('removes the named fields of a flat head in place, keeping the order of the rest', () => {
    const head = ['Server', 'nginx', 'Content-Type', 'text/plain', 'SERVER', 'again', 'Set-Cookie', 'a=1'];
    removeFieldsNamed(head, new FieldNameSet(['server']));
    assert.deepEqual(head, ['Content-Type', 'text/plain', 'Set-Cookie', 'a=1']);
  });
});
