/**
 * The ceiling for a Node server on this machine: node:http answering the files nginx serves
 * (read into memory at start) with the headers deskprov sends (type, no-store, ETag, length),
 * nothing else: no path checks, no device lookup, no fetch log, no metrics. It runs in as many
 * processes as deskprov (primary plus phone workers, all accepting on one listening socket), so
 * the gap between its figure and deskprov's in the same run is what deskprov's own work costs.
 *
 * Run as a script it is the server: `bare-node.ts <root> <processes>` (a forked copy with
 * `<root> child` accepts on the socket its parent sends).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addAcceptors } from '../../../server/http/acceptors.js';

const SELF = fileURLToPath(import.meta.url);
const BACKLOG = 4096;

export interface RunningBareNode {
  port: number;
  stop(): Promise<void>;
}

/**
 * Starts the bare server over `root` in `processes` processes with `acceptors` accept handles
 * each (deskprov's `http.acceptors`); resolves once every process is accepting.
 */
export async function startBareNode(root: string, processes: number, acceptors: number): Promise<RunningBareNode> {
  const child = fork(SELF, [root, String(processes), String(acceptors)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m) => resolve(Number(m)));
    child.once('exit', (code) => reject(new Error(`bare node:http server exited (${code})`)));
  });
  return {
    port,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

function serve(root: string): () => Server {
  const files = new Map<string, { body: Buffer; type: string; etag: string }>();
  for (const name of readdirSync(root)) {
    const body = readFileSync(join(root, name));
    const type = name.endsWith('.xml') ? 'text/xml; charset=utf-8' : 'text/plain; charset=utf-8';
    files.set(`/${name}`, { body, type, etag: `"${body.length.toString(36)}-${files.size.toString(36)}"` });
  }
  return () => createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    const f = files.get(req.url ?? '/');
    if (!f) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': '10' });
      res.end('Not Found\n');
      return;
    }
    res.writeHead(200, { 'Content-Type': f.type, 'Cache-Control': 'no-store', ETag: f.etag, 'Content-Length': String(f.body.length) });
    res.end(req.method === 'HEAD' ? undefined : f.body);
  });
}

if (process.argv[1] === SELF) {
  const [root, role, acceptorsArg] = process.argv.slice(2) as [string, string, string | undefined];
  const create = serve(root);
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
        const c = fork(SELF, [root, 'child'], { execArgv: process.execArgv, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
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
