import { expect } from 'chai';
import fc from 'fast-check';
import { isSipHost, isSipUser, parseSipUri } from '../../../server/sip/uri.js';

describe('sip/uri parseSipUri', () => {
  const ok: Array<[string, ReturnType<typeof parseSipUri>]> = [
    ['sip:192.168.1.20', { user: null, host: '192.168.1.20', port: 5060, transport: 'udp' }],
    ['sip:192.168.1.20:5062', { user: null, host: '192.168.1.20', port: 5062, transport: 'udp' }],
    ['sip:1001@phone-12.office.example:5070;transport=tcp', { user: '1001', host: 'phone-12.office.example', port: 5070, transport: 'tcp' }],
    ['sip:1001@10.0.0.5;transport=TLS', { user: '1001', host: '10.0.0.5', port: 5061, transport: 'tls' }],
    ['SIP:Phone.Example.COM', { user: null, host: 'phone.example.com', port: 5060, transport: 'udp' }],
    ['sips:10.0.0.5', { user: null, host: '10.0.0.5', port: 5061, transport: 'tls' }],
    ['sips:10.0.0.5:5071;transport=tcp', { user: null, host: '10.0.0.5', port: 5071, transport: 'tls' }],
    ['sip:[::1]', { user: null, host: '::1', port: 5060, transport: 'udp' }],
    ['sip:anonymous@[2001:DB8::10]:5080;transport=udp', { user: 'anonymous', host: '2001:db8::10', port: 5080, transport: 'udp' }],
    ['sip:john%20doe@10.0.0.5;user=phone;lr', { user: 'john%20doe', host: '10.0.0.5', port: 5060, transport: 'udp' }],
    ['sip:+15551234567@gw.example', { user: '+15551234567', host: 'gw.example', port: 5060, transport: 'udp' }],
  ];
  for (const [input, expected] of ok) {
    it(`parses ${input}`, () => expect(parseSipUri(input)).to.deep.equal(expected));
  }

  const junk = [
    '', '10.0.0.5', 'http://10.0.0.5', 'tel:+15551234567', 'sip:', 'sip:@10.0.0.5', 'sip:10.0.0.5:',
    'sip:10.0.0.5:0', 'sip:10.0.0.5:65536', 'sip:10.0.0.5:5060x', 'sip:10.0.0.5:-1', 'sip:10.0.0.5: 5060',
    ' sip:10.0.0.5', 'sip:10.0.0.5 ', 'sip:10.0.0.5\r\nVia: x', 'sip:user:secret@10.0.0.5',
    'sip:10.0.0.5;transport=sctp', 'sip:10.0.0.5;transport=ws', 'sips:10.0.0.5;transport=udp',
    'sip:10.0.0.5;transport=tcp;transport=udp', 'sip:10.0.0.5?subject=hi', 'sip:999.1.1.1',
    'sip:[::1', 'sip:[10.0.0.5]', 'sip:::1', 'sip:[::1]x', 'sip:-phone.example', 'sip:phone_1.example',
    'sip:a..b', 'sip:10.0.0.5;', 'sip:us"er@10.0.0.5', 'sip:%zz@10.0.0.5', `sip:${'a'.repeat(600)}.example`,
    'sip:<10.0.0.5>',
  ];
  for (const input of junk) {
    it(`rejects ${JSON.stringify(input.length > 40 ? `${input.slice(0, 40)}…` : input)}`, () =>
      expect(parseSipUri(input)).to.equal(null));
  }

  it('never throws, and anything it accepts has a valid host and port', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string().map((s) => `sip:${s}`), fc.string().map((s) => `sips:${s}@x`)), (s) => {
        const uri = parseSipUri(s);
        if (uri === null) return;
        expect(isSipHost(uri.host)).to.equal(true);
        expect(uri.port).to.be.within(1, 65535);
        if (uri.user !== null) expect(isSipUser(uri.user)).to.equal(true);
      }),
      { numRuns: 2000 },
    );
  });
});
