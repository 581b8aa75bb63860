import { expect } from 'chai';
import fc from 'fast-check';
import { StreamFramer } from '../../../server/sip/framing.js';

const msg = (body = ''): string =>
  `SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP h;branch=z9hG4bKa\r\nCall-ID: x\r\nCSeq: 1 NOTIFY\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

const feed = (framer: StreamFramer, ...chunks: string[]): string[] | null => {
  const out: string[] = [];
  for (const c of chunks) {
    const r = framer.push(Buffer.from(c));
    if (r === null) return null;
    out.push(...r.map((b) => b.toString()));
  }
  return out;
};

describe('sip/framing StreamFramer', () => {
  it('frames by Content-Length, however the bytes are sliced', () => {
    const stream = msg('hello') + msg() + msg('x'.repeat(100));
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 20 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const chunks = [0, ...points].map((p, i) => stream.slice(p, points[i] ?? stream.length));
        expect(feed(new StreamFramer(), ...chunks)).to.deep.equal([msg('hello'), msg(), msg('x'.repeat(100))]);
      }),
    );
  });

  it('skips keep-alive CRLFs and understands the compact l:', () => {
    const compact = 'SIP/2.0 100 Trying\r\nl: 2\r\n\r\nab';
    expect(feed(new StreamFramer(), '\r\n\r\n', compact, '\r\n', msg())).to.deep.equal([compact, msg()]);
  });

  it('waits for the body before delivering', () => {
    const f = new StreamFramer();
    expect(feed(f, msg('body').slice(0, -2))).to.deep.equal([]);
    expect(feed(f, 'dy')).to.deep.equal([msg('body')]);
  });

  it('gives up (null) on a message larger than its buffer or a bad Content-Length', () => {
    expect(feed(new StreamFramer(1024), `SIP/2.0 200 OK\r\nX: ${'a'.repeat(2000)}`)).to.equal(null);
    expect(feed(new StreamFramer(1024), msg('a'.repeat(2000)))).to.equal(null);
    expect(feed(new StreamFramer(), msg().replace('Content-Length: 0', 'Content-Length: -5'))).to.equal(null);
    expect(feed(new StreamFramer(), msg().replace('Content-Length: 0', 'Content-Length: 1\r\nl: 2'))).to.equal(null);
    expect(feed(new StreamFramer(), msg().replace('CSeq', ' CSeq'))).to.deep.equal([msg().replace('CSeq', ' CSeq')]);
    expect(feed(new StreamFramer(), 'garbage\r\nno colon here\r\n\r\n')).to.equal(null);
  });

  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 3000 }), { maxLength: 10 }), (chunks) => {
        const f = new StreamFramer(4096);
        for (const c of chunks) if (f.push(c) === null) break;
      }),
    );
  });
});
