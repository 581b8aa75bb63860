/**
 * Graceful shutdown of the real process: `node --import tsx server/main.ts` on a temp database
 * and port. SIGTERM while a phone's upload is half sent: the upload completes with 2xx and is
 * stored (and its fetch record written) and its answer says Connection: close; a request sent on a
 * keep-alive connection that was idle at SIGTERM (node:http's or the phone lane's) is answered
 * (Connection: close), not cut off; new connections are refused, and the process exits 0.
 */
import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import http from 'node:http';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startDeskprovProcess, type DeskprovProcess } from '../helpers/process.js';

const TOKEN = 'shutdown-test-admin-token-0123456789';
const MAC = '0004f2aabb77';

describe('graceful shutdown (real process)', function () {
  this.timeout(60_000);
  let server: DeskprovProcess | undefined;
  let child: ChildProcess;
  let port: number;

  before(async () => {
    server = await startDeskprovProcess({
      prefix: 'deskprov-shutdown-',
      token: TOKEN,
      // Fetch records go through the writer thread here: shutdown must wait for it too.
      config: { log: { level: 'info' }, provisioning: { fetchLogThread: true } },
    });
    ({ child, port } = server);
  });

  after(() => server?.destroy());

  it('finishes an upload in flight after SIGTERM, answers a request on an idle keep-alive connection, refuses new connections and exits 0', async () => {
    const created = await fetch(`http://127.0.0.1:${port}/api/v1/devices`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ mac: MAC, vendor: 'polycom', model: 'VVX450' }),
    });
    expect(created.status).to.equal(201);

    // A keep-alive connection that is idle when SIGTERM comes (nginx keeps a pool of them).
    const idleAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const get = (a: http.Agent) => new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: '/healthz', agent: a }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
      }).on('error', reject);
    });
    expect((await get(idleAgent)).connection).to.equal('keep-alive');
    // And one the phone lane holds (a phone between its boot files; server/http/phone-lane.ts).
    const phoneAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const phoneGet = () => new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: `/${MAC}.cfg`, agent: phoneAgent, headers: { 'User-Agent': `FileTransport PolycomVVX-VVX_450-UA/6.4.3.5018 (SN:${MAC}) Type/Application` } }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
      }).on('error', reject);
    });
    expect(await phoneGet()).to.deep.equal({ status: 200, connection: 'keep-alive' });

    const body = Buffer.from('boot log line\n'.repeat(2000));
    const agent = new http.Agent({ keepAlive: true });
    const answer = new Promise<{ status: number; text: string; connection: string | undefined }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'PUT', path: `/${MAC}-boot.log`, agent, headers: { 'Content-Length': body.length, 'User-Agent': `FileTransport PolycomVVX-VVX_450-UA/6.4.3.5018 (SN:${MAC}) Type/Application` } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text, connection: res.headers.connection }));
      });
      req.on('error', reject);
      req.write(body.subarray(0, 1000));
      // The rest goes out well after SIGTERM.
      setTimeout(() => {
        child.kill('SIGTERM');
        setTimeout(() => req.end(body.subarray(1000)), 700);
      }, 200);
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

    // A request sent on the idle connection just after SIGTERM is answered, not cut off, and its
    // answer closes the connection.
    await new Promise((r) => setTimeout(r, 300));
    const late = await get(idleAgent).catch((err: Error) => ({ status: 0, connection: err.message }));
    expect(late, 'request on an idle keep-alive connection right after SIGTERM').to.deep.equal({ status: 200, connection: 'close' });
    idleAgent.destroy();
    const latePhone = await phoneGet().catch((err: Error) => ({ status: 0, connection: err.message }));
    expect(latePhone, 'phone request on an idle lane connection right after SIGTERM').to.deep.equal({ status: 200, connection: 'close' });
    phoneAgent.destroy();

    // Once SIGTERM is in, the listener is closed: a new connection is refused.
    await new Promise((r) => setTimeout(r, 250));
    // (A connection of its own: fetch() would reuse the keep-alive connection of the POST above,
    // which the shutdown leaves open for a moment so a request already on its way is answered.)
    const refused = await new Promise<boolean>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/healthz', agent: false }, (res) => {
        res.resume();
        resolve(false);
      });
      req.on('error', () => resolve(true));
    });
    expect(refused, 'new connection refused while shutting down').to.equal(true);

    const r = await answer;
    expect(r.status, r.text).to.equal(201);
    // The answer closes its keep-alive connection: a client (nginx's upstream pool) sends no
    // further request on a connection the shutdown is about to close under it.
    expect(r.connection, 'Connection header of an answer made while shutting down').to.equal('close');
    agent.destroy();
    expect(await exited, server?.stderr()).to.equal(0);

    // The upload was stored before the database closed.
    const db = new Database(join(server!.dir, 'deskprov.db'), { readonly: true });
    try {
      const row = db.prepare('SELECT length(content) AS n FROM device_files WHERE mac = ? AND slot = ?').get(MAC, 'boot.log') as { n: number } | undefined;
      expect(row?.n).to.equal(body.length);
      // And so was its fetch record, which the writer thread had been handed at most a moment before.
      const logged = db.prepare('SELECT status FROM fetch_log WHERE mac = ? AND file = ?').all(MAC, `${MAC}-boot.log`) as Array<{ status: number }>;
      expect(logged).to.deep.equal([{ status: 201 }]);
    } finally {
      db.close();
    }
  });
});
