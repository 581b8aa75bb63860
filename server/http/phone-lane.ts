/**
 * The phone lane: plain-HTTP connections are read here before node:http sees them, and the
 * requests phones make all day (a GET or HEAD of one file, a few well-formed headers) are
 * answered straight from the socket. node:http builds a parser, an IncomingMessage and a
 * ServerResponse (two streams) for every request; on this machine that was about half the cost
 * of serving a cached phone file (wrk, 1,000 connections: node:http answering from memory
 * ~16,000-21,000/s, the same bytes written from a socket's data handler ~44,000/s).
 *
 * node:http stays the authority on HTTP. The lane answers only requests inside a strict subset
 * it can read exactly as node:http would: a complete head in the bytes at hand, `GET`/`HEAD`,
 * `HTTP/1.1`, a phone file path, header names that are tokens and values of visible ASCII, one
 * Host, no body framing (Content-Length, Transfer-Encoding), no Expect or Upgrade, no repeated
 * header that the phone path reads. Anything else (an admin or console request, an upload, a
 * head split over two reads, HTTP/1.0, a header node:http would refuse or fold, a request the
 * phone path defers) hands the connection to node:http from that request on: its own
 * connection listener gets the socket and the unread bytes, from the first byte of that request,
 * and keeps the connection to its end. The differential test (test/integration/phone-lane.test.ts)
 * sends random and malformed requests to node:http with and without the lane and requires the
 * same bytes back.
 *
 * Answers carry the headers node:http would write, in its order: the answer's own, then Date,
 * Connection and Keep-Alive. On an HTTPS listener the lane takes each connection after its
 * handshake, where node:https would, and reads the decrypted bytes the same way.
 */
import { createServer, STATUS_CODES, type RequestListener, type Server } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { Server as TlsServer } from 'node:tls';
import type { Logger } from '../log.js';
import { HTTP_TIMEOUTS } from './timeouts.js';

/** A request the lane can answer, as read from the head. */
export interface LaneRequest {
  method: 'GET' | 'HEAD';
  url: string;
  userAgent: string | null;
  ifNoneMatch: string | null;
  authorization: string | null;
  forwardedFor: string | null;
  /** The connection (its address; over TLS, its certificate). */
  socket: Socket;
}

/** An answer: status, headers (arrays become repeated lines) and body. */
export interface LaneAnswer {
  status: number;
  headers: Readonly<Record<string, string | string[]>>;
  body: Buffer | string;
  /**
   * Where the lane may keep the status and header lines it writes for this answer, to reuse them:
   * pass the same slot only with the same status and headers (a rendered file's 200, say).
   */
  headSlot?: HeadSlot | undefined;
}

/** See LaneAnswer.headSlot. */
export interface HeadSlot {
  text?: string;
}

export interface PhoneLaneOptions {
  /** The answer, or null: not one for the lane (the connection goes to node:http). */
  answer(req: LaneRequest): LaneAnswer | null;
  /** node:http's keepAliveTimeout: an idle connection is closed after it; also sent in Keep-Alive. */
  keepAliveTimeoutMs: number;
  /** Before its first request a connection gets this long (node:http's headersTimeout). */
  headersTimeoutMs: number;
  /** True once shutting down: every answer closes its connection (server/http/drain.ts). */
  draining(): boolean;
  /** An answer that could not be written (a bug; the connection is closed). */
  onError?: (err: unknown) => void;
  /**
   * Called once per turn of the event loop before the lane answers what it read in that turn,
   * after all of it was read. A phone worker checks there whether another process changed the
   * database (ReplicaCache): once per turn instead of once per request, and still after the bytes
   * of every request it answers were read, so after any change a client saw acknowledged before
   * sending them. If it throws, the connections read in that turn go to node:http (the error is
   * reported to onError).
   */
  beforeAnswers?: () => void;
}

/**
 * A factory of the node:http servers phones reach (HTTP_TIMEOUTS, `listener`), each with `lane`
 * in front when there is one (`http.phoneLane`). Every accept handle gets its own server.
 */
export function phoneServerFactory(listener: RequestListener, lane: PhoneLane | null): () => Server {
  return () => behindLane(lane, createServer(HTTP_TIMEOUTS, listener));
}

/** `server` with `lane` in front of it, or as it is when there is no lane (`http.phoneLane` off). */
export function behindLane<S extends Server | HttpsServer>(lane: PhoneLane | null, server: S): S {
  return lane ? lane.attach(server) : server;
}

