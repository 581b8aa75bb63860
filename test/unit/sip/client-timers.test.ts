/**
 * RFC 3261 §17.1.2.2 timers of the NOTIFY client, on a fake clock. The phone is a real UDP
 * socket on 127.0.0.1; only the client's timers are fake, so a 32 s Timer F runs in milliseconds.
 */
import { expect } from 'chai';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { SipNotifyClient, type NotifyResult } from '../../../server/sip/client.js';
import { FakeClock, UdpPeer, WatchingLogger, answer, flush, header } from './helpers.js';

describe('sip/client timers (fake clock)', () => {
  let clock: FakeClock;
  let peer: UdpPeer;
  let logger: WatchingLogger;
  let client: SipNotifyClient;

  beforeEach(async () => {
    clock = new FakeClock();
    peer = await UdpPeer.start();
    logger = new WatchingLogger();
    client = new SipNotifyClient({ bindHost: '127.0.0.1', port: 0, timers: clock, logger });
    await client.start();
  });
  afterEach(async () => {
    await client.close();
    await peer.close();
  });

  const notify = (): { outcome: () => NotifyResult | null; done: Promise<NotifyResult> } => {
    let result: NotifyResult | null = null;
    const done = client.notify({ target: { host: '127.0.0.1', port: peer.port, transport: 'udp' }, event: 'check-sync' });
    void done.then((r) => (result = r));
    return { outcome: () => result, done };
  };

  /**
   * Fires timers one by one until the notify settles, recording the fake time at which each
   * transmission reached the peer. Each Timer E firing sends exactly one datagram, which the
   * loop awaits before firing the next timer: no real-time sleeps anywhere.
   */
  async function runToCompletion(outcome: () => NotifyResult | null, alreadyReceived: number): Promise<number[]> {
    const times: number[] = [];
    let count = alreadyReceived;
    for (let guard = 0; guard < 100; guard++) {
      expect(clock.fireNext(), 'a timer should be pending until the notify settles').to.equal(true);
      await flush();
      if (outcome() !== null) return times;
      await peer.waitFor(++count);
      times.push(clock.now());
    }
    throw new Error('notify never settled');
  }

  it('a phone that never answers: 11 transmissions at 0, 0.5, 1.5, 3.5, 7.5, 11.5 … 31.5 s, then 408 at 32 s', async () => {
    const { outcome, done } = notify();
    await peer.waitFor(1);
    const times = [0, ...(await runToCompletion(outcome, 1))];
    expect(times).to.deep.equal([0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
    expect(await done).to.deep.equal({ status: 408, reason: 'Request Timeout', transmissions: 11, elapsedMs: 32000 });
    expect(clock.pending, 'no timer left behind').to.equal(0);
    // Every retransmission is the same request: same branch, same CSeq.
    expect(new Set(peer.received.map((r) => r.text)).size).to.equal(1);
  });

  it('after a 100 Trying it retransmits every T2 (4 s) and still ends in 408 at 32 s', async () => {
    peer.respond = (req, i) => (i === 0 ? [answer(req, '100 Trying')] : []);
    const { outcome, done } = notify();
    await peer.waitFor(1);
    await logger.waitFor((e) => 'status' in e.obj && e.obj.status === 100);
    const times = [0, ...(await runToCompletion(outcome, 1))];
    // Timer E was already armed for 0.5 s; from then on it is reset to T2 (§17.1.2.2, Proceeding).
    expect(times).to.deep.equal([0, 500, 4500, 8500, 12500, 16500, 20500, 24500, 28500]);
    expect(await done).to.deep.include({ status: 408, transmissions: 9, elapsedMs: 32000 });
  });

  it('a 200 after two retransmissions ends the transaction and cancels every timer', async () => {
    peer.respond = (req, i) => (i === 2 ? [answer(req, '200 OK')] : []);
    const { done } = notify();
    await peer.waitFor(1);
    clock.fireNext(); // 0.5 s
    await peer.waitFor(2);
    clock.fireNext(); // 1.5 s, answered 200
    await peer.waitFor(3);
    expect(await done).to.deep.equal({ status: 200, reason: 'OK', transmissions: 3, elapsedMs: 1500 });
    expect(clock.pending).to.equal(0);
  });

  it('ignores responses with another branch or another CSeq method', async () => {
    peer.respond = (req, i) =>
      i === 0
        ? [answer(req, '200 OK', [], { branch: 'z9hG4bKsomeoneelse' }), answer(req, '200 OK', [], { cseq: '1 INVITE' }), answer(req, '200 OK', [], { cseq: '9 NOTIFY' })]
        : [answer(req, '486 Busy Here')];
    const { outcome, done } = notify();
    await peer.waitFor(1);
    await logger.waitFor((e) => e.msg.includes('matches no transaction'), 3);
    expect(outcome()).to.equal(null);
    clock.fireNext(); // Timer E: retransmission, answered with the right branch
    expect(await done).to.deep.include({ status: 486, reason: 'Busy Here', transmissions: 2 });
  });

  it('TCP: one transmission, no retransmissions, 408 when Timer F fires', async () => {
    const requests: string[] = [];
    const server = net.createServer((s) => s.on('data', (d) => requests.push(d.toString())));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const connections = new Set<net.Socket>();
    server.on('connection', (s) => connections.add(s));
    try {
      const port = (server.address() as AddressInfo).port;
      let result: NotifyResult | null = null;
      const done = client.notify({ target: { host: '127.0.0.1', port, transport: 'tcp' }, event: 'check-sync' });
      void done.then((r) => (result = r));
      while (requests.length === 0) await flush();
      expect(requests[0]).to.match(/^NOTIFY sip:anonymous@127\.0\.0\.1:\d+;transport=tcp SIP\/2\.0\r\n/);
      expect(header(requests[0] ?? '', 'Via')).to.match(/^SIP\/2\.0\/TCP 127\.0\.0\.1:\d+;branch=z9hG4bK[0-9a-f]{32};rport$/);
      expect(clock.pending, 'only Timer F').to.equal(1);
      clock.fireNext();
      await flush();
      expect(result).to.deep.equal({ status: 408, reason: 'Request Timeout', transmissions: 1, elapsedMs: 32000 });
    } finally {
      for (const s of connections) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('honours a custom T1/T2', async () => {
    await client.close();
    client = new SipNotifyClient({ bindHost: '127.0.0.1', port: 0, timers: clock, t1Ms: 100, t2Ms: 400 });
    await client.start();
    const { outcome, done } = notify();
    await peer.waitFor(1);
    const times = [0, ...(await runToCompletion(outcome, 1))];
    expect(times).to.deep.equal([0, 100, 300, 700, 1100, 1500, 1900, 2300, 2700, 3100, 3500, 3900, 4300, 4700, 5100, 5500, 5900, 6300]);
    expect(await done).to.deep.include({ status: 408, elapsedMs: 6400 });
  });
});
