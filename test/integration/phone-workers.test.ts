/**
 * Phone workers (http.phoneWorkers) in the real process tree: `node --import tsx server/main.ts`
 * with one worker accepting on the same socket. Requests go over many keep-alive connections so
 * both processes answer; the worker's share is read from deskprov_phone_worker_requests_total.
 */
import { expect } from 'chai';
import Database from 'better-sqlite3';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../helpers/ports.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TOKEN = 'workers-test-admin-token-0123456789';
const MAC = '001565aabb01';
const UA = `Yealink SIP-T54W 96.86.0.100 00:15:65:aa:bb:01`;
const CONNECTIONS = 12;


interface Answer {
  status: number;
  body: string;
}

describe('phone workers (real processes)', function () {
  this.timeout(90_000);
  let dir: string;
  let child: ChildProcess;
  let port: number;
  let output = '';
  let agent: http.Agent;
  /** Requests for phone files (a MAC-named path) this test has made: each is counted once in /metrics. */
  let phoneRequests = 0;

  /** The next requests open new connections: each is accepted by whichever process wins it. */
  const newConnections = () => {
    agent?.destroy();
    agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  };
  /** One request on the shared keep-alive agent (CONNECTIONS sockets, spread over both processes). */
  const req = (method: string, path: string, o: { body?: string; headers?: Record<string, string> } = {}): Promise<Answer> =>
    new Promise((resolve, reject) => {
      if (/^\/[0-9a-f]{12}/.test(path)) phoneRequests++;
      const r = http.request({ host: '127.0.0.1', port, method, path, agent, headers: { 'User-Agent': UA, ...o.headers } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      r.on('error', reject);
      r.end(o.body);
    });
  const api = (method: string, path: string, body?: unknown) =>
    req(method, `/api/v1/${path}`, {
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': typeof body === 'string' ? 'text/plain' : 'application/json' },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
  /** The same file over every connection at once: whichever process holds the socket answers. */
  const everywhere = (path: string, n = CONNECTIONS * 2, headers: Record<string, string> = {}) => Promise.all(Array.from({ length: n }, () => req('GET', path, { headers })));
  const metric = async (name: string): Promise<number> => {
    const m = await req('GET', '/metrics', { headers: { Authorization: `Bearer ${TOKEN}` } });
    return Number(new RegExp(`^${name} (\\d+)`, 'm').exec(m.body)?.[1] ?? NaN);
  };
  const workerServed = () => metric('deskprov_phone_worker_requests_total');
  const workerPids = (): number[] => {
    try {
      // Children of the primary running the worker entry (not the short-lived acceptors helper).
      const pids = execFileSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
      return pids.filter((p) => {
        try {
          return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('cluster/worker.ts');
        } catch {
          return false;
        }
      });
    } catch {
      return [];
    }
  };
  const until = async (what: string, check: () => Promise<boolean> | boolean, ms = 15_000) => {
    const end = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'deskprov-workers-'));
    port = await freePort();
    const config = join(dir, 'deskprov.json');
    writeFileSync(config, JSON.stringify({
      http: { host: '127.0.0.1', port, phoneWorkers: 1, acceptors: 4 },
      database: { path: join(dir, 'deskprov.db') },
      admin: { token: TOKEN },
      // Nothing rendered ahead: a file is rendered by whichever process a phone asks first.
      provisioning: { baseUrl: `http://127.0.0.1:${port}/`, prerender: false },
      sip: { bindHost: '127.0.0.1', port: 0 },
      security: { enumeration: { maxFailures: 20 } },
      log: { level: 'info' },
    }));
    child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts', '--config', config], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    newConnections();
    await until('the primary', async () => (await req('GET', '/healthz').catch(() => ({ status: 0 }))).status === 200, 60_000);
    // /healthz says when the worker takes phones (it warms up first).
    await until('the worker', async () => JSON.parse((await req('GET', '/healthz')).body).phoneWorkers?.accepting === 1, 60_000);
    expect(JSON.parse((await req('GET', '/healthz')).body).phoneWorkers).to.deep.equal({ configured: 1, accepting: 1 });
    expect((await api('POST', 'users', { extension: '1001', displayName: 'Alice', sipPassword: 'first-secret' })).status).to.equal(201);
    expect((await api('POST', 'devices', { mac: MAC, vendor: 'yealink', model: 'T54W', ownerExtension: '1001' })).status).to.equal(201);
  });

  // On a failure, the processes' warnings and errors go to the test output (CI keeps them).
  afterEach(async function () {
    if (this.currentTest?.state !== 'failed') return;
    await new Promise((r) => setTimeout(r, 500)); // log lines still on their way
    const notable = output.split('\n').filter((l) => /"level":[456]0/.test(l) && !l.includes('unknown-mac'));
    process.stderr.write(`deskprov output (warnings and errors):\n${notable.slice(-40).join('\n')}\n`);
  });

  after(() => {
    agent?.destroy();
    if (child && child.exitCode === null) child.kill('SIGKILL');
    for (const pid of child ? workerPids() : []) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('the worker answers phone files on the shared socket, with the same bytes as the primary', async () => {
    const before = await workerServed();
    const bodies = new Set<string>();
    // The first requests a worker gets for a file not stored yet go to the primary, which renders
    // and stores it; from then on the worker answers them itself.
    await until('worker-answered requests in /metrics', async () => {
      const answers = await everywhere(`/${MAC}.cfg`);
      expect(answers.every((a) => a.status === 200 && a.body.includes('first-secret'))).to.equal(true);
      for (const a of answers) bodies.add(a.body);
      return (await workerServed()) > before;
    });
    expect(bodies.size).to.equal(1);
  });

  it('the worker renders a file with no stored render itself, and the primary stores that render', async () => {
    const counter = 'deskprov_phone_requests_total{vendor="yealink",kind="device",status="200"}';
    const renders = 'deskprov_render_duration_seconds_count{vendor="yealink"}';
    // A count not shown yet is 0.
    const count = async (name: string) => (await metric(name)) || 0;
    // Until the tallies of earlier tests' requests have all arrived (workers send them every 250 ms).
    const settled = async () => {
      for (let before = await count(counter); ; ) {
        await new Promise((r) => setTimeout(r, 600));
        const now = await count(counter);
        if (now === before) return;
        before = now;
      }
    };
    // A new device each try, until the worker has answered some of its first fetches.
    for (let attempt = 0; ; attempt++) {
      const mac = `001565aabb7${attempt}`;
      expect((await api('POST', 'devices', { mac, vendor: 'yealink', model: 'T54W', ownerExtension: '1001' })).status).to.equal(201);
      await settled();
      const [served0, worker0, renders0] = [await count(counter), await count('deskprov_phone_worker_requests_total'), await count(renders)];
      // One request on each connection at once: both processes get first fetches of the file.
      const ua = `Yealink SIP-T54W 96.86.0.100 ${mac.match(/../g)!.join(':')}`;
      const answers = await Promise.all(Array.from({ length: CONNECTIONS }, () => req('GET', `/${mac}.cfg`, { headers: { 'User-Agent': ua } })));
      expect(answers.every((a) => a.status === 200 && a.body.includes('first-secret'))).to.equal(true);
      expect(new Set(answers.map((a) => a.body)).size, 'the same bytes from either process').to.equal(1);
      await until('the worker\'s tally', async () => (await count(counter)) - served0 === CONNECTIONS);
      const byWorker = (await count('deskprov_phone_worker_requests_total')) - worker0;
      if (byWorker === 0 && attempt < 5) continue;
      expect(byWorker, 'first fetches the worker answered').to.be.above(0);
      // Rendered once by each process that answered (then cached there), none passed on: a
      // worker that passed its requests to the primary would leave one render where two are due.
      // The worker's render arrives with its tally.
      const processes = 1 + (byWorker < CONNECTIONS ? 1 : 0);
      await until('the renders counted', async () => (await count(renders)) - renders0 === processes);
      // The worker wrote nothing itself; the primary stored the render it was sent (or its own).
      const db = new Database(join(dir, 'deskprov.db'), { readonly: true });
      try {
        const stored = () => db.prepare("SELECT body FROM rendered_files WHERE mac = ? AND template = 'device'").get(mac) as { body: Buffer } | undefined;
        await until('the stored render', () => stored() !== undefined);
        expect(stored()!.body.toString()).to.equal(answers[0]!.body);
      } finally {
        db.close();
      }
      return;
    }
  });

  it('never serves a stale config after an acknowledged change, whichever process answers', async () => {
    for (let i = 1; i <= 5; i++) {
      const secret = `secret-round-${i}`;
      expect((await api('PATCH', 'users/1001', { sipPassword: secret })).status).to.equal(200);
      const answers = await everywhere(`/${MAC}.cfg`);
      const stale = answers.filter((a) => !a.body.includes(secret));
      expect(stale, `round ${i}: ${stale.length} stale answers`).to.have.length(0);
    }
    // A template change: the worker's catalog follows the primary's save.
    const shipped = (await api('GET', 'templates/yealink/device')).body;
    expect((await api('PUT', 'templates/yealink/device', `${shipped}\nstatic.workers_test = 1\n`)).status).to.equal(200);
    const afterSave = await everywhere(`/${MAC}.cfg`);
    expect(afterSave.every((a) => a.body.includes('static.workers_test = 1'))).to.equal(true);
    // Deleted and added again (version 1 again) for someone else: never the old owner's line.
    expect((await api('POST', 'users', { extension: '1002', displayName: 'Bob', sipPassword: 'bobs-secret' })).status).to.equal(201);
    expect((await api('DELETE', `devices/${MAC}`)).status).to.equal(204);
    expect((await api('POST', 'devices', { mac: MAC, vendor: 'yealink', model: 'T54W', ownerExtension: '1002' })).status).to.equal(201);
    const readded = await everywhere(`/${MAC}.cfg`);
    expect(readded.every((a) => a.status === 200 && a.body.includes('bobs-secret') && !a.body.includes('secret-round'))).to.equal(true);
  });

  it('a download-auth change reaches the worker at once: enforce means 401 from every process', async () => {
    const mac = MAC;
    expect((await api('PUT', `devices/${mac}/download-auth`, { mode: 'provision' })).status).to.equal(200);
    // Both processes answer (and cache the device and its download-auth row) while provisioning.
    const provisioning = await everywhere(`/${mac}.cfg`);
    expect(provisioning.every((a) => a.status === 200)).to.equal(true);
    // The phone has its credentials once its fetch records (sent by the worker every 250 ms) are in.
    await until('the device to be ready for enforce', async () => (await api('GET', `devices/${mac}/download-auth`)).body.includes('"ready":true'));
    expect((await api('PUT', `devices/${mac}/download-auth`, { mode: 'enforce' })).status).to.equal(200);
    const enforced = await everywhere(`/${mac}.cfg`);
    expect(enforced.map((a) => a.status).filter((st) => st !== 401), 'answers other than 401').to.deep.equal([]);
    expect((await api('PUT', `devices/${mac}/download-auth`, { mode: 'off' })).status).to.equal(200);
    expect((await everywhere(`/${mac}.cfg`)).every((a) => a.status === 200)).to.equal(true);
  });

  it('passes what it does not answer to the primary: admin API, uploads, with the client address', async () => {
    const passedBefore = await metric('deskprov_phone_worker_passed_total');
    const lists = await Promise.all(Array.from({ length: CONNECTIONS * 2 }, () => api('GET', 'devices')));
    expect(lists.every((l) => l.status === 200 && l.body.includes(MAC))).to.equal(true);
    // Some of those connections were the worker's: it passed the requests on.
    expect(await metric('deskprov_phone_worker_passed_total')).to.be.above(passedBefore);
    // Polycom-style upload over every connection; each one is stored and read back.
    const polycom = '0004f2aabb02';
    expect((await api('POST', 'devices', { mac: polycom, vendor: 'polycom', model: 'VVX450' })).status).to.equal(201);
    const polycomUa = { 'User-Agent': 'FileTransport PolycomVVX-VVX_450-UA/6.4.3.5018 Type/Application' };
    const puts = await Promise.all(
      Array.from({ length: CONNECTIONS }, (_, i) => req('PUT', `/${polycom}-directory.xml`, { body: `<directory n="${i}"/>`, headers: polycomUa })),
    );
    expect(puts.map((p) => p.status)).to.deep.equal(Array(CONNECTIONS).fill(201));
    const back = await everywhere(`/${polycom}-directory.xml`, CONNECTIONS * 2, polycomUa);
    expect(back.every((b) => b.status === 200 && /<directory n="\d+"\/>/.test(b.body))).to.equal(true);
    // Request log lines name the real client, not the internal socket, for every admin request.
    const logged = output.split('\n').filter((l) => l.includes('"path":"/api/v1/devices"') && l.includes('"method":"GET"'));
    expect(logged.length).to.be.at.least(CONNECTIONS * 2);
    expect(new Set(logged.map((l) => (JSON.parse(l) as { ip?: string }).ip))).to.deep.equal(new Set(['127.0.0.1']));
  });

  it('counts enumeration failures from both processes in one guard, and both answer 429', async () => {
    const probes = await Promise.all(Array.from({ length: 30 }, (_, i) => req('GET', `/0015650000${String(i).padStart(2, '0')}.cfg`, { headers: { 'User-Agent': 'curl/8' } })));
    expect(probes.every((p) => p.status === 404 || p.status === 429)).to.equal(true);
    await until('the block to reach the worker', async () => (await everywhere(`/${MAC}.cfg`)).every((a) => a.status === 429));
    const blocks = JSON.parse((await api('GET', 'security/blocks')).body) as unknown;
    expect(JSON.stringify(blocks)).to.include('127.0.0.1');
    // Lifting the block lifts it in the worker too (the admin request itself is not blocked).
    expect((await api('DELETE', 'security/blocks/127.0.0.1')).status).to.be.oneOf([200, 204]);
    await until('the lift to reach the worker', async () => (await everywhere(`/${MAC}.cfg`)).every((a) => a.status === 200));
  });

  it('records every fetch in the device\'s history, whichever process answered it', async () => {
    // A device of this test's own: no other test's fetch records can arrive among its history.
    const mac = '001565aabb03';
    const uaWith = (firmware: string) => `Yealink SIP-T54W ${firmware} 00:15:65:aa:bb:03`;
    expect((await api('POST', 'devices', { mac, vendor: 'yealink', model: 'T54W', ownerExtension: '1001' })).status).to.equal(201);
    // Until its file is stored, a worker passes it on; one request has the primary store it.
    expect((await req('GET', `/${mac}.cfg`, { headers: { 'User-Agent': uaWith('96.86.0.100') } })).status).to.equal(200);
    await new Promise((r) => setTimeout(r, 600)); // the workers' tallies of earlier requests arrive
    const before = await workerServed();
    const requests = 20; // what the device endpoint shows of the history
    // Each with a User-Agent of its own, so none is a repeat of another (those share a row: below).
    const firmwares = Array.from({ length: requests }, (_, i) => `96.86.1.${i}`);
    const answers = await Promise.all(firmwares.map((fw) => req('GET', `/${mac}.cfg`, { headers: { 'User-Agent': uaWith(fw) } })));
    expect(answers.every((a) => a.status === 200)).to.equal(true);
    await until('the worker\'s share in /metrics', async () => (await workerServed()) > before);
    type Fetch = { ip: string; model: string; firmware: string; file: string; status: number; configVersion: number | null; userAgent: string; repeats: number };
    const ours = async () => ((JSON.parse((await api('GET', `devices/${mac}`)).body) as { fetches: Fetch[] }).fetches).filter((f) => f.firmware.startsWith('96.86.1.'));
    await until('every fetch in the history', async () => (await ours()).length === requests, 5000);
    expect((await ours()).map((f) => f.firmware).sort()).to.deep.equal([...firmwares].sort());
    for (const f of await ours()) {
      expect(f).to.include({ ip: '127.0.0.1', model: 'T54W', file: `${mac}.cfg`, status: 200, userAgent: uaWith(f.firmware), repeats: 0 });
      expect(f.configVersion).to.be.a('number');
    }
  });

  it('counts a repeated fetch on the row of the first, whichever process answered, and never loses one', async () => {
    const mac = '001565aabb04';
    const ua = 'Yealink SIP-T54W 96.86.0.100 00:15:65:aa:bb:04';
    expect((await api('POST', 'devices', { mac, vendor: 'yealink', model: 'T54W', ownerExtension: '1001' })).status).to.equal(201);
    expect((await req('GET', `/${mac}.cfg`, { headers: { 'User-Agent': ua } })).status).to.equal(200); // stored by the primary
    await new Promise((r) => setTimeout(r, 600)); // the render is written, and earlier tallies arrive
    const before = await workerServed();
    const requests = 30;
    const answers = await everywhere(`/${mac}.cfg`, requests, { 'User-Agent': ua });
    expect(answers.every((a) => a.status === 200)).to.equal(true);
    await until('the worker\'s share in /metrics', async () => (await workerServed()) > before);
    type Fetch = { status: number; repeats: number; at: string; lastAt: string | null };
    const rows = async () => (JSON.parse((await api('GET', `devices/${mac}`)).body) as { fetches: Fetch[] }).fetches;
    // A row per process that answered (and per window), each counting the others. A worker reports
    // its later repeats when its window ends, or when an admin read asks (the next read shows them).
    await until('every fetch counted', async () => (await rows()).reduce((n, f) => n + 1 + f.repeats, 0) === requests + 1, 5_000);
    const got = await rows();
    expect(got.length, JSON.stringify(got)).to.be.at.most(2);
    for (const f of got) if (f.repeats > 0) expect(Date.parse(f.lastAt!)).to.be.at.least(Date.parse(f.at));
  });

  it('every phone request is counted once in /metrics, whichever process answered or passed it on', async () => {
    // Counted by label, and timed: the duration histogram counts each request once as well.
    const counted = async () => {
      const m = await req('GET', '/metrics', { headers: { Authorization: `Bearer ${TOKEN}` } });
      const byLabel = [...m.body.matchAll(/^deskprov_phone_requests_total\{[^}]*\} (\d+)/gm)].reduce((sum, x) => sum + Number(x[1]), 0);
      const timed = Number(/^deskprov_phone_request_duration_seconds_count (\d+)/m.exec(m.body)?.[1]);
      return [byLabel, timed];
    };
    expect(phoneRequests).to.be.above(100);
    await until('the workers\' counts to arrive', async () => (await counted()).every((n) => n === phoneRequests), 5000);
  });

  it('a worker that dies is started again and phones keep being answered', async () => {
    const [pid] = workerPids();
    expect(pid, 'a worker process').to.be.a('number');
    process.kill(pid!, 'SIGKILL');
    newConnections();
    await until('a new worker', () => workerPids().some((p) => p !== pid) && output.split('phone worker accepting').length > 2, 45_000);
    expect(JSON.parse((await req('GET', '/healthz')).body).phoneWorkers).to.deep.equal({ configured: 1, accepting: 1 });
    // Every answer is a 200, and the new worker gives some of them (fresh connections are accepted
    // by whichever process wins each; a round on the primary's alone tries again).
    const before = await workerServed();
    await until('the new worker\'s answers in /metrics', async () => {
      newConnections();
      const answers = await everywhere(`/${MAC}.cfg`);
      expect(answers.map((a) => a.status)).to.deep.equal(answers.map(() => 200));
      return (await workerServed()) > before;
    });
  });

  it('SIGTERM stops the worker and the primary, exit 0, and the repeats they had counted are written', async () => {
    const mac = '001565aabb05';
    const ua = 'Yealink SIP-T54W 96.86.0.100 00:15:65:aa:bb:05';
    expect((await api('POST', 'devices', { mac, vendor: 'yealink', model: 'T54W', ownerExtension: '1001' })).status).to.equal(201);
    expect((await req('GET', `/${mac}.cfg`, { headers: { 'User-Agent': ua } })).status).to.equal(200);
    let asked = 1;
    await new Promise((r) => setTimeout(r, 600)); // the render is written
    // Rounds of 40 until the worker has answered some: which process answers depends on which
    // accepted each connection and on whether the worker has seen the stored render yet.
    const before = await workerServed();
    await until('the worker\'s share in /metrics', async () => {
      const answers = await everywhere(`/${mac}.cfg`, 40, { 'User-Agent': ua });
      asked += answers.length;
      expect(answers.map((a) => a.status)).to.deep.equal(answers.map(() => 200));
      if ((await workerServed()) > before) return true;
      newConnections();
      return false;
    });
    const pids = workerPids();
    agent.destroy();
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    // Within 10 s of the first repeats: what each process counted after them is reported only now.
    child.kill('SIGTERM');
    expect(await exited).to.equal(0);
    for (const pid of pids) expect(() => process.kill(pid, 0)).to.throw();
    const db = new Database(join(dir, 'deskprov.db'), { readonly: true });
    try {
      const rows = db.prepare('SELECT repeat_count AS repeats FROM fetch_log WHERE mac = ?').all(mac) as Array<{ repeats: number }>;
      expect(rows.reduce((n, r) => n + 1 + r.repeats, 0), JSON.stringify(rows)).to.equal(asked);
    } finally {
      db.close();
    }
  });
});
