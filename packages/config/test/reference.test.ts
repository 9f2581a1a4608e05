import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { markdownReference } from '../src/reference.ts';
import { configSpec } from '../src/schema.ts';

describe('REFERENCE.md', () => {
  it('is what `gatehouse schema --markdown` prints (regenerate it after changing the spec table)', () => {
    // The repository's formatter pads the table columns; compare without the padding.
    const unpadded = (text: string) =>
      text
        .split('\n')
        .map((line) => line.replace(/\s*\|\s*/g, '|').replace(/\|-+/g, '|-'))
        .join('\n');
    const committed = readFileSync(join(import.meta.dirname, '..', 'REFERENCE.md'), 'utf8');
    assert.equal(unpadded(committed), unpadded(markdownReference()));
  });
  it('lists every top-level and gateway key', () => {
    const text = markdownReference();
    for (const key of Object.keys(configSpec.fields)) assert.ok(text.includes(`| \`${key}`), key);
    const gateway = configSpec.fields.gateway?.spec;
    assert.equal(gateway?.kind, 'object');
    for (const key of Object.keys(gateway?.kind === 'object' ? gateway.fields : {})) {
      assert.ok(text.includes(`| \`gateway.${key}`), `gateway.${key}`);
    }
  });
});
