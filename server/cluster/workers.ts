/**
 * The primary's side of phone workers (config `http.phoneWorkers`): forks them, hands each the
 * listening socket (`http.acceptors` descriptors apiece), writes the fetch records and metrics
 * they send, counts their enumeration failures in the primary's guard and sends every worker
 * the resulting blocks. A worker that dies is started again; stop() drains them all.
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { Server } from 'node:net';
import type { Context } from '../context.js';
import { requestsIn } from '../phone-tally.js';
import { siblingModule } from '../project.js';
import { fromFetchRow, fromRenderRow, isFromWorker, type ToWorker } from './protocol.js';

export interface PhoneWorkersOptions {
  count: number;
  /** Accept handles per worker on the listening socket (server/http/acceptors.ts). */
  acceptors: number;
  /** The primary's listening HTTP server; workers accept on its socket. */
  server: Server;
  /** The primary's internal listener (server/cluster/internal-listener.ts). */
  internalSocket: string;
  ctx: Context;
  /** Called once per request a worker answered (the primary counts them for /metrics). */
  onServed?: (n: number) => void;
}

const WORKER_ENTRY = siblingModule(import.meta.url, 'worker');
/** Crashes within this window beyond RESTART_LIMIT stop the restarts (a worker that cannot start). */
const RESTART_WINDOW_MS = 60_000;
const RESTART_LIMIT = 5;

export class PhoneWorkers {
  private readonly children = new Map<number, ChildProcess>();
  /** When askForReports last asked. */
  private askedAt = 0;
  /** Workers accepting on the listening socket: they said so after their handles were listening. */
  private readonly listening = new Set<ChildProcess>();
  private readonly crashes: number[] = [];
  private stopping = false;

  constructor(private readonly o: PhoneWorkersOptions) {}

  start(): void {
    for (let id = 1; id <= this.o.count; id++) this.spawn(id);
  }

  /** Every worker's copy of the enumeration blocks, after any change in the primary's guard. */
  broadcastBlocks(): void {
    for (const c of this.children.values()) this.tellBlocks(c);
  }

  private tellBlocks(c: ChildProcess): void {
    this.tell(c, { type: 'blocks', blocks: this.o.ctx.guard.list().map((b): [string, number] => [b.ip, b.until]) });
  }

  /** Asks every worker to stop accepting and finish; resolves when all are gone (SIGKILL after graceMs). */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    await Promise.all(
      [...this.children.values()].map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            const kill = setTimeout(() => c.kill('SIGKILL'), graceMs);
            c.once('exit', () => {
              clearTimeout(kill);
              resolve();
            });
            this.tell(c, { type: 'stop' });
          }),
      ),
    );
  }

  private spawn(id: number): void {
    const { ctx } = this.o;
    const child = fork(WORKER_ENTRY, [], { execArgv: process.execArgv, stdio: 'inherit', serialization: 'json' });
    this.children.set(id, child);
    child.on('message', (m: unknown) => {
      if (!isFromWorker(m)) return;
      switch (m.type) {
        case 'ready': {
          const handle = (this.o.server as unknown as { _handle?: object | null })._handle;
          if (!handle) return;
          // The blocks first, so the worker has them before its first connection.
          this.tellBlocks(child);
          for (let i = 0; i < Math.max(1, this.o.acceptors); i++) child.send({ type: 'listen' } satisfies ToWorker, handle as never);
          this.tell(child, { type: 'handles-sent' });
          return;
        }
        case 'accepting':
          // Counted in /healthz only now: the handles are listening in the worker.
          this.listening.add(child);
          ctx.log.info({ worker: id, pid: child.pid }, 'phone worker accepting');
          return;
        case 'fetches':
          for (const r of m.rows) ctx.recorder.recordFolded(fromFetchRow(r));
          return;
        case 'renders':
          for (const r of m.rows) {
            // Stored only while the device row it was rendered from is current (RenderedFileStore).
            const w = fromRenderRow(r);
            if (w) ctx.storedRenders.save(w);
          }
          return;
        case 'rendered':
          ctx.metrics.addRenders(m.renders);
          return;
        case 'answered':
          ctx.metrics.addPhones(m.tally);
          this.o.onServed?.(requestsIn(m.tally));
          return;
        case 'fail':
          ctx.guard.fail(m.ip, m.kind);
          return;
      }
    });
    child.on('error', (err) => ctx.log.error({ worker: id, err: err.message }, 'phone worker error'));
    child.on('exit', (code, signal) => {
      this.listening.delete(child);
      if (this.children.get(id) === child) this.children.delete(id);
      if (this.stopping) return;
      const now = Date.now();
      this.crashes.push(now);
      while (this.crashes.length > 0 && this.crashes[0]! < now - RESTART_WINDOW_MS) this.crashes.shift();
      if (this.crashes.length > RESTART_LIMIT) {
        ctx.log.error({ worker: id, code, signal }, 'phone worker keeps exiting: not restarted (the primary serves every request)');
        return;
      }
      ctx.log.error({ worker: id, code, signal }, 'phone worker exited: starting it again');
      setTimeout(() => {
        if (!this.stopping) this.spawn(id);
      }, 500).unref();
    });
    this.tell(child, { type: 'init', id, config: ctx.config, internalSocket: this.o.internalSocket });
  }

  /**
   * Asks every worker to report what its repeat folds have counted (an admin read of fetches):
   * the rows arrive after that read, for the next. At most once a second.
   */
  askForReports(): void {
    const now = Date.now();
    if (now - this.askedAt < 1000) return;
    this.askedAt = now;
    for (const c of this.listening) this.tell(c, { type: 'report' });
  }

  /** Workers accepting phones now (/healthz). */
  accepting(): number {
    return this.listening.size;
  }

  private tell(c: ChildProcess, m: ToWorker): void {
    if (c.connected) c.send(m);
  }
}
