/**
 * The phone lane (server/http/phone-lane.ts) against node:http alone, over real sockets: the
 * same bytes sent to both must get the same bytes back (Date and X-Request-Id aside), whatever
 * the bytes are. The lane answers what it can read exactly and hands everything else to
 * node:http, mid-connection if need be; these tests hold it to that.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { PhoneLane, phoneServerFactory, type PhoneLaneOptions } from '../../server/http/phone-lane.js';
import { HTTP_TIMEOUTS } from '../../server/http/timeouts.js';
import { createHarness, type Harness } from '../helpers/harness.js';

const YEALINK = { mac: '001565aabbcc', ua: 'Yealink SIP-T46U 108.86.0.90 00:15:65:aa:bb:cc' };
const POLYCOM = { mac: '0004f2aabbcc', ua: 'FileTransport PolycomVVX-VVX_450-UA/6.4.3.5017 (SN:0004f2aabbcc) Type/Application' };

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
}

/**
 * Sends `chunks` (latin1) on one connection, each as its own write a few ms apart, and returns
 * everything that comes back until the server closes the connection or says nothing for `idleMs`.
 */
function exchange(port: number, chunks: string[], idleMs = 60, overTls = false): Promise<{ bytes: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = overTls ? tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }) : net.connect(port, '127.0.0.1');
    let bytes = '';
    let timer: NodeJS.Timeout | null = null;
    let sent = false;
    const done = (closed: boolean) => {
      if (timer) clearTimeout(timer);
      socket.destroy();
      resolve({ bytes, closed });
    };
    const idle = () => {
      if (timer) clearTimeout(timer);
      if (sent) timer = setTimeout(() => done(false), idleMs);
    };
    socket.on('data', (d: Buffer) => {
      bytes += d.toString('latin1');
      idle();
    });
    socket.on('end', () => done(true));
    socket.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? done(true) : reject(err)));
    socket.on(overTls ? 'secureConnect' : 'connect', async () => {
      for (const c of chunks) {
        if (socket.destroyed) break;
        socket.write(Buffer.from(c, 'latin1'));
        await new Promise((r) => setTimeout(r, 5));
      }
      sent = true;
      idle();
    });
  });
}

/**
 * What may differ between two servers answering the same request: Date, X-Request-Id, and where
 * node:http puts an interim `100 Continue` (for `Expect: 100-continue`) among pipelined answers,
 * which depends on whether an earlier answer on the connection was still being sent.
 */
const normalize = (s: string) =>
  s
    .replace(/\r\nDate: [^\r\n]*/g, '\r\nDate: -')
    .replace(/\r\nX-Request-Id: [^\r\n]*/g, '\r\nX-Request-Id: -')
    .replaceAll('HTTP/1.1 100 Continue\r\n\r\n', '');
/** node:http's bare answer to bytes it cannot parse, just before it closes the connection. */
const BARE_ERROR = /HTTP\/1\.1 4\d\d [A-Za-z ]+\r\nConnection: close\r\n\r\n$/;

/**
 * The lane's bytes against node:http's alone. One difference comes from node:http itself: when a
 * read holds answerable requests followed by bytes it cannot parse, how many of the answers still
 * queued it writes before closing, and whether it writes its bare 4xx, depends on how its parser
 * was fed (from the socket's handle, as node:http alone; or by a data event, as after a hand-over)
 * and on where its callbacks fall. So where the bytes differ, both connections must close and,
 * without that 4xx, one side's bytes must be the other's cut short at the end of an answer: the
 * same answers to the same requests, in the same order, until one side stopped.
 */
function expectSameAnswers(lane: { bytes: string; closed: boolean }, alone: { bytes: string; closed: boolean }, sent: string[]): void {
  const a = normalize(lane.bytes);
  const b = normalize(alone.bytes);
  const what = JSON.stringify(sent);
  expect(lane.closed, `connection closed? ${what}`).to.equal(alone.closed);
  if (a === b) return;
  const strip = (t: string) => t.replace(BARE_ERROR, '');
  const [shorter, longer] = strip(a).length <= strip(b).length ? [strip(a), strip(b)] : [strip(b), strip(a)];
  // The side that stopped short did so on bytes it could not parse, not because a request asked
  // it to close: its last answer did not say Connection: close.
  const last = shorter.slice(shorter.lastIndexOf('HTTP/1.1 '));
  const askedToClose = shorter.length > 0 && /\r\nConnection: close\r\n/.test(last.slice(0, last.indexOf('\r\n\r\n') + 2));
  expect(lane.closed && longer.startsWith(shorter) && !askedToClose, `${what}\nlane:  ${JSON.stringify(a)}\nalone: ${JSON.stringify(b)}`).to.equal(true);
}

