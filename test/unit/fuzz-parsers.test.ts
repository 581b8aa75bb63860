/**
 * Every parser that reads the network, fed random and hostile input: none throws, and each
 * stays linear (10× the input never costs anywhere near 100× the time).
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { parseMac } from '../../server/domain/mac.js';
import { AppError } from '../../server/errors.js';
import { macInText } from '../../server/http/client-cert.js';
import { parseAuthorization } from '../../server/http/digest-server.js';
import { SYSTEM } from '../../server/services/audit.js';
import { parseCidr } from '../../server/services/network-allowlist.js';
import { parseDigestChallenge } from '../../server/sip/digest.js';
import { parseResponse } from '../../server/sip/message.js';
import { matchFile, parseUserAgent } from '../../vendors/registry.js';
import { createHarness, type Harness } from '../helpers/harness.js';

const RUNS = 500;
/** Text with the characters these formats care about over-represented. */
const spicy = (max: number) =>
  fc.oneof(
    fc.string({ maxLength: max }),
    fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF:-.,;=" \\\t\r\n/%\0<>()[]@SIPDigestBasic'.split('')), maxLength: max }),
    fc.string({ unit: 'binary', maxLength: max }),
  );

function neverThrows<T>(name: string, arb: fc.Arbitrary<T>, fn: (x: T) => unknown): void {
  it(`${name} never throws`, () => {
    fc.assert(fc.property(arb, (x) => void fn(x)), { numRuns: RUNS });
  });
}

describe('fuzz: network parsers never throw', () => {
  neverThrows('parseMac', spicy(40), parseMac);
  neverThrows('matchFile (vendor file names)', fc.oneof(spicy(80), fc.tuple(fc.constantFrom('', 'cfg', 'y0000000000'), fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF'.split('')), maxLength: 14 }), fc.constantFrom('.cfg', '.xml', '-phone.cfg', '-app.log', '.boot', '')).map((p) => p.join(''))), matchFile);
  neverThrows('parseUserAgent', fc.oneof(spicy(600), fc.tuple(fc.constantFrom('Yealink SIP-', 'FileTransport PolycomVVX-', 'Sangoma ', 'PolycomVVX-'), spicy(200)).map((p) => p.join(''))), parseUserAgent);
  neverThrows('parseResponse (SIP)', fc.oneof(spicy(2000), spicy(200).map((s) => `SIP/2.0 401 Unauthorized\r\n${s}\r\n\r\n`)), parseResponse);
  neverThrows('parseDigestChallenge (SIP client)', fc.oneof(spicy(500), spicy(300).map((s) => `Digest ${s}`)), parseDigestChallenge);
  neverThrows('parseAuthorization (download auth)', fc.oneof(spicy(500), spicy(300).map((s) => `Digest ${s}`), spicy(100).map((s) => `Basic ${Buffer.from(s).toString('base64')}`)), parseAuthorization);
  neverThrows('macInText (client certificates)', spicy(300), macInText);
  neverThrows('parseCidr', spicy(70), parseCidr);

  it('parseAuthorization round-trips any quoted values a phone may send', () => {
    const value = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 });
    fc.assert(
      fc.property(value, value, (username, realm) => {
        const q = (s: string) => `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
        const header = `Digest username=${q(username)}, realm=${q(realm)}, nonce="n", uri="/x.cfg", algorithm=SHA-256, qop=auth, nc=00000001, cnonce="c", response="${'a'.repeat(64)}"`;
        const a = parseAuthorization(header);
        expect(a).to.include({ scheme: 'digest', username, realm });
      }),
      { numRuns: RUNS },
    );
  });
});

describe('fuzz: CSV import answers random text with a 4xx AppError only', () => {
  let h: Harness;
  before(() => {
    h = createHarness();
  });
  after(() => h.destroy());
  const header = 'mac,vendor,model,label,ownerExtension,hotdeskEnabled,location\n';

  it('never throws anything but a 4xx AppError, and writes nothing on failure', () => {
    const csv = fc.oneof(spicy(400), spicy(400).map((s) => header + s), fc.array(fc.array(spicy(20), { maxLength: 8 }).map((r) => r.join(',')), { maxLength: 6 }).map((rows) => header + rows.join('\n')));
    fc.assert(
      fc.property(csv, fc.boolean(), (text, dryRun) => {
        const before = h.ctx.stores.devices.list().length;
        try {
          h.ctx.csv.import(text, SYSTEM, { dryRun });
        } catch (err) {
          if (!(err instanceof AppError) || err.status < 400 || err.status >= 500) throw err;
          expect(h.ctx.stores.devices.list().length).to.equal(before);
        }
      }),
      { numRuns: 300 },
    );
  });
});

/** Best of several runs of `reps` calls, in ms. */
function timeOf(fn: () => unknown, reps: number): number {
  let best = Infinity;
  for (let run = 0; run < 7; run++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < reps; i++) fn();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return best;
}

/** `make(n)` builds an input of size ~n; the 10× input may cost at most 30× (linear is ~10×). */
function linear(name: string, make: (n: number) => string, parse: (s: string) => unknown, n: number): void {
  it(`${name} is linear in its input`, () => {
    const small = make(n);
    const big = make(n * 10);
    const reps = Math.max(20, Math.round(20_000 / Math.max(1, small.length)));
    for (let i = 0; i < 50; i++) { parse(small); parse(big); } // warm up the JIT
    const ratio = timeOf(() => parse(big), reps) / Math.max(timeOf(() => parse(small), reps), 1e-3);
    expect(ratio, `${name}: 10× input took ${ratio.toFixed(1)}× the time`).to.be.lessThan(30);
  });
}

describe('fuzz: parsers stay linear on hostile input', function () {
  this.timeout(60_000);
  linear('parseAuthorization (quoted pairs)', (n) => `Digest username="${'\\a'.repeat(n / 2)}"`, parseAuthorization, 200);
  linear('parseAuthorization (many params)', (n) => `Digest ${'ab=cd, '.repeat(n / 7)}`, parseAuthorization, 200);
  linear('parseDigestChallenge', (n) => `Digest realm="${'\\"'.repeat(n / 2)}", ${'x=y,'.repeat(n / 4)}`, parseDigestChallenge, 300);
  linear('parseUserAgent', (n) => `Yealink SIP-T46U ${'1.'.repeat(n / 2)}x ${'0:'.repeat(n / 4)}`, parseUserAgent, 40);
  linear('parseResponse', (n) => `SIP/2.0 401 Unauthorized\r\nVia: ${'a;'.repeat(n / 2)}\r\nWWW-Authenticate: Digest ${'a=b,'.repeat(n / 8)}\r\n\r\n`, parseResponse, 600);
  linear('macInText', (n) => '0:'.repeat(n / 2), macInText, 20);
  linear('matchFile', (n) => `${'0'.repeat(n)}.cfg`, matchFile, 6);
});