/** The lane with the listeners' timeouts (HTTP_TIMEOUTS); an answer it cannot write is logged. */
export function phoneLane(
  answer: PhoneLaneOptions['answer'],
  draining: () => boolean,
  log: Pick<Logger, 'error'>,
  beforeAnswers?: () => void,
): PhoneLane {
  return new PhoneLane({
    answer,
    draining,
    ...(beforeAnswers ? { beforeAnswers } : {}),
    onError: (err) => log.error({ err }, 'phone lane could not answer'),
    keepAliveTimeoutMs: HTTP_TIMEOUTS.keepAliveTimeout,
    headersTimeoutMs: HTTP_TIMEOUTS.headersTimeout,
  });
}

/** Longest head the lane reads (node:http's limit is 16 KiB; a phone's head is under 1 KiB). */
const MAX_HEAD = 8192;
const MAX_HEADER_LINES = 64;
/** Output a connection may have waiting in its socket before node:http's backpressure takes over. */
const MAX_QUEUED = 256 * 1024;
/** A header name: an RFC 9110 token. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** A header value: visible ASCII, space and tab only (node:http decides about anything else). */
const VALUE = /^[\t\x20-\x7e]*$/;
/** Headers the lane reads (each at most once), by their lower-case names. */
type ReadHeader = 'host' | 'userAgent' | 'ifNoneMatch' | 'authorization' | 'forwardedFor' | 'connection';
const READ = new Map<string, ReadHeader>([
  ['host', 'host'],
  ['user-agent', 'userAgent'],
  ['if-none-match', 'ifNoneMatch'],
  ['authorization', 'authorization'],
  ['x-forwarded-for', 'forwardedFor'],
  ['connection', 'connection'],
]);
/** Headers that frame a body or change the protocol: node:http's to handle. */
const REFUSED = new Set(['content-length', 'transfer-encoding', 'expect', 'upgrade', 'http2-settings']);
/** A request target: a path and query of unreserved, sub-delims, ':', '@', '/', '?' and '%' only. */
const TARGET = /^\/[A-Za-z0-9._~!$&'()*+,;=:@/?%-]*$/;

export class PhoneLane {
  private dateText = '';
  private dateSecond = -1;
  private readonly keepAliveLine: string;
  /**
   * Connections read this turn and not answered yet, in the order read. They are answered
   * together once the turn's reads are done (setImmediate), not each in its read's callback.
   * Measured with wrk at 1,000 connections and one phone worker (alternating runs): a worker
   * checking its caches once per turn instead of per request, 14,400 -> 18,900 requests/s (3
   * pairs); the primary answering at the end of the turn too, 17,100 -> 19,500 (7 pairs).
   */
  private turn: Array<(ready: boolean) => void> = [];

  constructor(private readonly opts: PhoneLaneOptions) {
    this.keepAliveLine = `Connection: keep-alive\r\nKeep-Alive: timeout=${Math.floor(opts.keepAliveTimeoutMs / 1000)}\r\n\r\n`;
  }

  /** beforeAnswers, then every connection read this turn; false when beforeAnswers threw. */
  private readonly endOfTurn = (): void => {
    const read = this.turn;
    this.turn = [];
    const ready = this.ready();
    for (const answer of read) answer(ready);
  };

  private ready(): boolean {
    try {
      this.opts.beforeAnswers?.();
      return true;
    } catch (err) {
      this.opts.onError?.(err);
      return false;
    }
  }

  private atEndOfTurn(answer: (ready: boolean) => void): void {
    if (this.turn.length === 0) setImmediate(this.endOfTurn);
    this.turn.push(answer);
  }

  /**
   * Puts the lane in front of `server`'s own connection handling and returns the server. Must be
   * called before the server accepts anything. The server's closeIdleConnections() (called by
   * close() and by the shutdown drain) also ends the lane's connections that have nothing left to
   * send: between requests every lane connection is idle.
   */
  attach<S extends Server | HttpsServer>(server: S): S {
    // node:https takes its connections after the handshake, from 'secureConnection'.
    const event = server instanceof TlsServer ? 'secureConnection' : 'connection';
    const own = server.listeners(event) as Array<(this: S, socket: Socket) => void>;
    if (own.length !== 1) throw new Error(`phone lane: expected node:http's ${event} listener only`);
    const nodeListener = own[0]!;
    const sockets = new Set<Socket>();
    server.removeAllListeners(event);
    server.on(event, (socket: Socket) => this.accept(socket, sockets, (s) => nodeListener.call(server, s)));
    const closeNodeIdle = server.closeIdleConnections.bind(server);
    server.closeIdleConnections = () => {
      closeNodeIdle();
      for (const s of sockets) if (s.writableLength === 0) s.destroy();
    };
    return server;
  }

  private date(): string {
    const now = Date.now();
    const second = Math.floor(now / 1000);
    if (second !== this.dateSecond) {
      this.dateSecond = second;
      this.dateText = new Date(second * 1000).toUTCString();
    }
    return this.dateText;
  }

  private accept(socket: Socket, sockets: Set<Socket>, handOver: (socket: Socket) => void): void {
    const lane = this;
    let served = false;
    let handedOver = false;
    sockets.add(socket);
    socket.setTimeout(this.opts.headersTimeoutMs);

    /** The lane lets go of the connection (its error listener stays unless node:http takes over). */
    function release(): void {
      sockets.delete(socket);
      socket.removeListener('data', onData);
      socket.removeListener('end', onEnd);
      socket.removeListener('timeout', onTimeout);
      socket.removeListener('close', onClose);
      socket.removeListener('drain', onDrain);
      socket.setTimeout(0);
    }
    /** node:http takes the connection over, starting with `rest` (the unanswered bytes). */
    function toNode(rest: Buffer): void {
      handedOver = true;
      release();
      socket.removeListener('error', onError);
      handOver(socket);
      // What node:http would have read from the socket itself: its data listener is now the only one.
      if (rest.length > 0) socket.emit('data', rest);
    }
    /** What was read this turn, answered at its end (PhoneLane.endOfTurn). */
    let unread: Buffer[] | null = null;
    function onData(chunk: Buffer): void {
      if (unread !== null) {
        unread.push(chunk);
        return;
      }
      unread = [chunk];
      lane.atEndOfTurn(answerRead);
    }
    /** What was read this turn, unless the connection closed or was handed over meanwhile. */
    function answerRead(ready: boolean): void {
      const chunks = unread;
      unread = null;
      if (chunks === null || !sockets.has(socket)) return;
      const chunk = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      if (!ready) return toNode(chunk);
      try {
        consume(chunk);
      } catch (err) {
        // A bug: this connection ends, the others read in the turn are still answered.
        lane.opts.onError?.(err);
        release();
        socket.destroy();
      }
    }
    function consume(chunk: Buffer): void {
      const text = chunk.toString('latin1');
      let at = 0;
      while (at < text.length) {
        // A client that sends faster than it reads: node:http's backpressure from here on.
        if (socket.writableLength > MAX_QUEUED) return toNode(chunk.subarray(at));
        const end = text.indexOf('\r\n\r\n', at);
        if (end === -1 || end - at > MAX_HEAD) return toNode(chunk.subarray(at));
        const req = readHead(text, at, end, socket);
        const answer = req && lane.opts.answer(req);
        if (!answer || !req) return toNode(chunk.subarray(at));
        at = end + 4;
        const close = req.close || lane.opts.draining();
        try {
          lane.write(socket, req.method, answer, close);
        } catch (err) {
          // An answer that cannot be written as HTTP (a bug): the connection ends unanswered.
          lane.opts.onError?.(err);
          release();
          socket.destroy();
          return;
        }
        if (close) {
          release();
          // Closed once written, as node:http does (destroySoon): node:http servers allow half-open
          // connections, so end() alone would keep it, with no timeout, until the client closes.
          socket.end(() => socket.destroy());
          return;
        }
        if (!served) {
          served = true;
          socket.setTimeout(lane.opts.keepAliveTimeoutMs);
        }
      }
      // Output queued and nothing more to read: handed over idle, node:http would take the
      // connection for a request whose head is late (headersTimeout) and write a 408 on it. So it
      // stays here until its next request; meanwhile, as node:http while an answer is being
      // written, no timeout until the output is written, then the keep-alive timeout.
      if (socket.writableLength > MAX_QUEUED) {
        socket.setTimeout(0);
        socket.removeListener('drain', onDrain);
        socket.once('drain', onDrain);
      }
    }
    function onDrain(): void {
      socket.setTimeout(lane.opts.keepAliveTimeoutMs);
    }
    function onEnd(): void {
      // What came before the end is answered first, now (its turn would come too late).
      if (unread !== null) {
        answerRead(lane.ready());
        // node:http took the connection over: the end is its to see too.
        if (handedOver) return void socket.emit('end');
        if (!sockets.has(socket)) return; // closed by an answer
      }
      // The client is done sending (node:http servers allow half-open connections): finish ours.
      release();
      socket.end();
    }
    function onTimeout(): void {
      release();
      socket.destroy();
    }
    function onError(): void {
      // A reset or a broken pipe: nothing to answer any more. (Stays on after release.)
      release();
      socket.destroy();
    }
    function onClose(): void {
      release();
    }
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('timeout', onTimeout);
    socket.on('error', onError);
    socket.on('close', onClose);
  }

  private write(socket: Socket, method: string, a: LaneAnswer, close: boolean): void {
    const body = a.status === 304 ? '' : a.body;
    let head = this.headLines(a, body);
    head += `Date: ${this.date()}\r\n`;
    head += close ? 'Connection: close\r\n\r\n' : this.keepAliveLine;
    if (method === 'HEAD' || body.length === 0) {
      socket.write(head, 'latin1');
      return;
    }
    socket.cork();
    socket.write(head, 'latin1');
    socket.write(body);
    socket.uncork();
  }

  /** The status line and the answer's own header lines, with a length when it has none. */
  private headLines(a: LaneAnswer, body: Buffer | string): string {
    if (a.headSlot?.text !== undefined) return a.headSlot.text;
    let text = `HTTP/1.1 ${a.status} ${STATUS_CODES[a.status] ?? 'unknown'}\r\n`;
    let hasLength = false;
    for (const name in a.headers) {
      const v = a.headers[name]!;
      if (typeof v === 'string') text += headerLine(name, v);
      else for (const each of v) text += headerLine(name, each);
      if (name === 'Content-Length') hasLength = true;
    }
    if (!hasLength && a.status !== 304) text += `Content-Length: ${typeof body === 'string' ? Buffer.byteLength(body) : body.length}\r\n`;
    // Kept only when the next answer with this slot cannot differ: no length from this body. As a
    // flat copy: the text built here is a rope of every piece, several times the size.
    else if (a.headSlot) a.headSlot.text = Buffer.from(text, 'latin1').toString('latin1');
    return text;
  }
}

/** One header line; a name or value that could split the head is a bug, and never written. */
function headerLine(name: string, value: string): string {
  if (!TOKEN.test(name) || !VALUE.test(value)) throw new Error(`phone lane: refusing to write header ${JSON.stringify(name)}`);
  return `${name}: ${value}\r\n`;
}

/**
 * The request whose head is text[start, end) (end: the index of its blank line), or null when it
 * is outside the subset the lane answers.
 */
export function readHead(text: string, start: number, end: number, socket: Socket): (LaneRequest & { close: boolean }) | null {
  const lineEnd = text.indexOf('\r\n', start);
  let method: 'GET' | 'HEAD';
  let from: number;
  if (text.startsWith('GET /', start)) (method = 'GET'), (from = start + 4);
  else if (text.startsWith('HEAD /', start)) (method = 'HEAD'), (from = start + 5);
  else return null;
  const space = text.indexOf(' ', from);
  if (space === -1 || space + 9 !== lineEnd || !text.startsWith(' HTTP/1.1', space)) return null;
  const url = text.slice(from, space);
  if (!TARGET.test(url)) return null;

  const got: Partial<Record<ReadHeader, string>> = {};
  let lines = 0;
  let at = lineEnd + 2;
  while (at < end + 2) {
    if (++lines > MAX_HEADER_LINES) return null;
    const eol = text.indexOf('\r\n', at);
    const colon = text.indexOf(':', at);
    if (colon === -1 || colon > eol) return null;
    const name = text.slice(at, colon);
    const raw = text.slice(colon + 1, eol);
    at = eol + 2;
    if (!TOKEN.test(name) || !VALUE.test(raw)) return null;
    const lower = name.toLowerCase();
    const field = READ.get(lower);
    if (field !== undefined) {
      if (got[field] !== undefined) return null; // node:http would join or drop the second one
      got[field] = raw.trim(); // only spaces and tabs can be at its ends (VALUE)
    } else if (REFUSED.has(lower)) {
      return null;
    }
  }
  const connection = got.connection?.toLowerCase();
  if (got.host === undefined || (connection !== undefined && connection !== 'keep-alive' && connection !== 'close')) return null;
  return {
    method,
    url,
    userAgent: got.userAgent ?? null,
    ifNoneMatch: got.ifNoneMatch ?? null,
    authorization: got.authorization ?? null,
    forwardedFor: got.forwardedFor ?? null,
    socket,
    close: connection === 'close',
  };
}
