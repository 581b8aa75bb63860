import { expect } from 'chai';
import fc from 'fast-check';
import { buildNotify, formatRequestUri, parseResponse, splitHeaders, type NotifyMessage } from '../../../server/sip/message.js';

const base: NotifyMessage = {
  target: { host: '192.168.1.20', port: 5060, transport: 'udp' },
  local: { host: '10.0.0.1', port: 5070, transport: 'udp' },
  branch: 'z9hG4bK0123456789abcdef',
  fromTag: 'a1b2c3d4',
  callId: 'c0ffee00c0ffee00',
  cseq: 1,
  event: 'check-sync;reboot=true',
};

const crlf = (lines: string[]): string => `${lines.join('\r\n')}\r\n\r\n`;

describe('sip/message buildNotify', () => {
  it('produces the exact check-sync NOTIFY, CRLF-terminated', () => {
    expect(buildNotify(base)).to.equal(
      crlf([
        'NOTIFY sip:anonymous@192.168.1.20:5060 SIP/2.0',
        'Via: SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bK0123456789abcdef;rport',
        'Max-Forwards: 70',
        'From: <sip:deskprov@10.0.0.1:5070>;tag=a1b2c3d4',
        'To: <sip:anonymous@192.168.1.20:5060>',
        'Call-ID: c0ffee00c0ffee00',
        'CSeq: 1 NOTIFY',
        'Contact: <sip:deskprov@10.0.0.1:5070>',
        'Event: check-sync;reboot=true',
        'Subscription-State: terminated',
        'User-Agent: deskprov',
        'Content-Length: 0',
      ]),
    );
  });

  it('names the transport in the Request-URI and Via, brackets IPv6, adds credentials', () => {
    const text = buildNotify({
      ...base,
      target: { host: '2001:db8::7', port: 5061, transport: 'tls' },
      user: '1001',
      local: { host: '10.0.0.1', port: 40123, transport: 'tcp' },
      cseq: 2,
      event: 'check-sync',
      credentials: [{ header: 'Authorization', value: 'Digest username="1001", response="abc"' }],
    });
    const lines = text.split('\r\n');
    expect(lines[0]).to.equal('NOTIFY sip:1001@[2001:db8::7]:5061;transport=tls SIP/2.0');
    expect(lines).to.include('Via: SIP/2.0/TCP 10.0.0.1:40123;branch=z9hG4bK0123456789abcdef;rport');
    expect(lines).to.include('Contact: <sip:deskprov@10.0.0.1:40123;transport=tcp>');
    expect(lines).to.include('CSeq: 2 NOTIFY');
    expect(lines).to.include('Authorization: Digest username="1001", response="abc"');
    expect(text.endsWith('Content-Length: 0\r\n\r\n')).to.equal(true);
    expect(text.replace(/\r\n/g, '')).to.not.contain('\n');
  });

  it('formats the Request-URI the digest `uri` must repeat', () => {
    expect(formatRequestUri({ host: '10.0.0.5', port: 5062, transport: 'tcp' }, 'phone1')).to.equal('sip:phone1@10.0.0.5:5062;transport=tcp');
  });

  for (const [what, patch] of [
    ['CRLF in the event', { event: 'check-sync\r\nX-Evil: 1' }],
    ['a space in the event', { event: 'check sync' }],
    ['a branch without the magic cookie', { branch: 'abc' }],
    ['a user with CRLF', { user: 'a\r\nb' }],
    ['a host with spaces', { target: { host: '1.2.3.4 x', port: 5060, transport: 'udp' as const } }],
    ['CSeq 0', { cseq: 0 }],
    ['credentials with LF', { credentials: [{ header: 'Authorization' as const, value: 'Digest a\nb' }] }],
  ] as const) {
    it(`refuses to build with ${what}`, () => expect(() => buildNotify({ ...base, ...patch })).to.throw(RangeError));
  }
});

const ok200 = crlf([
  'SIP/2.0 200 OK',
  'Via: SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bK0123456789abcdef;rport=5070;received=10.0.0.1',
  'From: <sip:deskprov@10.0.0.1:5070>;tag=a1b2c3d4',
  'To: <sip:anonymous@192.168.1.20:5060>;tag=1234SIPpTag011',
  'Call-ID: c0ffee00c0ffee00',
  'CSeq: 1 NOTIFY',
  'X-Seen-Event: check-sync',
  'Content-Length: 0',
]);

