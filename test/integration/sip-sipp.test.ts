/**
 * The NOTIFY client against real peers on 127.0.0.1: SIPp as the phone (UDP, TCP, digest),
 * a node TLS responder with a throw-away certificate, and the failure paths (refused, silent).
 * SIPp tests are skipped only on a developer machine without /usr/bin/sipp; in CI they run.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { SipNotifyClient, type NotifyTarget } from '../../server/sip/client.js';
import { answer } from '../unit/sip/helpers.js';
import { startSipp as startUas, type Sipp } from '../helpers/sipp.js';

const SIPP = '/usr/bin/sipp';
const OPENSSL = '/usr/bin/openssl';

/** Skip on a laptop without the tool; in CI a missing tool is a failure, not a skip. */
function requireTool(ctx: Mocha.Context, file: string, pkg: string): void {
  if (existsSync(file)) return;
  if (process.env['CI']) throw new Error(`${file} is required in CI (apt-get install ${pkg})`);
  console.warn(`      skipping: ${file} not found (install the Debian package ${pkg})`);
  ctx.skip();
}

const running = new Set<Sipp>();
let workDir = '';

/** A SIPp UAS for one test; killed in afterEach whatever happens. */
async function startSipp(scenario: string, transport: 'udp' | 'tcp', calls = 1): Promise<Sipp> {
  const sipp = await startUas({ scenario, transport, calls, timeout: '30s' });
  running.add(sipp);
  return sipp;
}

const target = (port: number, transport: NotifyTarget['transport']): NotifyTarget => ({ host: '127.0.0.1', port, transport });

