/**
 * More accept() calls per event-loop turn for a listening socket.
 *
 * Since libuv 1.45 (Node 20) a listening handle accepts one connection per loop iteration and
 * relies on level-triggered polling for the next. While the loop serves a thousand keep-alive
 * phones an iteration takes tens of milliseconds, so a burst of new connections waits in the
 * kernel's accept queue for seconds, and their first requests with them. Measured here with wrk
 * at 1,000 connections against a bare node:http server: 450 connections still not accepted after
 * 9 s, p99 5.6 s; with 128 handles on the same socket, p99 187 ms.
 *
 * Each extra handle on the same socket gets its own accept() per iteration. Node 20 has neither
 * SO_REUSEPORT (`reusePort` arrived in 22.12) nor dup(), so the extra descriptors are made by
 * passing the listening handle to a short-lived child over IPC and back: every SCM_RIGHTS transfer
 * installs a new descriptor for the same socket. The child never accepts (it receives the raw
 * handle, not a server) and exits once it has sent them all.
 */
import { spawn } from 'node:child_process';

/** What an extra acceptor needs of a server (node:http, node:https and node:net servers all fit). */
export interface Listenable {
  listen(handle: object, backlog: number): unknown;
  close(): unknown;
}

/** The child: send every handle back, then leave. Plain JS run with `node -e`, no loader. */
const ECHO = `
let left = Number(process.argv[1]);
process.on('message', (m, h) => process.send(m, h, () => { if (--left === 0) process.disconnect(); }));
`;

export interface AcceptorOptions<S extends Listenable> {
  /** Total handles wanted on the socket, the original included (1 = nothing to do). */
  count: number;
  /** listen(2) backlog, re-applied by every extra handle (listen() on a handle resets it). */
  backlog: number;
  /** A fresh server with the same options and request listener as the original. */
  create: () => S;
  timeoutMs?: number;
}

/**
 * Adds `count - 1` servers accepting on `server`'s listening socket (which must be listening).
 * Resolves with the extra servers, already listening; close them with the original. Rejects when
 * the descriptors cannot be made (the original keeps working alone).
 */
export function addAcceptors<S extends Listenable>(server: S, o: AcceptorOptions<S>): Promise<S[]> {
  const wanted = o.count - 1;
  if (wanted <= 0) return Promise.resolve([]);
  const handle = (server as unknown as { _handle?: object | null })._handle;
  if (!handle) return Promise.reject(new Error('server is not listening'));

  return new Promise((resolve, reject) => {
    const extra: S[] = [];
    let settled = false;
    const child = spawn(process.execPath, ['-e', ECHO, String(wanted)], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      env: { PATH: process.env.PATH ?? '' },
    });
    const fail = (err: Error) => {
      // Once only: closing the original (a SIGTERM just after listening) fails every send still
      // queued, each with its own 'error' on the child.
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill();
      for (const s of extra) s.close();
      reject(err);
    };
    const timer = setTimeout(() => fail(new Error('acceptor handles not returned in time')), o.timeoutMs ?? 10_000);
    // Kept for the child's lifetime: an 'error' with no listener would throw (and end the process).
    child.on('error', fail);
    child.once('exit', (code) => {
      if (extra.length < wanted) fail(new Error(`acceptor helper exited (${code}) after ${extra.length} of ${wanted} handles`));
    });
    child.on('message', (_m, returned) => {
      if (settled) {
        // Too late (failed or the original was closed meanwhile): never accept on it.
        (returned as { close?: () => void } | undefined)?.close?.();
        return;
      }
      if (!returned) return fail(new Error('acceptor helper returned no handle'));
      const s = o.create();
      s.listen(returned as object, o.backlog);
      extra.push(s);
      if (extra.length === wanted) {
        settled = true;
        clearTimeout(timer);
        resolve(extra);
      }
    });
    for (let i = 0; i < wanted; i++) child.send({ i }, handle as never);
  });
}
