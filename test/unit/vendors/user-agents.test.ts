import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import fc from 'fast-check';
import { getVendor, parseUserAgent, vendorForOui, vendorsForOui } from '../../../vendors/registry.js';
import type { Mac } from '../../../server/domain/mac.js';

interface UaCase {
  ua: string;
  vendor: string;
  model: string | null;
  firmware: string | null;
  mac: string | null;
}

/** Copied from shared/fixtures/user-agents.jsonl: User-Agents captured from real phones. */
const CASES: UaCase[] = readFileSync(new URL('../../fixtures/user-agents.jsonl', import.meta.url), 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l) as UaCase);

describe('User-Agent parsing', () => {
  it('the fixture has cases for every vendor family', () => {
    expect(CASES.length).to.be.greaterThan(15);
    expect(new Set(CASES.map((c) => c.vendor))).to.include.members(['yealink', 'polycom', 'sangoma-p']);
  });

  for (const c of CASES) {
    it(`${c.ua} → ${c.vendor} ${c.model ?? '-'} ${c.firmware ?? '-'} ${c.mac ?? '-'}`, () => {
      expect(parseUserAgent(c.ua)).to.deep.equal({ vendor: c.vendor, model: c.model, firmware: c.firmware, mac: c.mac });
      // The vendor's own parser gives the same answer; the others do not claim it.
      expect(getVendor(c.vendor)?.parseUserAgent(c.ua)).to.deep.equal(parseUserAgent(c.ua));
    });
  }

  it('more real shapes: Polycom SIP UA, upper-case Yealink MAC, Sangoma S', () => {
    expect(parseUserAgent('PolycomVVX-VVX_450-UA/6.4.3.5017')).to.deep.equal({ vendor: 'polycom', model: 'VVX450', firmware: '6.4.3.5017', mac: null });
    expect(parseUserAgent('PolyEdge-Edge_E350-UA/8.3.1.0614_f04ea4691c59')).to.deep.include({ model: 'EdgeE350', firmware: '8.3.1.0614' });
    expect(parseUserAgent('Yealink SIP-T46U 108.86.0.20 00:15:65:AA:BB:CC')).to.deep.include({ model: 'T46U', mac: '001565aabbcc' });
    expect(parseUserAgent('Sangoma S505 2.0.4.30 000fd3aabbdd')).to.deep.equal({ vendor: 'sangoma-s', model: 'S505', firmware: '2.0.4.30', mac: '000fd3aabbdd' });
  });

  it('a User-Agent without a MAC, or with garbage in its place, gives mac null', () => {
    expect(parseUserAgent('Yealink SIP-T46U 108.86.0.20')?.mac).to.equal(null);
    expect(parseUserAgent('Yealink SIP-T46U 108.86.0.20 zz:zz:zz:zz:zz:zz')?.mac).to.equal(null);
    expect(parseUserAgent('FileTransport PolycomVVX-VVX_400-UA/4.1.4.7430 (SN:nothex) Type/Application')?.mac).to.equal(null);
  });

  it('other phones and browsers are nobody\'s', () => {
    for (const ua of [
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
      'Grandstream Model HW GXP2135 SW 1.0.7.97 DevId 000b828aa872',
      'curl/8.5.0',
      'Wget/1.21',
      'Sangoma',
      'Sangoma X100 1.0 000fd3aabbcc',
      'VP530',
      'VP530 not-a-version',
      'Polycom',
      'PolycomVVX',
    ]) {
      expect(parseUserAgent(ua), ua).to.equal(null);
    }
  });

  it('garbage → null, never throws: empty, 10 KB, binary, unicode', () => {
    const garbage = [
      '',
      ' ',
      'x'.repeat(10_000),
      'Yealink '.repeat(2_000),
      'Yealink SIP-' + 'T'.repeat(10_000),
      '\0\u0001\u0002\uFFFF\uD800',
      Buffer.from(Array.from({ length: 256 }, (_, i) => i)).toString('latin1'),
      '(SN:'.repeat(3000),
      'Poly-UA/'.repeat(2000),
    ];
    for (const ua of garbage) {
      const info = parseUserAgent(ua);
      if (info !== null) expect(info.vendor).to.be.a('string'); // "Yealink Yealink ..." is still a Yealink
      expect(info?.mac ?? null).to.equal(null);
    }
    expect(parseUserAgent('')).to.equal(null);
    expect(parseUserAgent('x'.repeat(10_000))).to.equal(null);
    expect(parseUserAgent(undefined as unknown as string)).to.equal(null);
  });

  it('linear time: a 10 KB hostile User-Agent parses quickly', () => {
    const started = process.hrtime.bigint();
    for (let i = 0; i < 200; i++) {
      parseUserAgent('Yealink SIP-T46U ' + '1.'.repeat(5_000));
      parseUserAgent('FileTransport Poly' + '-'.repeat(10_000) + 'UA/1');
    }
    expect(Number(process.hrtime.bigint() - started) / 1e6).to.be.lessThan(1_000);
  });

  it('property: never throws; any MAC it returns is 12 lowercase hex digits', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 600 }),
          fc.string({ unit: 'binary', maxLength: 200 }),
          fc.tuple(fc.constantFrom('Yealink SIP-', 'yealink ', 'FileTransport Polycom', 'Sangoma P', 'VP'), fc.string()).map(([a, b]) => a + b),
        ),
        (ua) => {
          const info = parseUserAgent(ua);
          if (info) {
            expect(getVendor(info.vendor)).to.not.equal(null);
            if (info.mac !== null) expect(info.mac).to.match(/^[0-9a-f]{12}$/);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('OUI hints', () => {
    expect(vendorForOui('001565aabbcc' as Mac)?.id).to.equal('yealink');
    expect(vendorForOui('805ec0d57d72' as Mac)?.id).to.equal('yealink');
    expect(vendorForOui('0004f2aabbcc' as Mac)?.id).to.equal('polycom');
    expect(vendorsForOui('000fd3aabbcc' as Mac).map((v) => v.id)).to.deep.equal(['sangoma-p', 'sangoma-s']);
    expect(vendorForOui('aabbccddeeff' as Mac)).to.equal(null);
    // Every fixture MAC hints its own vendor.
    for (const c of CASES) if (c.mac) expect(vendorForOui(c.mac as Mac)?.id, c.ua).to.equal(c.vendor);
  });
});