describe('sip/message parseResponse', () => {
  it('reads a 200 OK as a phone sends it', () => {
    expect(parseResponse(Buffer.from(ok200))).to.deep.equal({
      status: 200, reason: 'OK', branch: 'z9hG4bK0123456789abcdef', cseq: { seq: 1, method: 'NOTIFY' },
      callId: 'c0ffee00c0ffee00', wwwAuthenticate: [], proxyAuthenticate: [],
    });
  });

  it('reads a 401 with two challenges and a 407', () => {
    const r401 = parseResponse(ok200
      .replace('200 OK', '401 Unauthorized')
      .replace('Content-Length: 0', 'WWW-Authenticate: Digest realm="phone.test", nonce="1n1x", qop="auth", algorithm=SHA-256\r\n' +
        'WWW-Authenticate: Digest realm="phone.test", nonce="1n1x", qop="auth", algorithm=MD5\r\nContent-Length: 0'));
    expect(r401?.status).to.equal(401);
    expect(r401?.wwwAuthenticate).to.have.length(2);
    expect(r401?.wwwAuthenticate[1]).to.equal('Digest realm="phone.test", nonce="1n1x", qop="auth", algorithm=MD5');
    const r407 = parseResponse(ok200.replace('200 OK', '407 Proxy Authentication Required')
      .replace('Content-Length: 0', 'Proxy-Authenticate: Digest realm="pbx", nonce="x"\r\nContent-Length: 0'));
    expect(r407?.proxyAuthenticate).to.deep.equal(['Digest realm="pbx", nonce="x"']);
  });

  it('reads a 100 Trying, a UTF-8 reason phrase, and an empty reason', () => {
    expect(parseResponse(ok200.replace('200 OK', '100 Trying'))?.status).to.equal(100);
    expect(parseResponse(Buffer.from(ok200.replace('200 OK', '486 Occupé')))?.reason).to.equal('Occupé');
    expect(parseResponse(ok200.replace('200 OK', '200 '))?.reason).to.equal('');
  });

  it('understands compact headers, folding and leading keep-alive CRLFs', () => {
    const compact = crlf([
      'SIP/2.0 200 OK',
      'v: SIP/2.0/UDP 10.0.0.1:5070',
      ' ;branch=z9hG4bKcompact',
      'i: abc@host',
      'f: <sip:a@b>;tag=1',
      't: <sip:c@d>',
      'CSeq : 7 notify',
      'l: 4',
    ]);
    expect(parseResponse(`\r\n\r\n${compact}body`)).to.deep.include({
      branch: 'z9hG4bKcompact', callId: 'abc@host', cseq: { seq: 7, method: 'NOTIFY' },
    });
  });

  it('takes the branch of the top Via only', () => {
    const two = ok200.replace(/Via: [^\r]*/, 'Via: SIP/2.0/UDP a;branch=z9hG4bKtop, SIP/2.0/UDP b;branch=z9hG4bKsecond\r\nVia: SIP/2.0/UDP c;branch=z9hG4bKthird');
    expect(parseResponse(two)?.branch).to.equal('z9hG4bKtop');
  });

  const hostile: Array<[string, string | Buffer]> = [
    ['an empty datagram', ''],
    ['a keep-alive', '\r\n\r\n'],
    ['a truncated response', ok200.slice(0, 80)],
    ['LF-only line endings', ok200.replace(/\r\n/g, '\n')],
    ['no final empty line', ok200.slice(0, -2)],
    ['a request line', ok200.replace('SIP/2.0 200 OK', 'NOTIFY sip:deskprov@10.0.0.1 SIP/2.0')],
    ['SIP/3.0', ok200.replace('SIP/2.0 200', 'SIP/3.0 200')],
    ['status 099', ok200.replace('200 OK', '099 Low')],
    ['status 700', ok200.replace('200 OK', '700 High')],
    ['status 2000', ok200.replace('200 OK', '2000 OK')],
    ['a NUL in the status line', ok200.replace('200 OK', '200 O\0K')],
    ['no Via', ok200.replace(/Via: [^\r]*\r\n/, '')],
    ['a Via without branch', ok200.replace(/;branch=[^;]*/, '')],
    ['a Via with only __proto__', ok200.replace(/;branch=[^;]*/, ';__proto__=x')],
    ['no Call-ID', ok200.replace(/Call-ID: [^\r]*\r\n/, '')],
    ['no CSeq', ok200.replace(/CSeq: [^\r]*\r\n/, '')],
    ['a CSeq without method', ok200.replace('CSeq: 1 NOTIFY', 'CSeq: 1')],
    ['a CSeq with an 11-digit number', ok200.replace('CSeq: 1 NOTIFY', 'CSeq: 12345678901 NOTIFY')],
    ['a header line without a colon', ok200.replace('X-Seen-Event: check-sync', 'garbage')],
    ['a header name with a space', ok200.replace('X-Seen-Event:', 'X Seen:')],
    ['folding before the first header', ok200.replace('\r\nVia', '\r\n Via')],
    ['a body shorter than Content-Length', ok200.replace('Content-Length: 0', 'Content-Length: 10')],
    ['a negative Content-Length', ok200.replace('Content-Length: 0', 'Content-Length: -1')],
    ['two different Content-Lengths', ok200.replace('Content-Length: 0', 'Content-Length: 0\r\nl: 3')],
    ['more than 8 KB', ok200.replace('X-Seen-Event: check-sync', `X-Pad: ${'a'.repeat(8200)}`)],
    ['random binary', Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 7919) % 256))],
  ];
  for (const [what, input] of hostile) {
    it(`returns null for ${what}`, () => expect(parseResponse(input)).to.equal(null));
  }

  it('makes __proto__ / constructor headers harmless', () => {
    const evil = ok200.replace(
      'X-Seen-Event: check-sync',
      '__proto__: {"polluted":1}\r\nconstructor: x\r\nprototype: y\r\nhasOwnProperty: z',
    ).replace(';rport=5070', ';__proto__=1;constructor=2;rport=5070');
    const r = parseResponse(evil);
    expect(r?.status).to.equal(200);
    expect(r?.branch).to.equal('z9hG4bK0123456789abcdef');
    expect(({} as Record<string, unknown>)['polluted']).to.equal(undefined);
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).to.equal(false);
  });

  it('never throws, whatever the bytes (property)', () => {
    const lines = fc.constantFrom('SIP/2.0 200 OK', 'Via: SIP/2.0/UDP h;branch=z9hG4bKx', 'CSeq: 1 NOTIFY', 'Call-ID: a',
      'i: b', 'l: 2', 'Content-Length: 99', ' folded', '__proto__: 1', 'v: x;branch=', ':', '', 'WWW-Authenticate: Digest');
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 2048 }).map((a) => Buffer.from(a)),
          fc.string({ maxLength: 512 }),
          fc.array(lines, { maxLength: 30 }).map((a) => a.join('\r\n')),
          fc.array(lines, { maxLength: 30 }).map((a) => `${a.join('\r\n')}\r\n\r\n`),
        ),
        (input) => {
          const r = parseResponse(input);
          if (r !== null) expect(r.status).to.be.within(100, 699);
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('parses in linear time: 8 KB of crafted header costs about 8× 1 KB or less', function () {
    this.timeout(60_000); // CPU time is measured, but a loaded box still stretches the wall clock
    // Shapes that make naive parsers quadratic: endless Via params, endless folding,
    // thousands of tiny headers, a long line without a colon, a long reason phrase.
    const shapes: Array<(n: number) => string> = [
      (n) => ok200.replace(';rport=5070', ';x'.repeat(n / 2)),
      (n) => ok200.replace('X-Seen-Event: check-sync', `X-Fold: a${'\r\n b'.repeat(n / 4)}`),
      (n) => ok200.replace('X-Seen-Event: check-sync', 'a:b\r\n'.repeat(n / 5).slice(0, -2)),
      (n) => ok200.replace('X-Seen-Event: check-sync', 'x'.repeat(n)),
      (n) => ok200.replace('200 OK', `200 ${'O'.repeat(n)}`),
    ];
    const budget = 7700; // stays under the 8 KB cap once the 200 OK around it is added
    for (const shape of shapes) {
      const small = Buffer.from(shape(budget / 8));
      const large = Buffer.from(shape(budget));
      expect(large.length).to.be.within(7 * 1024, 8 * 1024);
      const ratio = costRatio(() => parseResponse(small), () => parseResponse(large), { trials: 9, runs: 40 });
      // Linear work measures 2–8 here. This catches gross blowups (backtracking regexes, a
      // re-scan per line); a mild quadratic term hides under fixed costs at 8 KB, hence the
      // 128 KB test below.
      expect(ratio, `shape ${shapes.indexOf(shape)}`).to.be.below(24);
    }
  });

  it('splits headers in linear time beyond the cap too (128 KB vs 16 KB, used by stream framing)', function () {
    this.timeout(60_000);
    // Within 8 KB even a quadratic bug stays cheap; at 128 KB quadratic folding measured ~49×
    // against ~8× for this implementation.
    const shapes: Array<(n: number) => string> = [
      (n) => `X-Fold: a${'\r\n b'.repeat(n / 4)}`,
      (n) => 'a:b\r\n'.repeat(n / 5).slice(0, -2),
      (n) => `Via: SIP/2.0/UDP h${';x'.repeat(n / 2)}`,
    ];
    for (const shape of shapes) {
      const small = shape(16 * 1024);
      const large = shape(128 * 1024);
      const ratio = costRatio(() => splitHeaders(small), () => splitHeaders(large), { trials: 7, runs: 3 });
      expect(ratio, `shape ${shapes.indexOf(shape)}`).to.be.below(24);
    }
  });
});

/**
 * Cost of `large` relative to `small`, in CPU time of this process (process.cpuUsage), so other
 * processes competing for the CPU do not count. Each side is timed in interleaved batches and
 * the cheapest batch is kept: GC pauses only ever make a batch dearer.
 */
function costRatio(small: () => unknown, large: () => unknown, opts: { trials: number; runs: number }): number {
  const cpu = (fn: () => unknown, runs: number): number => {
    const start = process.cpuUsage();
    for (let i = 0; i < runs; i++) fn();
    const used = process.cpuUsage(start);
    return (used.user + used.system) / runs;
  };
  let bestSmall = Infinity;
  let bestLarge = Infinity;
  for (let trial = 0; trial < opts.trials; trial++) {
    // The small input runs 8× as often, so both batches are long enough to measure in µs.
    bestSmall = Math.min(bestSmall, cpu(small, opts.runs * 8));
    bestLarge = Math.min(bestLarge, cpu(large, opts.runs));
  }
  return bestLarge / bestSmall;
}
