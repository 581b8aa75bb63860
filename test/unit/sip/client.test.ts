/** Behaviour of the NOTIFY client against a scripted UDP phone on 127.0.0.1. */
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { SipNotifyClient, type NotifyRequest } from '../../../server/sip/client.js';
import { FakeClock, UdpPeer, WatchingLogger, answer, flush, header } from './helpers.js';

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
const challenge = (nonce: string, extra = ''): string =>
  `WWW-Authenticate: Digest realm="phone.test", nonce="${nonce}", qop="auth", algorithm=MD5${extra}`;
const param = (auth: string, name: string): string | undefined =>
  new RegExp(`(?:^|[ ,])${name}="?([^",]*)"?`).exec(auth)?.[1];

describe('sip/client SipNotifyClient', () => {
  let peer: UdpPeer;
  let client: SipNotifyClient;
  let logger: WatchingLogger;
  const req = (over: Partial<NotifyRequest> = {}): NotifyRequest => ({
    target: { host: '127.0.0.1', port: peer.port, transport: 'udp' },
    event: 'check-sync',
    ...over,
  });

  beforeEach(async () => {
    peer = await UdpPeer.start();
    logger = new WatchingLogger();
    client = new SipNotifyClient({ bindHost: '127.0.0.1', port: 0, logger });
    await client.start();
  });
  afterEach(async () => {
    await client.close();
    await peer.close();
  });

  describe('digest authentication', () => {
    const auth = { username: 'phone1', password: 's3cret' };

    it('answers a 401 once: same Call-ID and From tag, CSeq + 1, new branch, correct digest', async () => {
      peer.respond = (r, i) => [i === 0 ? answer(r, '401 Unauthorized', [challenge('abc123')]) : answer(r, '200 OK')];
      const result = await client.notify(req({ user: 'phone1', auth }));
      expect(result).to.deep.include({ status: 200, transmissions: 2 });

      const [first, second] = peer.received.map((r) => r.text) as [string, string];
      expect(header(second, 'Call-ID')).to.equal(header(first, 'Call-ID'));
      expect(header(second, 'From')).to.equal(header(first, 'From'));
      expect(header(first, 'CSeq')).to.equal('1 NOTIFY');
      expect(header(second, 'CSeq')).to.equal('2 NOTIFY');
      const branch = (text: string): string | undefined => /;branch=(z9hG4bK[0-9a-f]{32});/.exec(header(text, 'Via') ?? '')?.[1];
      expect(branch(first)).to.be.a('string');
      expect(branch(second)).to.be.a('string').and.not.equal(branch(first));

      const a = header(second, 'Authorization') ?? '';
      const uri = `sip:phone1@127.0.0.1:${peer.port}`;
      expect(param(a, 'uri')).to.equal(uri);
      const [cnonce, nc] = [param(a, 'cnonce') ?? '', param(a, 'nc') ?? ''];
      expect(nc).to.equal('00000001');
      const ha1 = md5('phone1:phone.test:s3cret');
      expect(param(a, 'response')).to.equal(md5(`${ha1}:abc123:${nc}:${cnonce}:auth:${md5(`NOTIFY:${uri}`)}`));
    });

    it('reports the second 401 when the password is wrong (no loop)', async () => {
      peer.respond = (r) => [answer(r, '401 Unauthorized', [challenge('n')])];
      expect(await client.notify(req({ auth }))).to.deep.include({ status: 401, reason: 'Unauthorized', transmissions: 2 });
    });

    it('retries a second time only when the nonce was stale', async () => {
      peer.respond = (r, i) => [
        i === 0 ? answer(r, '401 Unauthorized', [challenge('n1')])
          : i === 1 ? answer(r, '401 Unauthorized', [challenge('n2', ', stale=true')])
            : answer(r, '200 OK'),
      ];
      expect(await client.notify(req({ auth }))).to.deep.include({ status: 200, transmissions: 3 });
      expect(param(header(peer.received[2]?.text ?? '', 'Authorization') ?? '', 'nonce')).to.equal('n2');
    });

    it('does not retry forever on stale challenges', async () => {
      peer.respond = (r) => [answer(r, '401 Unauthorized', [challenge('n', ', stale=true')])];
      expect(await client.notify(req({ auth }))).to.deep.include({ status: 401, transmissions: 3 });
    });

    it('answers a proxy 407 and then the phone 401, keeping both credentials', async () => {
      peer.respond = (r, i) => [
        i === 0 ? answer(r, '407 Proxy Authentication Required', ['Proxy-Authenticate: Digest realm="pbx", nonce="p1"'])
          : i === 1 ? answer(r, '401 Unauthorized', [challenge('w1')])
            : answer(r, '200 OK'),
      ];
      expect(await client.notify(req({ auth }))).to.deep.include({ status: 200, transmissions: 3 });
      const third = peer.received[2]?.text ?? '';
      expect(param(header(third, 'Proxy-Authorization') ?? '', 'realm')).to.equal('pbx');
      expect(param(header(third, 'Authorization') ?? '', 'realm')).to.equal('phone.test');
      expect(header(third, 'CSeq')).to.equal('3 NOTIFY');
    });

    it('reports the 401 when it has no credentials or cannot parse the challenge', async () => {
      peer.respond = (r) => [answer(r, '401 Unauthorized', [challenge('n')])];
      expect(await client.notify(req())).to.deep.include({ status: 401, transmissions: 1 });
      peer.respond = (r) => [answer(r, '401 Unauthorized', ['WWW-Authenticate: Digest realm="x", nonce="y", algorithm=AKAv1-MD5'])];
      expect(await client.notify(req({ auth }))).to.deep.include({ status: 401, transmissions: 1 });
    });
  });

  it('sends via the proxy while the Request-URI names the phone', async () => {
    peer.respond = (r) => [answer(r, '200 OK')];
    const result = await client.notify({
      target: { host: '192.0.2.10', port: 5062, transport: 'udp' },
      user: '1001',
      event: 'check-sync;reboot=true',
      proxy: { host: '127.0.0.1', port: peer.port, transport: 'udp' },
    });
    expect(result.status).to.equal(200);
    const text = peer.received[0]?.text ?? '';
    expect(text.split('\r\n')[0]).to.equal('NOTIFY sip:1001@192.0.2.10:5062 SIP/2.0');
    expect(header(text, 'To')).to.equal('<sip:1001@192.0.2.10:5062>');
    expect(header(text, 'Event')).to.equal('check-sync;reboot=true');
  });

  it('keeps at most maxInFlight notifies on the wire and runs the rest in order', async () => {
    await client.close();
    const clock = new FakeClock();
    client = new SipNotifyClient({ bindHost: '127.0.0.1', port: 0, timers: clock, maxInFlight: 2 });
    await client.start();
    const users = ['u1', 'u2', 'u3', 'u4', 'u5'];
    const results = users.map((user) => client.notify(req({ user })));
    await peer.waitFor(2);
    for (let i = 0; i < 5; i++) await flush();
    expect(peer.received.map((r) => header(r.text, 'To'))).to.deep.equal([
      `<sip:u1@127.0.0.1:${peer.port}>`, `<sip:u2@127.0.0.1:${peer.port}>`,
    ]);
    // Answer them one at a time: each final answer lets exactly one more go out.
    for (let n = 0; n < users.length; n++) {
      const r = peer.received[n] as { text: string; from: { address: string; port: number } };
      peer.socket.send(answer(r.text, '200 OK'), r.from.port, r.from.address);
      expect((await results[n])?.status).to.equal(200);
      if (n + 2 < users.length) await peer.waitFor(n + 3);
    }
    expect(peer.received.map((r) => /sip:(u\d)@/.exec(header(r.text, 'To') ?? '')?.[1])).to.deep.equal(users);
  });

  it('close() settles in-flight and queued notifies with 503 and leaves no timer running', async () => {
    await client.close();
    const clock = new FakeClock();
    client = new SipNotifyClient({ bindHost: '127.0.0.1', port: 0, timers: clock, maxInFlight: 1 });
    await client.start();
    const pending = [client.notify(req()), client.notify(req())];
    await peer.waitFor(1);
    await client.close();
    for (const p of pending) expect(await p).to.deep.include({ status: 503, reason: 'client closed' });
    expect(clock.pending).to.equal(0);
    expect(await client.notify(req())).to.deep.include({ status: 503, reason: 'client closed' });
  });

  it('start() rejects on EADDRINUSE instead of crashing, and port 0 is ephemeral', async () => {
    const other = new SipNotifyClient({ bindHost: '127.0.0.1', port: peer.port });
    try {
      await other.start().then(() => expect.fail('bind should fail'), (err: NodeJS.ErrnoException) => expect(err.code).to.equal('EADDRINUSE'));
    } finally {
      await other.close();
    }
    const fresh = new SipNotifyClient({ bindHost: '127.0.0.1', port: 0 });
    try {
      const { port } = await fresh.start();
      expect(port).to.be.above(0);
      expect(port).to.not.equal(5060);
    } finally {
      await fresh.close();
    }
  });

  it('rejects a request that could not be a valid NOTIFY (caller bug), before anything is sent', async () => {
    for (const bad of [
      req({ event: 'check-sync\r\nX-Injected: 1' }),
      req({ user: 'a b' }),
      req({ target: { host: 'not a host', port: 5060, transport: 'udp' } }),
      req({ target: { host: '127.0.0.1', port: 70000, transport: 'udp' } }),
    ]) {
      await client.notify(bad).then(() => expect.fail('should reject'), (err: unknown) => expect(err).to.be.instanceOf(TypeError));
    }
    expect(peer.received).to.have.length(0);
  });

  it('survives hostile datagrams and still completes a NOTIFY', async () => {
    const { port } = await client.start();
    const attacker = dgram.createSocket('udp4');
    const valid = answer(`Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bKdeadbeef\r\nCall-ID: x\r\nCSeq: 1 NOTIFY`, '200 OK');
    const packets = [
      Buffer.alloc(0),
      Buffer.alloc(60 * 1024, 0x41),
      Buffer.from(`SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 1.2.3.4;__proto__;branch=__proto__\r\n__proto__: x\r\nCall-ID: __proto__\r\nCSeq: 1 NOTIFY\r\n\r\n`),
      Buffer.from(valid), // a well-formed response for a branch nobody sent
      Buffer.from(`NOTIFY sip:deskprov@127.0.0.1:${port} SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bKx\r\n\r\n`),
      Buffer.from(`SIP/2.0 200 OK\r\n${'X: y\r\n'.repeat(2000)}\r\n`),
      ...Array.from({ length: 100 }, (_, i) => Buffer.from(Array.from({ length: 1 + ((i * 37) % 1400) }, (_, j) => (i * 31 + j * 7) & 255))),
    ];
    await Promise.all(packets.map((p) => new Promise((resolve) => attacker.send(p, port, '127.0.0.1', resolve))));
    attacker.close();
    peer.respond = (r) => [answer(r, '200 OK')];
    expect((await client.notify(req())).status).to.equal(200);
    expect(({} as Record<string, unknown>)['x']).to.equal(undefined);
    // Nothing went wrong while handling them (a capped receive buffer is a host setting, not this).
    expect(logger.warnings.filter((w) => !w.msg.includes('receive buffer'))).to.deep.equal([]);
  });

  it('reports 503 when a datagram cannot be sent', async () => {
    // An IPv6 destination on an IPv4 socket fails in the kernel (EINVAL / EAFNOSUPPORT).
    const result = await client.notify({ target: { host: '::1', port: 5060, transport: 'udp' }, event: 'check-sync' });
    expect(result.status).to.equal(503);
    expect(result.reason).to.match(/^send failed: /);
  });

  it('TCP: refused → 503; a phone hanging up before answering → 503', async () => {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const freePort = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const refused = await client.notify({ target: { host: '127.0.0.1', port: freePort, transport: 'tcp' }, event: 'check-sync' });
    expect(refused).to.deep.include({ status: 503, reason: 'connection failed: ECONNREFUSED', transmissions: 0 });

    const rude = net.createServer((s) => s.once('data', () => s.end()));
    await new Promise<void>((resolve) => rude.listen(0, '127.0.0.1', resolve));
    try {
      const port = (rude.address() as AddressInfo).port;
      const hungUp = await client.notify({ target: { host: '127.0.0.1', port, transport: 'tcp' }, event: 'check-sync' });
      expect(hungUp).to.deep.include({ status: 503, transmissions: 1 });
      expect(hungUp.reason).to.match(/^connection (closed|lost)/);
    } finally {
      await new Promise((resolve) => rude.close(resolve));
    }
  });

  it('TCP: frames a response split over writes, after a 100 Trying', async () => {
    const server = net.createServer((s) => {
      let buf = '';
      s.on('data', (d) => {
        buf += d.toString();
        if (!buf.endsWith('\r\n\r\n')) return;
        const both = answer(buf, '100 Trying') + answer(buf, '200 OK');
        s.write(both.slice(0, 7));
        setImmediate(() => s.write(both.slice(7, 200)));
        setImmediate(() => setImmediate(() => s.end(both.slice(200))));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      expect(await client.notify({ target: { host: '127.0.0.1', port, transport: 'tcp' }, event: 'check-sync' })).to.deep.include({
        status: 200, reason: 'OK', transmissions: 1,
      });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
