/**
 * What a NOTIFY says about its sender. Bound to the default 0.0.0.0, deskprov used to write
 * `Via: SIP/2.0/UDP 0.0.0.0:5070` (and the same in From and Contact): wrong on the wire, and
 * refused by some phones and PBXs. Now it names the address the kernel sends from towards the
 * phone, or `sip.advertiseHost` when set. Checked on the bytes a real peer received: SIPp (its
 * message trace), plain UDP sockets, and a real deskprov process started with its config file.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SipNotifyClient } from '../../server/sip/client.js';
import { freePort } from '../helpers/ports.js';
import { requireSipp, startSipp, type Sipp } from '../helpers/sipp.js';
import { answer, header } from '../unit/sip/helpers.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A phone on a real UDP socket at `address`: answers 200 to everything, keeps what it got. */
async function phone(address: string): Promise<{ port: number; received: Promise<string>; close(): Promise<void> }> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, address, resolve));
  const received = new Promise<string>((resolve) =>
    socket.once('message', (msg, rinfo) => {
      const text = msg.toString('utf8');
      socket.send(answer(text, '200 OK'), rinfo.port, rinfo.address);
      resolve(text);
    }),
  );
  return {
    port: (socket.address() as AddressInfo).port,
    received,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}

/** The sender as the NOTIFY names it in Via, From and Contact. */
function senderOf(notify: string): { via: string; from: string; contact: string } {
  return { via: header(notify, 'Via') ?? '', from: header(notify, 'From') ?? '', contact: header(notify, 'Contact') ?? '' };
}

function expectSender(notify: string, host: string, port: number): void {
  const { via, from, contact } = senderOf(notify);
  expect(via).to.match(new RegExp(`^SIP/2\\.0/UDP ${host.replace(/\./g, '\\.')}:${port};branch=z9hG4bK[0-9a-f]+;rport$`));
  expect(from).to.match(new RegExp(`^<sip:deskprov@${host.replace(/\./g, '\\.')}:${port}>;tag=`));
  expect(contact).to.equal(`<sip:deskprov@${host}:${port}>`);
  expect(notify).to.not.include('0.0.0.0');
}

const firstExternalIPv4 = (): string | null =>
  Object.values(networkInterfaces()).flat().find((a) => a !== undefined && !a.internal && a.family === 'IPv4')?.address ?? null;

describe('NOTIFY sender address (client bound to 0.0.0.0)', function () {
  this.timeout(30_000);
  let client: SipNotifyClient | null = null;
  const peers: Array<{ close(): Promise<void> }> = [];
  let sipp: Sipp | null = null;
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'deskprov-sip-advertise-'));
  });
  afterEach(async () => {
    await client?.close();
    client = null;
    for (const p of peers.splice(0)) await p.close();
    sipp?.kill();
    sipp = null;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('SIPp receives Via, From and Contact naming 127.0.0.1, the address that reaches it', async function () {
    requireSipp(this);
    client = new SipNotifyClient({ bindHost: '0.0.0.0', port: 0 });
    const { address, port } = await client.start();
    expect(address).to.equal('0.0.0.0');
    const trace = join(dir, 'sipp-messages.log');
    sipp = await startSipp({ scenario: 'uas_notify_200.xml', calls: 1, timeout: '20s', extraArgs: ['-trace_msg', '-message_file', trace] });
    const result = await client.notify({ target: { host: '127.0.0.1', port: sipp.port, transport: 'udp' }, event: 'check-sync' });
    expect(result).to.deep.include({ status: 200, transmissions: 1 });
    expect(await sipp.exited, sipp.stderr()).to.equal(0);

    const log = readFileSync(trace, 'utf8');
    const start = log.indexOf('NOTIFY sip:');
    expect(start, log).to.be.greaterThan(-1);
    const notify = log.slice(start, log.indexOf('\n\n', start)).replace(/\r?\n/g, '\r\n');
    expectSender(notify, '127.0.0.1', port);
  });

  it('a phone on another interface is told that interface\'s address', async function () {
    const external = firstExternalIPv4();
    if (external === null) {
      console.warn('      skipping: no non-loopback IPv4 interface on this machine');
      this.skip();
    }
    client = new SipNotifyClient({ bindHost: '0.0.0.0', port: 0 });
    const { port } = await client.start();
    const p = await phone(external);
    peers.push(p);
    const result = await client.notify({ target: { host: external, port: p.port, transport: 'udp' }, event: 'check-sync' });
    expect(result.status).to.equal(200);
    expectSender(await p.received, external, port);
  });

  it('an advertised host wins, and one that could break a header line is refused up front', async () => {
    client = new SipNotifyClient({ bindHost: '0.0.0.0', port: 0, advertisedHost: 'prov.example.com' });
    const { port } = await client.start();
    const p = await phone('127.0.0.1');
    peers.push(p);
    expect((await client.notify({ target: { host: '127.0.0.1', port: p.port, transport: 'udp' }, event: 'check-sync' })).status).to.equal(200);
    expectSender(await p.received, 'prov.example.com', port);

    for (const bad of ['prov.example.com\r\nX-Evil: 1', 'a b', '0.0.0.0', '::', '<sip:x>']) {
      expect(() => new SipNotifyClient({ bindHost: '0.0.0.0', port: 0, advertisedHost: bad }), bad).to.throw(RangeError, /advertisedHost/);
    }
  });
});

