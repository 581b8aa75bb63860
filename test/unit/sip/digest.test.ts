import { expect } from 'chai';
import fc from 'fast-check';
import {
  authorizationHeader,
  digestResponse,
  parseDigestChallenge,
  pickChallenge,
  type DigestChallenge,
} from '../../../server/sip/digest.js';

describe('sip/digest', () => {
  describe('known-answer vectors', () => {
    it('RFC 2617 §3.5: MD5, qop=auth (Mufasa / Circle Of Life)', () => {
      const challenge = parseDigestChallenge(
        'Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
      );
      expect(challenge).to.not.equal(null);
      const creds = { username: 'Mufasa', password: 'Circle Of Life', method: 'GET', uri: '/dir/index.html', cnonce: '0a4f113b' };
      expect(digestResponse(challenge as DigestChallenge, creds)).to.equal('6629fae49393a05397450978507c4ef1');
      expect(authorizationHeader(challenge as DigestChallenge, creds)).to.equal(
        'Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", ' +
          'uri="/dir/index.html", response="6629fae49393a05397450978507c4ef1", algorithm=MD5, cnonce="0a4f113b", ' +
          'opaque="5ccc069c403ebaf9f0171e9517f40e41", qop=auth, nc=00000001',
      );
    });

    // RFC 7616 §3.9.1: the same request answered with SHA-256 and with MD5.
    const rfc7616 = (algorithm: string): string =>
      `Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=${algorithm}, ` +
      'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"';
    const creds7616 = {
      username: 'Mufasa', password: 'Circle of Life', method: 'GET', uri: '/dir/index.html',
      cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ', nc: 1,
    };
    it('RFC 7616 §3.9.1: SHA-256', () => {
      const c = parseDigestChallenge(rfc7616('SHA-256')) as DigestChallenge;
      expect(c.algorithm).to.equal('SHA-256');
      expect(digestResponse(c, creds7616)).to.equal('753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
    });
    it('RFC 7616 §3.9.1: MD5', () => {
      const c = parseDigestChallenge(rfc7616('MD5')) as DigestChallenge;
      expect(digestResponse(c, creds7616)).to.equal('8ca523f5e9506fed4657c9700eebdbec');
    });

    it('RFC 2617 legacy form without qop: response = H(HA1:nonce:HA2), no cnonce/nc sent', () => {
      const c = parseDigestChallenge('Digest realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093"') as DigestChallenge;
      expect(c.qop).to.equal(null);
      const creds = { username: 'Mufasa', password: 'Circle Of Life', method: 'GET', uri: '/dir/index.html', cnonce: 'x' };
      // MD5(MD5("Mufasa:testrealm@host.com:Circle Of Life") ":" nonce ":" MD5("GET:/dir/index.html"))
      expect(digestResponse(c, creds)).to.equal('670fd8c2df070c60b045671b8b24ff02');
      const header = authorizationHeader(c, creds);
      expect(header).to.not.match(/cnonce|nc=|qop/);
    });
  });

  describe('parseDigestChallenge', () => {
    it('reads what a phone sends, with the defaults filled in', () => {
      expect(parseDigestChallenge('Digest realm="phone.test", nonce="123n1x5f3a9c", qop="auth", algorithm=MD5')).to.deep.equal({
        realm: 'phone.test', nonce: '123n1x5f3a9c', algorithm: 'MD5', qop: 'auth', opaque: null, stale: false,
      });
      expect(parseDigestChallenge('digest  nonce=abc,realm="r",stale=TRUE,algorithm=sha-256-sess')).to.deep.equal({
        realm: 'r', nonce: 'abc', algorithm: 'SHA-256-sess', qop: null, opaque: null, stale: true,
      });
    });

    it('unescapes quoted-pairs and keeps commas inside quotes', () => {
      const c = parseDigestChallenge('Digest realm="a \\"b\\", c", nonce="n,1"');
      expect(c?.realm).to.equal('a "b", c');
      expect(c?.nonce).to.equal('n,1');
    });

    it('quotes special characters back when answering', () => {
      const c = parseDigestChallenge('Digest realm="a \\"b\\\\", nonce="n"') as DigestChallenge;
      const h = authorizationHeader(c, { username: 'u"1', password: 'p', method: 'NOTIFY', uri: 'sip:x@h', cnonce: 'c' });
      expect(h).to.contain('username="u\\"1"').and.contain('realm="a \\"b\\\\"');
    });

    const garbage = [
      '', 'Basic realm="x"', 'Digest', 'Digest ', 'Digestrealm="x", nonce="y"', 'Digest realm="x"',
      'Digest nonce="y"', 'Digest realm="x", nonce=""', 'Digest realm="x", nonce="y", algorithm=SHA-512',
      'Digest realm="x", nonce="y", qop="auth-int"', 'Digest realm="x, nonce="y"', 'Digest realm=, nonce=y',
      'Digest realm="x" nonce="y"', 'Digest realm="x",, nonce="y"', 'Digest ="x"', 'Digest realm="x\ny", nonce="n"',
      `Digest realm="x", nonce="${'n'.repeat(5000)}"`, 'Digest realm="x", nonce="y", __proto__="polluted"x',
    ];
    for (const g of garbage) {
      it(`returns null for ${JSON.stringify(g.slice(0, 50))}`, () => expect(parseDigestChallenge(g)).to.equal(null));
    }

    it('treats __proto__ and constructor as ordinary (ignored) parameters', () => {
      const c = parseDigestChallenge('Digest __proto__="x", constructor=y, realm="r", nonce="n"');
      expect(c?.realm).to.equal('r');
      expect(({} as Record<string, unknown>)['x']).to.equal(undefined);
    });

    it('never throws on arbitrary input', () => {
      const fragments = fc.constantFrom('Digest ', 'realm', 'nonce', '=', '"', '\\', ',', ' ', 'qop="auth"', 'x', 'stale=true');
      fc.assert(
        fc.property(fc.oneof(fc.string(), fc.array(fragments, { maxLength: 40 }).map((a) => a.join(''))), (s) => {
          const c = parseDigestChallenge(s);
          if (c !== null) expect(c.nonce).to.not.equal('');
        }),
        { numRuns: 3000 },
      );
    });
  });

  it('pickChallenge prefers SHA-256 over MD5 and skips what it cannot answer (RFC 8760)', () => {
    const md5 = 'Digest realm="r", nonce="n1", algorithm=MD5';
    const sha = 'Digest realm="r", nonce="n2", algorithm=SHA-256';
    expect(pickChallenge([md5, sha])?.nonce).to.equal('n2');
    expect(pickChallenge(['Basic realm="r"', md5])?.nonce).to.equal('n1');
    expect(pickChallenge(['Digest realm="r", nonce="n", algorithm=AKAv1-MD5'])).to.equal(null);
  });
});
