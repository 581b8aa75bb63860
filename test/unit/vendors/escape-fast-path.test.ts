import { expect } from 'chai';
import fc from 'fast-check';
import { escapeView, keyValueValue, sanitizeXmlText, xmlEscape } from '../../../vendors/escape.js';
import { utcOffsetMinutes, zoneOffset } from '../../../vendors/derive.js';

/** The escapers' short cuts (no-op scans, memoised offsets) must not change a single output. */
describe('escaping and offsets: fast paths give the reference output', () => {
  const reference = (v: string) => sanitizeXmlText(v).replace(/[&<>"'\t\n\r]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '\t': '&#9;', '\n': '&#10;', '\r': '&#13;' })[c] ?? '');

  it('xmlEscape equals sanitize-then-replace for any string', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => xmlEscape(s) === reference(s)), { numRuns: 2000 });
    fc.assert(fc.property(fc.string({ unit: 'grapheme-ascii' }), (s) => xmlEscape(s) === reference(s)), { numRuns: 2000 });
    expect(xmlEscape('\uD800x\uFFFE<')).to.equal('x&lt;');
  });

  it('keyValueValue strips the same controls whether or not the fast scan finds one', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }).filter((s) => !/[\r\n\0]/.test(s)), (s) =>
        keyValueValue(s) === s.replace(/[\u0001-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u2028\u2029]/g, '')),
      { numRuns: 2000 },
    );
  });

  it('escapeView keeps a "__proto__" key as data and leaves the prototype alone', () => {
    const view = JSON.parse('{"a":{"__proto__":{"x":"<"}},"list":["&",1,null,true]}') as Record<string, unknown>;
    const out = escapeView(view, xmlEscape) as { a: Record<string, unknown>; list: unknown[] };
    expect(Object.getPrototypeOf(out.a)).to.equal(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(out.a, '__proto__')?.value).to.deep.equal({ x: '&lt;' });
    expect(out.list).to.deep.equal(['&amp;', 1, null, true]);
  });

  it('memoised offsets match a fresh computation on both sides of a DST change', () => {
    // New York springs forward at 07:00 UTC on 2024-03-10; Lord Howe (+10:30/+11) at 15:30 UTC on 2024-10-05.
    const f = (zone: string, iso: string) => utcOffsetMinutes(zone, new Date(iso));
    for (let round = 0; round < 2; round++) {
      expect(f('America/New_York', '2024-03-10T06:59:59Z')).to.equal(-300);
      expect(f('America/New_York', '2024-03-10T07:00:00Z')).to.equal(-240);
      expect(f('Australia/Lord_Howe', '2024-10-05T15:29:59Z')).to.equal(630);
      expect(f('Australia/Lord_Howe', '2024-10-05T15:30:00Z')).to.equal(660);
    }
    const a = zoneOffset('Europe/Berlin', 2024);
    a.standardMinutes = 0; // a caller mutating its copy does not poison the memo
    expect(zoneOffset('Europe/Berlin', 2024)).to.deep.equal({ standardMinutes: 60, observesDst: true });
  });
});