describe('phone lane', function () {
  this.timeout(60_000);
  let h: Harness;
  let withLane: Server;
  let nodeOnly: Server;
  let lanePort: number;
  let nodePort: number;
  const etags: Record<string, string> = {};
  /** A lane answering from the harness's app, with node:http's timeouts as deskprov sets them, overridden by `o`. */
  const laneWith = (o: Partial<PhoneLaneOptions> = {}) =>
    new PhoneLane({ answer: h.app.phone.answer, keepAliveTimeoutMs: 65_000, headersTimeoutMs: 30_000, draining: () => false, ...o });

  before(async () => {
    // Unknown MACs count towards the enumeration guard: a block part-way through would answer the
    // same request differently on the two servers.
    h = createHarness({ config: { security: { enumeration: { maxFailures: 1_000_000 } } } });
    const ok = (r: { status: number; body: unknown }) => expect(r.status, JSON.stringify(r.body)).to.equal(201);
    ok(await h.http.post('/api/v1/users').set('Authorization', h.auth).send({ extension: '1001', displayName: 'Alice', sipPassword: 's3cret-alice', pin: '2468' }));
    ok(await h.http.post('/api/v1/devices').set('Authorization', h.auth).send({ mac: YEALINK.mac, vendor: 'yealink', model: 'T46U', ownerExtension: '1001' }));
    ok(await h.http.post('/api/v1/devices').set('Authorization', h.auth).send({ mac: POLYCOM.mac, vendor: 'polycom', model: 'VVX450' }));
    const lane = laneWith();
    withLane = phoneServerFactory(h.app.listener, lane)();
    nodeOnly = phoneServerFactory(h.app.listener, null)();
    [lanePort, nodePort] = await Promise.all([listen(withLane), listen(nodeOnly)]);
    for (const [name, ua] of [[`${YEALINK.mac}.cfg`, YEALINK.ua], [`${POLYCOM.mac}.cfg`, POLYCOM.ua]] as const) {
      const r = await h.http.get(`/${name}`).set('User-Agent', ua);
      expect(r.status).to.equal(200);
      etags[name] = String(r.headers.etag);
    }
  });

  after(() => {
    withLane?.close();
    nodeOnly?.close();
    h?.destroy();
  });

  const get = (path: string, ...headers: string[]) => `GET ${path} HTTP/1.1\r\nHost: prov.test\r\n${headers.map((x) => `${x}\r\n`).join('')}\r\n`;

  /** Ends an exchange: node:http answers it (a root path that is not a phone file) and closes. */
  const END = 'GET /robots.txt HTTP/1.1\r\nHost: prov.test\r\nConnection: close\r\n\r\n';

  /** Random requests to the lane and to node:http alone must get the same bytes back. */
  async function sameBytes(lanePort: number, nodePort: number, runs: number, overTls = false): Promise<void> {
    let served = 0;
    const target = fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(`/${YEALINK.mac}.cfg`, `/${POLYCOM.mac}.cfg`, '/y000000000108.cfg', '/000000000000.cfg', `/${YEALINK.mac}.boot`, '/001565000999.cfg', `/${POLYCOM.mac}-app.log`, `/${YEALINK.mac}.cfg?x=1`) },
      {
        weight: 1,
        arbitrary: fc.constantFrom('/..%2fetc%2fpasswd', '/a/b.cfg', '/.env', '/api/v1/devices', '/phone/yealink/001565aabbcc/login', '/admin/', '/', '/%00', `/${'a'.repeat(200)}.cfg`, '/caf\xe9.cfg', '/a"b.cfg'),
      },
    );
    const header = fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(`User-Agent: ${YEALINK.ua}`, `User-Agent: ${POLYCOM.ua}`, 'User-Agent: curl/8.0', 'user-agent:   spaced   ', 'User-Agent: caf\xe9') },
      { weight: 2, arbitrary: fc.constantFrom(`If-None-Match: ${etags[`${YEALINK.mac}.cfg`] ?? '"x"'}`, 'If-None-Match: *', 'If-None-Match: "nope"') },
      { weight: 3, arbitrary: fc.constantFrom('Connection: close', 'Connection: keep-alive', 'Connection: Upgrade', 'connection: CLOSE') },
      { weight: 2, arbitrary: fc.constantFrom('X-Forwarded-For: 10.0.0.1', 'Authorization: Basic YTpi', 'Accept: */*', 'X-Empty:', 'Host: second.host') },
      { weight: 1, arbitrary: fc.constantFrom('Content-Length: 0', 'Content-Length: 4', 'Transfer-Encoding: chunked', 'Expect: 100-continue', 'Upgrade: websocket') },
      { weight: 1, arbitrary: fc.constantFrom(' folded continuation', 'Bad Name: x', 'NoColon', 'X-Nul: a\x00b', 'X-Ctl: a\x01b', `X-Long: ${'v'.repeat(9000)}`) },
    );
    const noisy = fc.record({
      method: fc.constantFrom('GET', 'GET', 'GET', 'GET', 'HEAD', 'HEAD', 'PUT', 'POST', 'OPTIONS', 'get'),
      target,
      version: fc.constantFrom('HTTP/1.1', 'HTTP/1.1', 'HTTP/1.1', 'HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/1.1 '),
      host: fc.constantFrom(true, true, true, true, true, false),
      headers: fc.array(header, { maxLength: 4 }),
      eol: fc.constantFrom('\r\n', '\r\n', '\r\n', '\r\n', '\r\n', '\n'),
      body: fc.constantFrom('', '', '', '', 'abcd', '0\r\n\r\n'),
    });
    const phoneFile = fc.constantFrom(`/${YEALINK.mac}.cfg`, `/${POLYCOM.mac}.cfg`, '/y000000000108.cfg', `/${YEALINK.mac}.cfg?x=1`, `/${YEALINK.mac}.boot`);
    const clean = fc.record({
      method: fc.constantFrom('GET', 'HEAD'),
      target: phoneFile,
      version: fc.constant('HTTP/1.1'),
      host: fc.constant(true),
      headers: fc.array(fc.constantFrom(`User-Agent: ${YEALINK.ua}`, `If-None-Match: ${etags[`${YEALINK.mac}.cfg`] ?? '"x"'}`, 'Connection: keep-alive', 'Connection: close', 'X-Forwarded-For: 10.0.0.1', 'Accept: */*'), { maxLength: 3 }),
      eol: fc.constant('\r\n'),
      body: fc.constant(''),
    });
    // Half requests a phone makes (the lane's to answer), half with every kind of trouble.
    const request = fc.oneof(clean, noisy);
    const toText = (r: { method: string; target: string; version: string; host: boolean; headers: string[]; eol: string; body: string }) =>
      [`${r.method} ${r.target} ${r.version}`, ...(r.host ? ['Host: prov.test'] : []), ...r.headers, '', ''].join(r.eol) + r.body;
    await fc.assert(
      fc.asyncProperty(fc.array(request, { minLength: 1, maxLength: 3 }), fc.array(fc.nat(), { maxLength: 2 }), async (requests, cuts) => {
        const text = requests.map(toText).join('');
        const at = [...new Set(cuts.map((c) => c % text.length))].sort((a, b) => a - b);
        const chunks = [0, ...at].map((from, i) => text.slice(from, at[i] ?? text.length)).filter((c) => c.length > 0);
        // A last request that closes the connection, so most exchanges end when the server is
        // done, not after a quiet spell (one the random bytes left mid-request still ends so).
        chunks[chunks.length - 1] += END;
        const [a, b] = await Promise.all([exchange(lanePort, chunks, 250, overTls), exchange(nodePort, chunks, 250, overTls)]);
        if (a.bytes.includes('HTTP/1.1 200 OK\r\n')) served++;
        expectSameAnswers(a, b, chunks);
      }),
      { numRuns: runs },
    );
    // Not vacuous: a good share of the runs got a phone file (fast-check's shrinking adds runs).
    expect(served, 'runs with a 200 answer').to.be.greaterThan(runs / 4);
  }

  it('answers the same bytes as node:http alone, for any request bytes (property)', async () => {
    await sameBytes(lanePort, nodePort, Number(process.env.LANE_RUNS ?? 120));
  });

  it('over TLS, answers the same bytes as node:https alone (property)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'deskprov-lane-tls-'));
    try {
      execFileSync('/usr/bin/openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'k.pem', '-out', 'c.pem', '-days', '1', '-subj', '/CN=localhost'], { cwd: dir, stdio: 'pipe' });
      const options = { key: readFileSync(join(dir, 'k.pem')), cert: readFileSync(join(dir, 'c.pem')), ...HTTP_TIMEOUTS };
      const lane = laneWith();
      const withLaneTls = lane.attach(createHttpsServer(options, h.app.listener));
      const nodeTls = createHttpsServer(options, h.app.listener);
      const [a, b] = await Promise.all([listen(withLaneTls), listen(nodeTls)]);
      try {
        await sameBytes(a, b, Number(process.env.LANE_RUNS ?? 120), true);
      } finally {
        withLaneTls.close();
        nodeTls.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers pipelined requests in order, and an upload after them on the same connection', async () => {
    const body = 'log line\n';
    const chunks = [
      get(`/${YEALINK.mac}.cfg`, `User-Agent: ${YEALINK.ua}`) +
        get(`/${POLYCOM.mac}.cfg`, `User-Agent: ${POLYCOM.ua}`) +
        `HEAD /${YEALINK.mac}.cfg HTTP/1.1\r\nHost: prov.test\r\nUser-Agent: ${YEALINK.ua}\r\n\r\n`,
      // node:http takes the connection over at the PUT, and answers the GET after it too. (A log
      // the property above never writes: it appends to -app.log, both servers alike.)
      `PUT /${POLYCOM.mac}-boot.log HTTP/1.1\r\nHost: prov.test\r\nUser-Agent: ${POLYCOM.ua}\r\nContent-Length: ${body.length}\r\n\r\n${body}` +
        get(`/${YEALINK.mac}.cfg`, `User-Agent: ${YEALINK.ua}`, 'Connection: close'),
    ];
    const { bytes, closed } = await exchange(lanePort, chunks, 500);
    expect(closed, 'closed after the Connection: close request').to.equal(true);
    const statuses = [...bytes.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
    expect(statuses).to.deep.equal([200, 200, 200, 201, 200]);
    const etagsSeen = [...bytes.matchAll(/\r\nETag: ("[^"]+")/g)].map((m) => m[1]);
    expect(etagsSeen.slice(0, 3)).to.deep.equal([etags[`${YEALINK.mac}.cfg`], etags[`${POLYCOM.mac}.cfg`], etags[`${YEALINK.mac}.cfg`]]);
    expect(bytes).to.include('account.1.user_name = 1001');
    const files = await h.http.get(`/api/v1/devices/${POLYCOM.mac}/files/boot.log`).set('Authorization', h.auth);
    expect(files.status).to.equal(200);
    expect(files.text).to.equal(body);
  });

  it("closes the connection after answering a request that says Connection: close", async () => {
    const r = await exchange(lanePort, [get(`/${YEALINK.mac}.cfg`, `User-Agent: ${YEALINK.ua}`, 'Connection: close') + get(`/${POLYCOM.mac}.cfg`)], 5_000);
    expect(r.closed).to.equal(true);
    expect((r.bytes.match(/HTTP\/1\.1 /g) ?? []).length, 'nothing answered after it').to.equal(1);
    expect(r.bytes).to.include('\r\nConnection: close\r\n\r\n');
  });

  it('closes the connection after a Connection: close answer even when the client keeps its side open, as node:http does', async () => {
    for (const lane of [laneWith(), null]) {
      const server = phoneServerFactory(h.app.listener, lane)();
      const port = await listen(server);
      try {
        // A client that never closes its end (half-open): the server must not wait for it.
        const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
        let bytes = '';
        socket.on('data', (d: Buffer) => (bytes += d.toString('latin1')));
        const ended = new Promise<void>((r) => socket.once('end', () => r()));
        await new Promise((r) => socket.once('connect', r));
        socket.write(get(`/${YEALINK.mac}.cfg`, `User-Agent: ${YEALINK.ua}`, 'Connection: close'));
        await ended;
        expect(bytes).to.match(/^HTTP\/1\.1 200 OK\r\n/);
        const deadline = Date.now() + 2_000;
        let open = 1;
        while (Date.now() < deadline && (open = await new Promise<number>((r) => server.getConnections((_e, n) => r(n)))) > 0) await new Promise((r) => setTimeout(r, 20));
        socket.destroy();
        expect(open, `server connections left open (${lane ? 'lane' : 'node:http alone'})`).to.equal(0);
      } finally {
        server.close();
      }
    }
  });

  it('a client that sends without reading gets every answer, in order, once node:http takes over the backpressure', async () => {
    const n = 400; // ~2 KB each: well past what the lane lets queue in one socket
    const socket = net.connect(lanePort, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    socket.pause();
    socket.write(Array.from({ length: n }, (_, i) => get(`/${YEALINK.mac}.cfg?n=${i}`, `User-Agent: ${YEALINK.ua}`)).join(''));
    await new Promise((r) => setTimeout(r, 200));
    let bytes = '';
    socket.on('data', (d: Buffer) => (bytes += d.toString('latin1')));
    socket.resume();
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if ((bytes.match(/HTTP\/1\.1 200 OK/g) ?? []).length >= n) {
          clearInterval(check);
          resolve();
        }
      }, 20);
    });
    socket.destroy();
    expect((bytes.match(/HTTP\/1\.1 /g) ?? []).length).to.equal(n);
    expect((bytes.match(/account\.1\.user_name = 1001/g) ?? []).length).to.equal(n);
  });

  it('an idle connection after an answer larger than the lane lets queue is closed after the keep-alive timeout, silently (no 408)', async () => {
    // An answer the socket cannot take at once (a client that reads late, a slow link): the lane
    // must not hand the idle connection to node:http, whose headersTimeout would count it as a
    // request not sent in time and write a 408 on it.
    const big = createHarness({ config: { http: { maxUploadBytes: 16 * 1024 * 1024 } } });
    const server = createServer({ keepAliveTimeout: 400, headersTimeout: 100, requestTimeout: 200, connectionsCheckingInterval: 25 }, big.app.listener);
    try {
      expect((await big.http.post('/api/v1/devices').set('Authorization', big.auth).send({ mac: POLYCOM.mac, vendor: 'polycom', model: 'VVX450' })).status).to.equal(201);
      const file = Buffer.alloc(8 * 1024 * 1024, 0x61);
      const put = await big.http.put(`/${POLYCOM.mac}-directory.xml`).set('User-Agent', POLYCOM.ua).set('Content-Type', 'application/octet-stream').send(file);
      expect(put.status).to.equal(201);
      new PhoneLane({ answer: big.app.phone.answer, keepAliveTimeoutMs: 400, headersTimeoutMs: 100, draining: () => false }).attach(server);
      const port = await listen(server);
      const socket = net.connect(port, '127.0.0.1');
      await new Promise((r) => socket.once('connect', r));
      socket.pause();
      socket.write(get(`/${POLYCOM.mac}-directory.xml`, `User-Agent: ${POLYCOM.ua}`));
      await new Promise((r) => setTimeout(r, 300)); // past node:http's headersTimeout
      let bytes = Buffer.alloc(0);
      const closed = new Promise<number>((r) => socket.once('close', () => r(Date.now())));
      socket.on('data', (d: Buffer) => {
        bytes = Buffer.concat([bytes, d]);
      });
      socket.resume();
      const closedAt = await Promise.race([closed, new Promise<number>((r) => setTimeout(() => r(0), 5_000))]);
      socket.destroy();
      const text = bytes.toString('latin1');
      const headEnd = text.indexOf('\r\n\r\n') + 4;
      expect(text.slice(0, headEnd)).to.match(/^HTTP\/1\.1 200 OK\r\n[^]*Content-Length: 8388608\r\n[^]*Connection: keep-alive\r\n/);
      expect(bytes.length - headEnd, 'body bytes received').to.be.at.least(file.length);
      expect(JSON.stringify(text.slice(headEnd + file.length)), 'bytes after the answer').to.equal('""');
      // Closed by the keep-alive timeout once idle (when the socket drained; the client may still
      // be reading what the kernel holds, so the idle time it sees varies), not by a 408.
      expect(closedAt, 'closed').to.be.greaterThan(0);
    } finally {
      server.close();
      big.destroy();
    }
  });

  it('closes an idle keep-alive connection after its keep-alive timeout, and one that never sends after the headers timeout', async () => {
    const lane = laneWith({ keepAliveTimeoutMs: 150, headersTimeoutMs: 100 });
    const server = phoneServerFactory(h.app.listener, lane)();
    const port = await listen(server);
    try {
      const started = Date.now();
      const served = await exchange(port, [get(`/${YEALINK.mac}.cfg`, `User-Agent: ${YEALINK.ua}`)], 5_000);
      expect(served.closed).to.equal(true);
      expect(served.bytes).to.match(/^HTTP\/1\.1 200 OK\r\n/);
      expect(Date.now() - started).to.be.within(140, 4_000);
      const silent = await exchange(port, [], 5_000);
      expect(silent).to.deep.equal({ bytes: '', closed: true });
    } finally {
      server.close();
    }
  });

  it('while draining, answers with Connection: close and closes the connection; close() ends idle lane connections', async () => {
    let draining = false;
    const lane = laneWith({ draining: () => draining });
    const server = phoneServerFactory(h.app.listener, lane)();
    const port = await listen(server);
    // An idle lane connection: answered once, then silent.
    const idle = net.connect(port, '127.0.0.1');
    let idleBytes = '';
    idle.on('data', (d: Buffer) => (idleBytes += d.toString('latin1')));
    const idleClosed = new Promise<void>((r) => idle.on('close', () => r()));
    idle.write(get(`/${YEALINK.mac}.cfg`, `User-Agent: ${YEALINK.ua}`));
    await new Promise((r) => setTimeout(r, 100));
    expect(idleBytes).to.include('Connection: keep-alive');

    draining = true;
    const r = await exchange(port, [get(`/${YEALINK.mac}.cfg`, `User-Agent: ${YEALINK.ua}`)], 5_000);
    expect(r.closed).to.equal(true);
    expect(r.bytes).to.include('\r\nConnection: close\r\n');
    expect(r.bytes).not.to.include('Keep-Alive');

    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    await idleClosed;
    await closed;
  });
  describe('answers at the end of each turn of reads', () => {
    const plainAnswer = (body: string) => ({ status: 200, headers: { 'Content-Type': 'text/plain', 'Cache-Control': 'no-store' }, body });

    /** `lane` on a server of its own, two client connections to it, and the server's side of each (to deliver reads as the event loop would). */
    async function twoConnections(lane: PhoneLane) {
      const server = lane.attach(createServer(h.app.listener));
      const accepted: net.Socket[] = [];
      server.on('connection', (s: net.Socket) => accepted.push(s));
      const port = await listen(server);
      const clients = [net.connect(port, '127.0.0.1'), net.connect(port, '127.0.0.1')] as const;
      await Promise.all(clients.map((c) => new Promise((r) => c.once('connect', r))));
      while (accepted.length < 2) await new Promise((r) => setTimeout(r, 5));
      const close = () => {
        for (const c of clients) c.destroy();
        server.close();
      };
      return { clients, accepted: accepted as [net.Socket, net.Socket], close };
    }
    const textOf = (c: net.Socket) => {
      let bytes = '';
      c.on('data', (d: Buffer) => (bytes += d.toString('latin1')));
      return () => bytes;
    };
    const until = async (done: () => boolean) => {
      const deadline = Date.now() + 5_000;
      while (Date.now() < deadline && !done()) await new Promise((r) => setTimeout(r, 5));
    };

    it('with a check before them (beforeAnswers), the same bytes as node:http alone, for any request bytes (property)', async () => {
      let calls = 0;
      const server = phoneServerFactory(h.app.listener, laneWith({ beforeAnswers: () => calls++ }))();
      const port = await listen(server);
      try {
        await sameBytes(port, nodePort, Number(process.env.LANE_RUNS ?? 120));
      } finally {
        server.close();
      }
      expect(calls, 'beforeAnswers calls').to.be.greaterThan(0);
    });

    it('answers a request only after a beforeAnswers call made after it was read, whichever connection it came on', async () => {
      // What a phone worker checks there (another process's commits), here a number: each answer
      // says the number its last call saw. Two connections are read in one turn, the number
      // moving between the reads: the second request was read after the move, so its answer must
      // show it (a check made once, before the turn's first answer, would not).
      let current = 0;
      let seen = -1;
      const lane = laneWith({ answer: (req) => plainAnswer(`${req.url} saw ${seen}\n`), beforeAnswers: () => (seen = current) });
      const { clients, accepted, close } = await twoConnections(lane);
      try {
        const replies = clients.map(textOf);
        // As the event loop delivers two reads in one turn.
        accepted[0].emit('data', Buffer.from(get('/first.cfg'), 'latin1'));
        current = 1;
        accepted[1].emit('data', Buffer.from(get('/second.cfg'), 'latin1'));
        await until(() => replies.every((r) => r().includes(' saw ')));
        expect(replies[1]!()).to.match(/\r\n\r\n\/second\.cfg saw 1\n$/);
        expect(replies[0]!()).to.match(/\r\n\r\n\/first\.cfg saw [01]\n$/);
      } finally {
        close();
      }
    });

    it('an answer that throws (a bug) ends its own connection; the others read in that turn are still answered', async () => {
      const errors: unknown[] = [];
      const lane = laneWith({
        answer: (req) => {
          if (req.url === '/bug.cfg') throw new Error('a bug');
          return plainAnswer('fine\n');
        },
        onError: (err) => errors.push(err),
      });
      const { clients, accepted, close } = await twoConnections(lane);
      try {
        const closed = new Promise<void>((r) => clients[0].once('close', () => r()));
        const reply = textOf(clients[1]);
        accepted[0].emit('data', Buffer.from(get('/bug.cfg'), 'latin1'));
        accepted[1].emit('data', Buffer.from(get('/fine.cfg'), 'latin1'));
        await closed;
        await until(() => reply().endsWith('fine\n'));
        expect(reply()).to.match(/^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nfine\n$/);
        expect(errors.map((e) => (e as Error).message)).to.deep.equal(['a bug']);
      } finally {
        close();
      }
    });

    it("a request and the end of the client's sending in one turn: answered, then the connection finished, by the lane or by node:http", async () => {
      const server = phoneServerFactory(h.app.listener, laneWith({ beforeAnswers: () => {} }))();
      const accepted: net.Socket[] = [];
      server.on('connection', (s: net.Socket) => accepted.push(s));
      const port = await listen(server);
      try {
        // The lane's to answer; then one it hands to node:http (not a phone file).
        for (const [request, answer] of [
          [get(`/${YEALINK.mac}.cfg`, `User-Agent: ${YEALINK.ua}`), /^HTTP\/1\.1 200 OK\r\n[^]*account\.1\.user_name = 1001/],
          [get('/robots.txt'), /^HTTP\/1\.1 \d{3} [^]*\r\nX-Request-Id: /],
        ] as const) {
          const n = accepted.length;
          const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
          let bytes = '';
          socket.on('data', (d: Buffer) => (bytes += d.toString('latin1')));
          const ended = new Promise<boolean>((r) => {
            socket.once('end', () => r(true));
            setTimeout(() => r(false), 3_000);
          });
          await new Promise((r) => socket.once('connect', r));
          while (accepted.length === n) await new Promise((r) => setTimeout(r, 5));
          // As the event loop delivers a read and then the end of the stream in one turn.
          const peer = accepted[n]!;
          peer.emit('data', Buffer.from(request, 'latin1'));
          peer.emit('end');
          const finished = await ended;
          socket.destroy();
          expect(bytes, request).to.match(answer);
          expect(finished, `server finished the connection after ${JSON.stringify(request)}`).to.equal(true);
        }
      } finally {
        server.close();
      }
    });
  });
});
