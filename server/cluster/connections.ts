/**
 * Connections handed to an HTTP server that does not listen itself (the primary's share and each
 * phone worker's), tracked so shutdown can wait for them: an injected connection is not counted
 * by the server, so its close() would not wait.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

export class ConnectionSet {
  private readonly sockets = new Set<Socket>();

  constructor(private readonly server: Server) {
    // node:http starts tracking connections (idle closing, headers and request timeouts) on
    // 'listening'; a server that only gets injected connections never emits it by itself.
    if (!server.listening) server.emit('listening');
  }

  get size(): number {
    return this.sockets.size;
  }

  /** Serve `socket` on the server (documented: emitting 'connection' injects a connection). */
  adopt(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    this.server.emit('connection', socket);
    // A socket accepted with pauseOnConnect starts reading only now.
    socket.resume();
  }

  /** Resolves once every connection is gone: idle ones are closed now, busy ones when their answer is out. */
  drain(): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        this.server.closeIdleConnections();
        if (this.sockets.size > 0) return;
        clearInterval(timer);
        resolve();
      };
      const timer = setInterval(check, 100);
      timer.unref();
      check();
    });
  }
}