describe('NOTIFY sender address (deskprov process, sip section of its config)', function () {
  this.timeout(60_000);
  const TOKEN = 'sip-advertise-test-admin-token-0123456789';
  let dir = '';
  let child: ChildProcess | null = null;
  let stderr = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'deskprov-sip-advertise-'));
    stderr = '';
  });
  afterEach(() => {
    if (child !== null && child.exitCode === null) child.kill('SIGKILL');
    child = null;
    rmSync(dir, { recursive: true, force: true });
  });

  /** Starts deskprov with `sip`, points a device at a UDP phone and returns the NOTIFY it got. */
  async function notifyFromProcess(sip: Record<string, unknown>): Promise<string> {
    const port = await freePort();
    const config = join(dir, 'deskprov.json');
    writeFileSync(config, JSON.stringify({
      http: { host: '127.0.0.1', port },
      database: { path: join(dir, 'deskprov.db') },
      admin: { token: TOKEN },
      sip: { port: 0, ...sip },
      log: { level: 'warn' },
    }));
    child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts', '--config', config], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    for (let i = 0; ; i++) {
      if (child.exitCode !== null || i > 400) throw new Error(`deskprov did not come up: ${stderr}`);
      if (await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const p = await phone('127.0.0.1');
    try {
      const created = await fetch(`http://127.0.0.1:${port}/api/v1/devices`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ mac: '001565aabbcc', vendor: 'yealink', model: 'T46U', sipContact: `sip:127.0.0.1:${p.port}` }),
      });
      expect(created.status).to.equal(201);
      const queued = await fetch(`http://127.0.0.1:${port}/api/v1/devices/001565aabbcc/resync`, { method: 'POST', headers: { Authorization: `Bearer ${TOKEN}` } });
      expect(queued.status).to.equal(202);
      return await Promise.race([
        p.received,
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no NOTIFY arrived: ${stderr}`)), 20_000)),
      ]);
    } finally {
      await p.close();
    }
  }

  it('default bindHost 0.0.0.0: the NOTIFY names 127.0.0.1, never 0.0.0.0', async () => {
    const notify = await notifyFromProcess({});
    const { via, contact } = senderOf(notify);
    expect(via).to.match(/^SIP\/2\.0\/UDP 127\.0\.0\.1:[1-9][0-9]*;branch=/);
    expect(contact).to.match(/^<sip:deskprov@127\.0\.0\.1:[1-9][0-9]*>$/);
    expect(notify).to.not.include('0.0.0.0');
  });

  it('sip.advertiseHost: the NOTIFY names it', async () => {
    const notify = await notifyFromProcess({ advertiseHost: 'deskprov.example.com' });
    expect(senderOf(notify).via).to.match(/^SIP\/2\.0\/UDP deskprov\.example\.com:[1-9][0-9]*;branch=/);
    expect(senderOf(notify).contact).to.match(/^<sip:deskprov@deskprov\.example\.com:[1-9][0-9]*>$/);
  });
});
