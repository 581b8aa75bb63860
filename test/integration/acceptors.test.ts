import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import net from 'node:net';
import { addAcceptors } from '../../server/http/acceptors.js';

/** Connections accepted before the next check phase, after `n` connect while the loop is busy. */
async function acceptedInOneTurn(servers: Server[], port: number, n: number): Promise<{ firstTurn: number; total: () => number; clients: net.Socket[] }> {
  let accepted = 0;
  for (const s of servers) s.on('connection', () => accepted++);
  const clients = Array.from({ length: n }, () => net.connect(port, '127.0.0.1'));
  // In a check phase, keep the loop busy while the kernel completes every handshake into the
  // accept queue; then count what the next turn's poll phase accepts.
  const firstTurn = await new Promise<number>((resolve) =>
    setImmediate(() => {
      const until = Date.now() + 150;
      while (Date.now() < until) {
        /* a busy turn, like one serving a thousand phones */
      }
      const before = accepted;
      setImmediate(() => resolve(accepted - before));
    }),
  );
  return { firstTurn, total: () => accepted, clients };
}

function listen(s: Server): Promise<number> {
  return new Promise((resolve) => s.listen({ port: 0, host: '127.0.0.1', backlog: 512 }, () => resolve((s.address() as net.AddressInfo).port)));
}

describe('extra accept handles on the listening socket', function () {
  this.timeout(20_000);
  const open: Array<{ close(): unknown }> = [];
  afterEach(() => {
    for (const s of open.splice(0)) s.close();
  });

  it('one handle accepts one queued connection per event-loop turn (the behaviour being fixed)', async () => {
    const server = createServer((_req, res) => res.end('ok'));
    open.push(server);
    const port = await listen(server);
    const r = await acceptedInOneTurn([server], port, 40);
    open.push(...r.clients.map((c) => ({ close: () => c.destroy() })));
    expect(r.firstTurn).to.equal(1);
  });

  it('with 16 handles a burst is accepted 16 per turn and every connection is served', async () => {
    const handler = (_req: unknown, res: { end(s: string): void }) => res.end('ok');
    const server = createServer(handler);
    open.push(server);
    const port = await listen(server);
    const extra = await addAcceptors(server, { count: 16, backlog: 512, create: () => createServer(handler) });
    open.push(...extra);
    expect(extra).to.have.length(15);

    const r = await acceptedInOneTurn([server, ...extra], port, 40);
    open.push(...r.clients.map((c) => ({ close: () => c.destroy() })));
    expect(r.firstTurn).to.equal(16);

    // Every connection ends up accepted and answered, whichever handle took it.
    const answers = await Promise.all(
      r.clients.map(
        (c) =>
          new Promise<string>((resolve, reject) => {
            let data = '';
            c.setEncoding('utf8');
            c.on('data', (d: string) => {
              data += d;
              if (data.endsWith('ok')) resolve(data);
            });
            c.on('error', reject);
            c.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
          }),
      ),
    );
    expect(answers.every((a) => a.startsWith('HTTP/1.1 200'))).to.equal(true);
    expect(r.total()).to.equal(40);
  });

  it('re-applies the backlog: extra handles do not shrink it to the default', async function () {
    const server = net.createServer();
    open.push(server);
    await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1', backlog: 2048 }, resolve));
    const extra = await addAcceptors(server, { count: 2, backlog: 2048, create: () => net.createServer() });
    open.push(...extra);
    // The kernel reports a listening socket's backlog as its send-queue column.
    const port = (server.address() as net.AddressInfo).port;
    const { execFileSync } = await import('node:child_process');
    let ss = '';
    try {
      ss = execFileSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' });
    } catch {
      return void this.skip();
    }
    const backlog = Number(ss.trim().split(/\s+/)[2]);
    expect(backlog).to.equal(2048);
  });

  it('a server that is not listening is refused, nothing is spawned', async () => {
    const server = createServer();
    let err: unknown;
    await addAcceptors(server, { count: 4, backlog: 128, create: () => createServer() }).catch((e: unknown) => (err = e));
    expect(String(err)).to.match(/not listening/);
  });

  it('the server closed while handles are being passed (SIGTERM just after listening): settles, never throws', async () => {
    // Shutdown closes the listening handle while the helper still has handles queued to send
    // back; each queued send then fails with EINVAL on the helper's ChildProcess.
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown) => uncaught.push(err);
    const mochaHandlers = process.listeners('uncaughtException');
    process.removeAllListeners('uncaughtException');
    process.on('uncaughtException', onUncaught);
    try {
      for (let round = 0; round < 3; round++) {
        const server = createServer();
        await listen(server);
        const pending = addAcceptors(server, { count: 64, backlog: 512, create: () => createServer() });
        server.close();
        const extra = await pending.catch(() => []);
        for (const s of extra) s.close();
        // Queued sends fail on later turns: give them time to surface.
        await new Promise((r) => setTimeout(r, 300));
      }
    } finally {
      process.removeListener('uncaughtException', onUncaught);
      for (const h of mochaHandlers) process.on('uncaughtException', h);
    }
    expect(uncaught.map(String)).to.deep.equal([]);
  });
});
