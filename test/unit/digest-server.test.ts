import { expect } from 'chai';
import {
  challenges,
  checkNonce,
  expectedDigest,
  makeNonce,
  parseAuthorization,
  uriNames,
  type DigestAuthorization,
} from '../../server/http/digest-server.js';
import { macFromCertificate, macInText } from '../../server/http/client-cert.js';
import { Allowlist, parseCidr } from '../../server/services/network-allowlist.js';

describe('digest-server (download auth, server side)', () => {
  it('RFC 2617 §3.5 known answer (MD5, qop=auth)', () => {
    const a = parseAuthorization(
      'Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", ' +
        'qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
    ) as DigestAuthorization;
    expect(a).to.include({ scheme: 'digest', username: 'Mufasa', algorithm: 'MD5', nc: '00000001' });
    expect(expectedDigest(a, 'Circle Of Life', 'GET')).to.equal(a.response);
    expect(expectedDigest(a, 'Circle of Life', 'GET')).to.not.equal(a.response);
    expect(expectedDigest(a, 'Circle Of Life', 'PUT')).to.not.equal(a.response);
  });

  it('RFC 7616 §3.9.1 known answer (SHA-256)', () => {
    const a = parseAuthorization(
      'Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", algorithm=SHA-256, ' +
        'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth, ' +
        'response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
    ) as DigestAuthorization;
    expect(a.algorithm).to.equal('SHA-256');
    expect(expectedDigest(a, 'Circle of Life', 'GET')).to.equal(a.response);
  });

  it('Basic, and what is refused', () => {
    expect(parseAuthorization(`Basic ${Buffer.from('dpAbc:pw:with:colons').toString('base64')}`)).to.deep.equal({ scheme: 'basic', username: 'dpAbc', password: 'pw:with:colons' });
    for (const bad of [
      '', 'Bearer x', 'Basic', 'Basic !!!', `Basic ${Buffer.from('nocolon').toString('base64')}`,
      'Digest username="a"', // missing fields
      'Digest username="a", realm="r", nonce="n", uri="/x", response="00", qop=auth, nc=00000001, cnonce="c"', // short response
      'Digest username="a", realm="r", nonce="n", uri="/x", response="6629fae49393a05397450978507c4ef1", nc=00000001, cnonce="c"', // no qop
      'Digest username="a", realm="r", nonce="n", uri="/x", response="6629fae49393a05397450978507c4ef1", qop=auth-int, nc=00000001, cnonce="c"',
      'Digest username="a", username="b", realm="r", nonce="n", uri="/x", response="6629fae49393a05397450978507c4ef1", qop=auth, nc=00000001, cnonce="c"',
      'Digest username="a\nb", realm="r", nonce="n", uri="/x", response="6629fae49393a05397450978507c4ef1", qop=auth, nc=00000001, cnonce="c"',
      'Digest username="a", realm="r", nonce="n", uri="/x", response="6629fae49393a05397450978507c4ef1", qop=auth, nc=00000001, cnonce="c", algorithm=MD5-sess',
      `Digest ${'a=b,'.repeat(1000)}`,
    ]) {
      expect(parseAuthorization(bad), bad.slice(0, 60)).to.equal(null);
    }
  });

  it('nonces: valid while fresh, stale after their lifetime, invalid when forged or for another realm', () => {
    const secret = Buffer.alloc(32, 7);
    const n = makeNonce(secret, 'deskprov', 1_000_000);
    expect(checkNonce(secret, 'deskprov', n, 1_000_000 + 299_000, 300_000)).to.equal('valid');
    expect(checkNonce(secret, 'deskprov', n, 1_000_000 + 301_000, 300_000)).to.equal('stale');
    expect(checkNonce(Buffer.alloc(32, 8), 'deskprov', n, 1_000_000, 300_000)).to.equal('invalid');
    expect(checkNonce(secret, 'other', n, 1_000_000, 300_000)).to.equal('invalid');
    expect(checkNonce(secret, 'deskprov', `zz${n}`, 1_000_000, 300_000)).to.equal('invalid');
    expect(checkNonce(secret, 'deskprov', makeNonce(secret, 'deskprov', 2_000_000), 1_000_000, 300_000)).to.equal('invalid');
  });

  it('challenges: MD5, SHA-256, then Basic; realm quoted', () => {
    const c = challenges('Acme "HQ"', 'n1', { stale: true, basic: true });
    expect(c).to.have.length(3);
    expect(c[0]).to.equal('Digest realm="Acme \\"HQ\\"", qop="auth", algorithm=MD5, nonce="n1", stale=true');
    expect(c[2]).to.equal('Basic realm="Acme \\"HQ\\"", charset="UTF-8"');
    expect(challenges('r', 'n', { stale: false, basic: false })).to.have.length(2);
  });

  it('digest uri must name the requested file', () => {
    expect(uriNames('/001565aabbcc.cfg', '001565aabbcc.cfg')).to.equal(true);
    expect(uriNames('http://prov:8080/001565aabbcc.cfg?x=1', '001565aabbcc.cfg')).to.equal(true);
    expect(uriNames('/0004f2aabbcc.cfg', '001565aabbcc.cfg')).to.equal(false);
  });
});

describe('client certificate MAC and CIDR allowlists', () => {
  it('finds the MAC in a CN or subjectAltName, in any usual spelling', () => {
    expect(macFromCertificate({ subject: { CN: '001565AABBCC' } })).to.equal('001565aabbcc');
    expect(macFromCertificate({ subject: { CN: 'Yealink T46U 00:15:65:aa:bb:cc' } })).to.equal('001565aabbcc');
    expect(macFromCertificate({ subject: { CN: 'phone' }, subjectaltname: 'DNS:x.example, DNS:00-04-f2-aa-bb-cc.phones' })).to.equal('0004f2aabbcc');
    expect(macFromCertificate({ subject: { CN: 'no mac here' } })).to.equal(null);
    expect(macInText('0123456789abcdef')).to.equal(null); // a longer hex run is not a MAC
    expect(macFromCertificate(null)).to.equal(null);
  });

  it('parses CIDRs and checks addresses with net.BlockList', () => {
    expect(parseCidr('10.0.0.0/8')).to.deep.equal({ address: '10.0.0.0', prefix: 8, family: 'ipv4' });
    expect(parseCidr('2001:db8::/32')?.family).to.equal('ipv6');
    for (const bad of ['10.0.0.0/33', '10.0.0/8', 'host/8', '::/129', '10.0.0.0/', '10.0.0.0/8/8']) expect(parseCidr(bad), bad).to.equal(null);
    const a = new Allowlist(['10.0.0.0/8', '2001:db8::/32', '192.0.2.7']);
    expect(a.allows('10.1.2.3')).to.equal(true);
    expect(a.allows('11.0.0.1')).to.equal(false);
    expect(a.allows('2001:db8::1')).to.equal(true);
    expect(a.allows('192.0.2.7')).to.equal(true);
    expect(a.allows('192.0.2.8')).to.equal(false);
    expect(a.allows('not-an-ip')).to.equal(false);
    expect(new Allowlist([]).allows('anything')).to.equal(true);
  });
});
