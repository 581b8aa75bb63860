/**
 * Ceilings for a Node server on this machine: the files nginx serves (read into memory at start)
 * answered with the headers deskprov sends (type, no-store, ETag, nosniff, length) and nothing
 * else: no path checks, no device lookup, no fetch log, no metrics. Two kinds: `node:http` (a
 * request listener; what a Node server that leaves HTTP to node:http can reach) and `lane`
 * (deskprov's phone lane, server/http/phone-lane.ts, answering from the same map: what deskprov's
 * HTTP layer can reach). Each runs in as many processes as deskprov (primary plus phone workers,
 * all accepting on one listening socket), so the gap between the lane's figure and deskprov's in
 * the same run is what deskprov's own work costs.
 *
 * Run as a script it is the server: `bare-node.ts <root> <processes> <acceptors> <kind>` (a forked
 * copy with `<root> child <acceptors> <kind>` accepts on the socket its parent sends).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addAcceptors } from '../../../server/http/acceptors.js';
import { PhoneLane } from '../../../server/http/phone-lane.js';

const SELF = fileURLToPath(import.meta.url);
const BACKLOG = 4096;

export interface RunningBareNode {
  port: number;
  /** The first process (the others are its children). */
  pid: number;
  stop(): Promise<void>;
}

/**
 * Starts the bare server over `root` in `processes` processes with `acceptors` accept handles
 * each (deskprov's `http.acceptors`); resolves once every process is accepting.
 */
export type BareKind = 'node:http' | 'lane';

export async function startBareNode(root: string, processes: number, acceptors: number, kind: BareKind = 'node:http'): Promise<RunningBareNode> {
  const child = fork(SELF, [root, String(processes), String(acceptors), kind], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m) => resolve(Number(m)));
    child.once('exit', (code) => reject(new Error(`bare node:http server exited (${code})`)));
  });
  return {
    port,
    pid: child.pid ?? 0,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

function serve(root: string, kind: BareKind): () => Server {
  const files = new Map<string, { status: number; headers: Record<string, string>; body: Buffer }>();
  for (const name of readdirSync(root)) {
    const body = readFileSync(join(root, name));
    const type = name.endsWith('.xml') ? 'text/xml; charset=utf-8' : 'text/plain; charset=utf-8';
    const etag = `"${body.length.toString(36)}-${files.size.toString(36)}"`;
    files.set(`/${name}`, {
      status: 200,
      headers: { 'Content-Type': type, 'Cache-Control': 'no-store', ETag: etag, 'X-Content-Type-Options': 'nosniff', 'Content-Security-Policy': "default-src 'none'; sandbox", 'Content-Length': String(body.length) },
      body,
    });
  }
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const f = files.get(req.url ?? '/');
    if (!f) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': '10' });
      res.end('Not Found\n');
      return;
    }
    res.writeHead(f.status, f.headers);
    res.end(req.method === 'HEAD' ? undefined : f.body);
  };
  const lane = kind === 'lane' ? new PhoneLane({ answer: (r) => files.get(r.url) ?? null, keepAliveTimeoutMs: 65_000, headersTimeoutMs: 30_000, draining: () => false }) : null;
  return () => {
    const server = createServer({ keepAliveTimeout: 65_000 }, listener);
    return lane ? lane.attach(server) : server;
  };
}

if (process.argv[1] === SELF) {
  const [root, role, acceptorsArg, kindArg] = process.argv.slice(2) as [string, string, string | undefined, string | undefined];
  const create = serve(root, kindArg === 'lane' ? 'lane' : 'node:http');
  if (role === 'child') {
    // Each handle is acknowledged once listening, so the parent knows when all are.
    process.on('message', (_m, handle) => create().listen(handle as never, BACKLOG, () => process.send?.('listening')));
    process.send?.('ready');
  } else {
    const acceptors = Number(acceptorsArg ?? 1);
    const children: ChildProcess[] = [];
    const server = create();
    server.listen({ port: 0, host: '127.0.0.1', backlog: BACKLOG }, async () => {
      await addAcceptors(server, { count: acceptors, backlog: BACKLOG, create });
      const handle = (server as unknown as { _handle: never })._handle;
      for (let i = 1; i < Number(role); i++) {
        const c = fork(SELF, [root, 'child', String(acceptors), kindArg ?? 'node:http'], { execArgv: process.execArgv, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
        await new Promise((r) => c.once('message', r));
        let listening = 0;
        const all = new Promise<void>((r) => c.on('message', () => ++listening === acceptors && r()));
        for (let h = 0; h < acceptors; h++) c.send('listen', handle);
        await all;
        children.push(c);
      }
      process.send?.((server.address() as { port: number }).port);
    });
    process.on('SIGTERM', () => {
      for (const c of children) c.kill('SIGTERM');
      process.exit(0);
    });
  }
}
