/**
 * Shutting down without cutting keep-alive clients off mid-request (nginx's upstream pool,
 * phones, browsers). http.Server.close() closes every connection that is idle at that instant,
 * and under load that includes connections whose next request is already in the kernel's
 * buffer, not read yet: the client gets a reset for a request it sent (nginx: a 502, and a POST
 * it does not retry). An answer still being made also kept saying `Connection: keep-alive`, so
 * its client sent another request on a connection about to be closed under it.
 *
 * So, on shutdown: stop accepting new connections, answer every request from then on (and every
 * answer not begun yet) with `Connection: close`, so each busy connection ends after the answer
 * it carries; read and answer what is already on its way for `idleGraceMs`; only then close the
 * connections that are still idle (and again every 100 ms until all are gone).
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import net from 'node:net';

/** What closing needs of a server (node:http and node:https servers). */
export interface DrainableServer extends net.Server {
  closeIdleConnections(): void;
}

export class Drain {
  private draining_ = false;
  /** Answers in progress (headers not necessarily sent yet). */
  private readonly open = new Set<ServerResponse>();

  get draining(): boolean {
    return this.draining_;
  }

  /** `listener`, with its answers tracked so that `start()` can mark the ones in progress. */
  wrap(listener: RequestListener): RequestListener {
    const open = this.open;
    function onClose(this: ServerResponse): void {
      open.delete(this);
    }
    return (req: IncomingMessage, res: ServerResponse) => {
      if (this.draining_) res.setHeader('Connection', 'close');
      listener(req, res);
      // Phone files are answered before the listener returns: nothing to mark later, and the
      // hot path pays one property read. Answers still to come (uploads, the admin API) are kept.
      if (!res.writableEnded && !this.draining_) {
        open.add(res);
        res.on('close', onClose);
      }
    };
  }

  /** From now on every answer closes its connection; answers already begun are marked too. */
  start(): void {
    if (this.draining_) return;
    this.draining_ = true;
    for (const res of this.open) if (!res.headersSent) res.setHeader('Connection', 'close');
    this.open.clear();
  }

  /**
   * `start()`, then stop accepting on every server; resolves once all their connections are
   * closed. Connections idle after `idleGraceMs` are closed (then every 100 ms).
   */
  close(servers: readonly DrainableServer[], idleGraceMs = 500): Promise<void> {
    this.start();
    // net.Server's close: stops accepting and calls back once every connection has ended, without
    // http.Server's immediate closing of idle connections (see above).
    const closed = Promise.all(servers.map((s) => new Promise<void>((resolve) => net.Server.prototype.close.call(s, () => resolve()))));
    const closeIdle = () => servers.forEach((s) => s.closeIdleConnections());
    let sweep: NodeJS.Timeout | null = null;
    const grace = setTimeout(() => {
      closeIdle();
      sweep = setInterval(closeIdle, 100);
      sweep.unref();
    }, idleGraceMs);
    grace.unref();
    return closed.then(() => {
      clearTimeout(grace);
      if (sweep) clearInterval(sweep);
    });
  }
}
