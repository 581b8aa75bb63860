import { expect } from 'chai';
import fc from 'fast-check';
import xml2js from 'xml2js';
import { escapeView, keyValueValue, sanitizeXmlText, UnsafeValueError, xmlEscape } from '../../../vendors/escape.js';
import { checkXml } from '../../../vendors/xml-check.js';

/** Parses synchronously with xml2js (its callback runs before parseString returns when async is off). */
function parseXml(text: string): Record<string, unknown> {
  let result: unknown = null;
  let error: unknown = null;
  new xml2js.Parser({ async: false, includeWhiteChars: true, explicitCharkey: true }).parseString(text, (err: unknown, r: unknown) => {
    error = err;
    result = r;
  });
  if (error) throw error;
  return result as Record<string, unknown>;
}

/** Any string, including controls, lone surrogates, astral characters and the XML specials. */
const anyString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.string({ unit: fc.constantFrom('&', '<', '>', '"', "'", '\t', '\n', '\r', '\0', '\u0085', '\u2028', '\uFFFE', '\uD800', 'a', ' '), maxLength: 30 }),
);

describe('escape', () => {
  describe('xmlEscape', () => {
    it('escapes the five XML specials and the white space a parser would normalise', () => {
      expect(xmlEscape(`a&b<c>d"e'f`)).to.equal('a&amp;b&lt;c&gt;d&quot;e&apos;f');
      expect(xmlEscape('1\t2\n3\r4')).to.equal('1&#9;2&#10;3&#13;4');
    });

    it('drops characters XML cannot carry and keeps astral ones', () => {
      expect(xmlEscape('a\u0000b\u0001c\u001Fd\uFFFEe\uFFFF')).to.equal('abcde');
      expect(xmlEscape('x\uD800y\uDC00z')).to.equal('xyz');
      expect(xmlEscape('\u{1F600}')).to.equal('\u{1F600}');
    });

    it('property: an attribute and a text node built with it parse back to the sanitised string', () => {
      fc.assert(
        fc.property(anyString, (s) => {
          const e = xmlEscape(s);
          const doc = `<?xml version="1.0"?>\n<a v="${e}" w='${e}'>[${e}]</a>`;
          expect(checkXml(doc).problems).to.deep.equal([]);
          const parsed = parseXml(doc)['a'] as { $: { v: string; w: string }; _?: string };
          const expected = sanitizeXmlText(s);
          expect(parsed.$.v).to.equal(expected);
          expect(parsed.$.w).to.equal(expected);
          // Brackets keep xml2js from dropping a whitespace-only text node.
          expect(parsed._).to.equal(`[${expected}]`);
        }),
        { numRuns: 500 },
      );
    });
  });

  describe('keyValueValue', () => {
    it('passes ordinary values through', () => {
      expect(keyValueValue('Alice Müller & Co. <1001> #5 = "x"\ttab')).to.equal('Alice Müller & Co. <1001> #5 = "x"\ttab');
    });

    it('refuses CR, LF and NUL without echoing the value', () => {
      for (const bad of ['pass\nword', 'pass\rword', 'pass\0word', '\r\n']) {
        expect(() => keyValueValue(bad)).to.throw(UnsafeValueError);
      }
      let caught: unknown = null;
      try {
        keyValueValue('hunter2\naccount.2.enable = 1');
      } catch (e) {
        caught = e;
      }
      expect(caught).to.be.instanceOf(UnsafeValueError);
      expect((caught as UnsafeValueError).message).not.to.contain('hunter2');
      expect((caught as UnsafeValueError).status).to.equal(500);
    });

    it('drops other controls and Unicode line separators', () => {
      expect(keyValueValue('a\u000Bb\u000Cc\u0085d\u2028e\u2029f\u007Fg\u0001h')).to.equal('abcdefgh');
    });

    it('property: never returns a string with a line break, or throws UnsafeValueError', () => {
      fc.assert(
        fc.property(anyString, (s) => {
          let out: string;
          try {
            out = keyValueValue(s);
          } catch (e) {
            expect(e).to.be.instanceOf(UnsafeValueError);
            expect(/[\r\n\0]/.test(s)).to.equal(true);
            return;
          }
          expect(out).not.to.match(/[\r\n\0\u000B\u000C\u0085\u2028\u2029]/);
          expect(`key = ${out}`.split(/\r\n|\r|\n/)).to.have.length(1);
        }),
        { numRuns: 500 },
      );
    });
  });

  describe('escapeView', () => {
    it('maps every string deeply and keeps other values', () => {
      const view = { a: 'x&y', n: 5, b: true, z: null, list: ['<', { deep: '>' }], o: { s: '"' } };
      expect(escapeView(view, xmlEscape)).to.deep.equal({
        a: 'x&amp;y',
        n: 5,
        b: true,
        z: null,
        list: ['&lt;', { deep: '&gt;' }],
        o: { s: '&quot;' },
      });
      expect(view.a).to.equal('x&y'); // input untouched
    });

    it('copies a "__proto__" key as data, never as a prototype', () => {
      const input = JSON.parse('{"__proto__": {"polluted": "yes"}, "k": "v"}') as Record<string, unknown>;
      const out = escapeView(input, (s) => s.toUpperCase()) as Record<string, unknown>;
      expect(Object.getPrototypeOf(out)).to.equal(Object.prototype);
      expect(Object.prototype.hasOwnProperty.call(out, '__proto__')).to.equal(true);
      expect(({} as Record<string, unknown>)['polluted']).to.equal(undefined);
      expect(out['k']).to.equal('V');
    });
  });
});