describe('sip client against real peers', function () {
  this.timeout(30000);
  let client: SipNotifyClient;

  before(() => {
    workDir = mkdtempSync(path.join(tmpdir(), 'deskprov-sip-'));
  });
  beforeEach(async () => {
    client = new SipNotifyClient({ bindHost: '127.0.0.1', port: 0 });
    await client.start();
  });
  afterEach(async () => {
    await client.close();
    for (const sipp of running) sipp.kill();
    running.clear();
  });
  after(() => {
    for (const sipp of running) sipp.kill();
    running.clear();
    rmSync(workDir, { recursive: true, force: true });
  });

  describe('SIPp UAS', function () {
    before(function () {
      requireTool(this, SIPP, 'sip-tester');
    });

    it('UDP: 200 OK, and SIPp saw a check-sync Event', async () => {
      const sipp = await startSipp('uas_notify_200.xml', 'udp');
      const result = await client.notify({ target: target(sipp.port, 'udp'), event: 'check-sync;reboot=true' });
      expect(result).to.deep.include({ status: 200, reason: 'OK', transmissions: 1 });
      expect(await sipp.exited, 'SIPp scenario passed').to.equal(0);
    });

    it('TCP: 200 OK', async () => {
      const sipp = await startSipp('uas_notify_200.xml', 'tcp');
      const result = await client.notify({ target: target(sipp.port, 'tcp'), event: 'check-sync' });
      expect(result).to.deep.include({ status: 200, reason: 'OK', transmissions: 1 });
      expect(await sipp.exited).to.equal(0);
    });

    it('UDP: answers the 401 challenge with phone1 / s3cret and gets 200', async () => {
      const sipp = await startSipp('uas_notify_401.xml', 'udp');
      const result = await client.notify({
        target: target(sipp.port, 'udp'), user: 'phone1', event: 'check-sync', auth: { username: 'phone1', password: 's3cret' },
      });
      expect(result).to.deep.include({ status: 200, transmissions: 2 });
      expect(await sipp.exited).to.equal(0);
    });

    it('UDP: a wrong password ends as the phone\'s 403, reported by our client', async () => {
      const sipp = await startSipp('uas_notify_401.xml', 'udp');
      const result = await client.notify({
        target: target(sipp.port, 'udp'), user: 'phone1', event: 'check-sync', auth: { username: 'phone1', password: 'wrong' },
      });
      // SIPp counts its 403 branch as a successful call; the status we return is what matters.
      expect(result).to.deep.include({ status: 403, reason: 'Forbidden', transmissions: 2 });
    });

    it('survives 200 hostile datagrams on its UDP port, then completes a NOTIFY to SIPp', async () => {
      const { port } = await client.start();
      const attacker = dgram.createSocket('udp4');
      const hostile: Buffer[] = [
        Buffer.from(`SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.9:5060;__proto__;branch=z9hG4bK__proto__;rport\r\n` +
          `__proto__: {"polluted":true}\r\nconstructor: x\r\nCall-ID: __proto__\r\nCSeq: 1 NOTIFY\r\nContent-Length: 0\r\n\r\n`),
        Buffer.alloc(60 * 1024, 'SIP/2.0 200 OK\r\nVia: ;;;;'),
        Buffer.from(`NOTIFY sip:deskprov@127.0.0.1:${port} SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKa\r\n` +
          'CSeq: 1 NOTIFY\r\nCall-ID: a\r\nEvent: check-sync\r\nContent-Length: 0\r\n\r\n'),
        Buffer.from(`SIP/2.0 200 OK\r\nv: SIP/2.0/UDP x;branch=z9hG4bKunknown\r\ni: a\r\nCSeq: 1 NOTIFY\r\nl: 0\r\n\r\n`),
        Buffer.from(`SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP x;branch=${'a'.repeat(7000)}\r\n\r\n`),
      ];
      let seed = 0x2545f491;
      const random = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
      while (hostile.length < 200) hostile.push(Buffer.from(Array.from({ length: 1 + (random() * 5) }, random)));
      for (const packet of hostile) await new Promise((resolve) => attacker.send(packet, port, '127.0.0.1', resolve));
      attacker.close();

      const sipp = await startSipp('uas_notify_200.xml', 'udp');
      const result = await client.notify({ target: target(sipp.port, 'udp'), event: 'check-sync' });
      expect(result.status).to.equal(200);
      expect(({} as Record<string, unknown>)['polluted']).to.equal(undefined);
    });
  });

  describe('failures', () => {
    it('a refused TCP port → 503', async () => {
      const probe = net.createServer();
      await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
      const port = (probe.address() as AddressInfo).port;
      await new Promise((resolve) => probe.close(resolve));
      const result = await client.notify({ target: target(port, 'tcp'), event: 'check-sync' });
      expect(result).to.deep.include({ status: 503, transmissions: 0 });
      expect(result.reason).to.contain('ECONNREFUSED');
    });

    it('a UDP phone that never answers → 408 after 11 transmissions (T1 shortened to 5 ms)', async () => {
      await client.close();
      client = new SipNotifyClient({ bindHost: '127.0.0.1', port: 0, t1Ms: 5, t2Ms: 40 });
      await client.start();
      const silent = dgram.createSocket('udp4');
      let received = 0;
      const allEleven = new Promise<void>((resolve) => silent.on('message', () => ++received === 11 && resolve()));
      await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
      try {
        const result = await client.notify({ target: target((silent.address() as AddressInfo).port, 'udp'), event: 'check-sync' });
        expect(result).to.deep.include({ status: 408, reason: 'Request Timeout', transmissions: 11 });
        expect(result.elapsedMs).to.be.at.least(300); // Timer F = 64·T1 = 320 ms
        await allEleven; // the phone did get every retransmission
      } finally {
        await new Promise<void>((resolve) => silent.close(() => resolve()));
      }
      expect(received).to.equal(11);
    });
  });

  describe('TLS (node responder, self-signed certificate for 127.0.0.1)', function () {
    let server: tls.Server;
    let port = 0;
    let cert = '';
    const requests: string[] = [];

    before(async function () {
      requireTool(this, OPENSSL, 'openssl');
      const dir = mkdtempSync(path.join(tmpdir(), 'deskprov-tls-'));
      try {
        execFileSync(OPENSSL, [
          'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
          '-days', '1', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'),
        ], { stdio: 'ignore' });
        cert = readFileSync(path.join(dir, 'cert.pem'), 'utf8');
        const key = readFileSync(path.join(dir, 'key.pem'), 'utf8');
        server = tls.createServer({ key, cert }, (socket) => {
          let buf = '';
          socket.on('error', () => {}); // clients that reject our certificate reset the handshake
          socket.on('data', (d: Buffer) => {
            buf += d.toString();
            const end = buf.indexOf('\r\n\r\n');
            if (end < 0) return;
            requests.push(buf.slice(0, end + 4));
            socket.write(answer(buf.slice(0, end + 4), '200 OK'));
            buf = buf.slice(end + 4);
          });
        });
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        port = (server.address() as AddressInfo).port;
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
    after(async () => {
      if (server?.listening) await new Promise((resolve) => server.close(resolve));
    });

    it('with the certificate as trust anchor → 200 over TLS', async () => {
      await client.close();
      client = new SipNotifyClient({ bindHost: '127.0.0.1', port: 0, tls: { ca: cert } });
      await client.start();
      const result = await client.notify({ target: target(port, 'tls'), user: '1001', event: 'check-sync' });
      expect(result).to.deep.include({ status: 200, transmissions: 1 });
      const request = requests.at(-1) ?? '';
      expect(request).to.match(new RegExp(`^NOTIFY sip:1001@127\\.0\\.0\\.1:${port};transport=tls SIP/2\\.0\\r\\n`));
      expect(request).to.match(/\r\nVia: SIP\/2\.0\/TLS 127\.0\.0\.1:\d+;branch=z9hG4bK/);
    });

    it('verifying certificates without that anchor → 503, nothing sent', async () => {
      const before = requests.length;
      const result = await client.notify({ target: target(port, 'tls'), event: 'check-sync' });
      expect(result).to.deep.include({ status: 503, transmissions: 0 });
      expect(result.reason).to.match(/^connection failed: /);
      expect(requests.length).to.equal(before);
    });
  });
});
