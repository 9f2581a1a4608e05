import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isXmlContentType, xmlProblem } from '../../src/request/xml-well-formed.ts';

const check = (text: string) => xmlProblem(Buffer.from(text));

describe('xmlProblem', () => {
  it('accepts well-formed documents', () => {
    for (const doc of [
      '<a/>',
      '<?xml version="1.0" encoding="UTF-8"?>\n<order id="1"><item qty=\'2\'>tea &amp; cake</item></order>\n',
      '\uFEFF<a><!-- note --><b x="1 > 0"/><![CDATA[<not> a tag]]></a>',
      '<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body/></soap:Envelope>',
      '<a>&#65;&#x42;&lt;&gt;&quot;&apos;</a>',
      '<p>café</p>',
    ]) {
      assert.equal(check(doc), null, doc);
    }
  });

  it('refuses every DOCTYPE and ENTITY declaration (the XXE vector)', () => {
    assert.equal(
      check('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'),
      'doctype',
    );
    assert.equal(check('<!doctype html><html/>'), 'doctype');
    assert.equal(check('<r><!ENTITY x "y"></r>'), 'doctype');
  });

  it('refuses malformed documents', () => {
    assert.equal(check('<a><b></a></b>'), 'unbalanced');
    assert.equal(check('<a><b></b>'), 'unbalanced');
    assert.equal(check('<a></a><b></b>'), 'second_root');
    assert.equal(check(''), 'no_root');
    assert.equal(check('   '), 'no_root');
    assert.equal(check('hello <a/>'), 'text_outside_root');
    assert.equal(check('<a/>trailing'), 'text_outside_root');
    assert.equal(check('<a b=1/>'), 'bad_markup');
    assert.equal(check('<a b="1" b="2"/>'), 'bad_markup');
    assert.equal(check('<a'), 'bad_markup');
    assert.equal(check('<1a/>'), 'bad_markup');
    assert.equal(check('<a><!-- open</a>'), 'bad_markup');
    assert.equal(check('<a>&nbsp;</a>'), 'unknown_entity');
    assert.equal(check('<a>fish & chips</a>'), 'unknown_entity');
    assert.equal(check('{"json": true}'), 'text_outside_root');
    assert.equal(xmlProblem(Buffer.from([0x3c, 0x61, 0x3e, 0xff, 0x3c, 0x2f, 0x61, 0x3e])), 'encoding');
  });
});

describe('isXmlContentType', () => {
  it('knows XML media types, with parameters and in any case', () => {
    assert.equal(isXmlContentType('application/xml'), true);
    assert.equal(isXmlContentType('Text/XML; charset=utf-8'), true);
    assert.equal(isXmlContentType('application/soap+xml'), true);
    assert.equal(isXmlContentType('application/json'), false);
    assert.equal(isXmlContentType('application/xml-dtd'), false);
    assert.equal(isXmlContentType(undefined), false);
  });
});
