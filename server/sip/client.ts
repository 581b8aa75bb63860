/**
 * deskprov's SIP NOTIFY client: a UAC for out-of-dialog, non-INVITE requests only
 * (see /shared/SIP.md for why it is not the npm `sip` package).
 *
 * One UDP socket for every UDP target, one TCP/TLS connection per notify (it carries the
 * digest retry too and is closed when the notify settles). At most `maxInFlight` notifies are
 * on the wire; the rest wait in a FIFO inside the client. `notify()` always resolves with a
 * SIP status: the phone's final answer, or a local 408 (Timer F) / 503 (transport failure).
 */
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import { randomBytes } from 'node:crypto';
import { authorizationHeader, pickChallenge } from './digest.js';
import { buildNotify, formatRequestUri, parseResponse, type SipResponse } from './message.js';
import {
  validateNotifyRequest,
  type NotifyRequest, type NotifyResult, type NotifyTarget, type SipLogger, type SipNotifier, type SipNotifyClientOptions,
} from './notifier.js';
import { isWildcardAddress, SourceAddressCache } from './local-address.js';
import { StreamConnection } from './stream.js';
import { isSipHost } from './uri.js';
import { systemTimers, type Timers } from './timers.js';
import { NonInviteClientTransaction } from './transaction.js';

export type { Timers } from './timers.js';
export type { NotifyRequest, NotifyResult, NotifyTarget, SipLogger, SipNotifier, SipNotifyClientOptions } from './notifier.js';

type AuthHeader = 'Authorization' | 'Proxy-Authorization';

interface Job {
  readonly req: NotifyRequest;
  readonly ruri: string;
  readonly resolve: (r: NotifyResult) => void;
  readonly callId: string;
  readonly fromTag: string;
  cseq: number;
  branch: string | null;
  /** UDP: our address as the destination sees it (Via/From/Contact); null until known. */
  localHost: string | null;
  tx: NonInviteClientTransaction | null;
  readonly credentials: Map<AuthHeader, string>;
  readonly authTries: Map<AuthHeader, number>;
  transmissions: number;
  startedAt: number | null;
  stream: StreamConnection | null;
  abortConnect: (() => void) | null;
  done: boolean;
}

const MB = 1024 * 1024;
const noopLogger: SipLogger = { warn: () => {} };
const hex = (bytes: number): string => randomBytes(bytes).toString('hex');

export class SipNotifyClient implements SipNotifier {
  private readonly timers: Timers;
  private readonly t1: number;
  private readonly t2: number;
  private readonly maxInFlight: number;
  private readonly logger: SipLogger;
  private udp: dgram.Socket | null = null;
  private local: { address: string; port: number } | null = null;
  /** Set when the UDP socket is bound to a wildcard and nothing is configured to advertise. */
  private sources: SourceAddressCache | null = null;
  private starting: Promise<{ address: string; port: number }> | null = null;
  /** FIFO of waiting jobs; `queueHead` avoids O(n) shifts on a 10,000-phone resync. */
  private readonly queue: Array<Job | undefined> = [];
  private queueHead = 0;
  private readonly active = new Set<Job>();
  private readonly byBranch = new Map<string, Job>();
  private pumping = false;
  private closed = false;

  constructor(private readonly opts: SipNotifyClientOptions) {
    this.timers = opts.timers ?? systemTimers;
    this.t1 = opts.t1Ms ?? 500;
    this.t2 = opts.t2Ms ?? 4000;
    this.maxInFlight = opts.maxInFlight ?? 64;
    this.logger = opts.logger ?? noopLogger;
    if (!(this.t1 > 0 && this.t2 >= this.t1 && Number.isFinite(this.t2))) throw new RangeError('need 0 < t1Ms <= t2Ms');
    if (!(Number.isInteger(this.maxInFlight) && this.maxInFlight >= 1)) throw new RangeError('maxInFlight must be >= 1');
    // It goes into three header lines of every request: an IP address or hostname, nothing else.
    if (opts.advertisedHost !== undefined && (!isSipHost(opts.advertisedHost) || isWildcardAddress(opts.advertisedHost))) {
      throw new RangeError(`advertisedHost must be an IP address or hostname, got ${JSON.stringify(opts.advertisedHost)}`);
    }
  }

  /** Binds the UDP socket; rejects (never crashes) on EADDRINUSE or a bad address. */
  start(): Promise<{ address: string; port: number }> {
    if (this.closed) return Promise.reject(new Error('SIP client closed'));
    this.starting ??= this.bind().catch((err: unknown) => {
      this.starting = null;
      throw err;
    });
    return this.starting;
  }

  /** Sends one NOTIFY (queued behind `maxInFlight`). Rejects only on an invalid request. */
  notify(req: NotifyRequest): Promise<NotifyResult> {
    const problem = validateNotifyRequest(req);
    if (problem !== null) return Promise.reject(new TypeError(`invalid NOTIFY request: ${problem}`));
    if (this.closed) return Promise.resolve({ status: 503, reason: 'client closed', transmissions: 0, elapsedMs: 0 });
    return new Promise<NotifyResult>((resolve) => {
      this.queue.push({
        req, resolve, ruri: formatRequestUri(req.target, req.user),
        callId: hex(16), fromTag: hex(8), cseq: 0, branch: null, localHost: null, tx: null,
        credentials: new Map(), authTries: new Map(), transmissions: 0, startedAt: null,
        stream: null, abortConnect: null, done: false,
      });
      this.pump();
    });
  }

  /** Settles every pending notify with 503 "client closed", stops every timer, closes every socket. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const job of this.queue.splice(this.queueHead)) if (job !== undefined) this.finish(job, 503, 'client closed');
    this.queueHead = this.queue.length = 0;
    for (const job of [...this.active]) this.finish(job, 503, 'client closed');
    const udp = this.udp;
    this.udp = null;
    if (udp !== null) await new Promise<void>((resolve) => udp.close(() => resolve()));
  }

  private bind(): Promise<{ address: string; port: number }> {
    const socket = dgram.createSocket(isIPv6(this.opts.bindHost) ? 'udp6' : 'udp4');
    return new Promise((resolve, reject) => {
      const onBindError = (err: Error): void => {
        socket.close(); // releases the handle; an unbound socket has nothing else to report
        reject(err);
      };
      socket.once('error', onBindError);
      socket.bind({ port: this.opts.port, address: this.opts.bindHost }, () => {
        socket.off('error', onBindError);
        if (this.closed) {
          socket.close();
          reject(new Error('SIP client closed'));
          return;
        }
        // UDP socket errors (ICMP unreachable reported by the kernel, ...) are per-packet news,
        // not a reason to stop: log and carry on.
        socket.on('error', (err: NodeJS.ErrnoException) => this.logger.warn({ code: err.code }, 'SIP UDP socket error'));
        socket.on('message', (msg: Buffer) => this.onMessage(msg));
        const size = Math.min(4 * MB, Math.max(1 * MB, this.opts.recvBufferBytes ?? 2 * MB));
        try {
          socket.setRecvBufferSize(size);
          // Linux silently caps SO_RCVBUF at net.core.rmem_max (often 208 KB).
          const actual = socket.getRecvBufferSize();
          if (actual < size) this.logger.warn({ requested: size, actual }, 'SIP UDP receive buffer capped by the kernel (raise net.core.rmem_max)');
        } catch (err) {
          this.logger.warn({ err: String(err), size }, 'could not set SIP UDP receive buffer');
        }
        const a = socket.address();
        this.udp = socket;
        this.local = { address: a.address, port: a.port };
        if (this.opts.advertisedHost === undefined && isWildcardAddress(a.address)) {
          this.sources = new SourceAddressCache(isIPv6(a.address) ? 'udp6' : 'udp4', a.address, () => this.timers.now());
        }
        resolve({ ...this.local });
      });
    });
  }

  /** Starts queued jobs while there is room. Not re-entrant: a job that fails synchronously just loops. */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (!this.closed && this.active.size < this.maxInFlight && this.queueHead < this.queue.length) {
        const job = this.queue[this.queueHead];
        this.queue[this.queueHead++] = undefined;
        if (job === undefined) continue;
        if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
          this.queue.splice(0, this.queueHead);
          this.queueHead = 0;
        }
        this.active.add(job);
        this.run(job).catch((err: unknown) => {
          this.logger.warn({ err: String(err) }, 'SIP notify failed unexpectedly');
          this.finish(job, 503, 'internal error');
        });
      }
    } finally {
      this.pumping = false;
    }
  }

  private async run(job: Job): Promise<void> {
    job.startedAt = this.timers.now();
    const dest = job.req.proxy ?? job.req.target;
    if (dest.transport === 'udp') {
      if (this.udp === null) return this.finish(job, 503, 'client not started');
      // Bound to a wildcard (0.0.0.0, ::): that address in a Via is wrong on the wire and some
      // phones refuse it, so name the address the kernel sends from towards this destination.
      if (this.sources !== null) {
        job.localHost = await this.sources.sourceFor(dest.host, dest.port);
        if (job.done) return;
      }
      return this.attempt(job);
    }
    const { ready, abort } = StreamConnection.open(
      { host: dest.host, port: dest.port, transport: dest.transport },
      { tls: this.opts.tls, timers: this.timers, timeoutMs: 64 * this.t1 },
      { onMessage: (m) => this.onMessage(m), onClose: (reason) => this.finish(job, 503, reason) },
    );
    job.abortConnect = abort;
    const conn = await ready;
    job.abortConnect = null;
    if (typeof conn === 'string') return this.finish(job, 503, conn);
    if (job.done) return conn.close();
    job.stream = conn;
    this.attempt(job);
  }

  /** One request = one client transaction: new branch, next CSeq, same Call-ID and From tag. */
  private attempt(job: Job): void {
    const dest = job.req.proxy ?? job.req.target;
    const transport = dest.transport;
    const stream = job.stream;
    job.cseq += 1;
    const branch = `z9hG4bK${hex(16)}`;
    const text = buildNotify({
      target: job.req.target,
      ...(job.req.user !== undefined ? { user: job.req.user } : {}),
      local: {
        host: this.opts.advertisedHost ?? (stream?.localAddress || job.localHost || this.local?.address || this.opts.bindHost),
        port: stream?.localPort ?? this.local?.port ?? this.opts.port,
        transport,
      },
      branch, fromTag: job.fromTag, callId: job.callId, cseq: job.cseq, event: job.req.event,
      credentials: [...job.credentials].map(([header, value]) => ({ header, value })),
    });
    const data = Buffer.from(text);
    job.branch = branch;
    this.byBranch.set(branch, job);
    job.tx = new NonInviteClientTransaction(
      this.timers,
      { t1Ms: this.t1, t2Ms: this.t2, reliable: transport !== 'udp' },
      () => {
        job.transmissions += 1;
        if (stream !== null) stream.send(text);
        else this.sendDatagram(job, branch, data, dest);
      },
      () => this.finish(job, 408, 'Request Timeout'),
    );
    job.tx.start();
  }

  private sendDatagram(job: Job, branch: string, data: Buffer, dest: NotifyTarget): void {
    // RFC 3261 §17.1.4: a transport error ends the transaction as if a 503 had arrived.
    const failed = (err: unknown): void => {
      if (job.branch === branch) this.finish(job, 503, `send failed: ${errorCode(err)}`);
    };
    try {
      if (this.udp === null) throw new Error('socket closed');
      this.udp.send(data, dest.port, dest.host, (err) => err && failed(err));
    } catch (err) {
      failed(err);
    }
  }

  /** Every datagram and stream message ends here; nothing a peer sends may throw past this. */
  private onMessage(message: Buffer): void {
    try {
      const res = parseResponse(message);
      if (res === null) {
        this.logger.debug?.({ bytes: message.length }, 'SIP: dropped a message that is not a valid response');
        return;
      }
      this.onResponse(res);
    } catch (err) {
      this.logger.warn({ err: String(err) }, 'SIP: error while handling a response');
    }
  }

  private onResponse(res: SipResponse): void {
    const job = this.byBranch.get(res.branch);
    // §17.1.3: match on the top Via branch and the CSeq method (and our CSeq number).
    if (job === undefined || job.done || res.cseq.method !== 'NOTIFY' || res.cseq.seq !== job.cseq) {
      this.logger.debug?.({ status: res.status }, 'SIP: dropped a response that matches no transaction');
      return;
    }
    this.logger.debug?.({ status: res.status, callId: job.callId }, 'SIP response');
    if (res.status < 200) {
      job.tx?.provisional();
      return;
    }
    job.tx?.terminate();
    this.byBranch.delete(res.branch);
    if ((res.status === 401 || res.status === 407) && this.answerChallenge(job, res)) return;
    this.finish(job, res.status, res.reason);
  }

  /**
   * 401 (phone) / 407 (proxy): resend with digest credentials. Each challenger is answered once,
   * and once more only if it says the nonce was merely stale — a wrong password must end as the
   * phone's final answer (401 or 403), not as a loop.
   */
  private answerChallenge(job: Job, res: SipResponse): boolean {
    const auth = job.req.auth;
    if (auth === undefined || auth === null) return false;
    const header: AuthHeader = res.status === 407 ? 'Proxy-Authorization' : 'Authorization';
    const challenge = pickChallenge(res.status === 407 ? res.proxyAuthenticate : res.wwwAuthenticate);
    const tries = job.authTries.get(header) ?? 0;
    if (challenge === null || tries >= 2 || (tries === 1 && !challenge.stale)) return false;
    job.authTries.set(header, tries + 1);
    const cnonce = hex(16);
    job.credentials.set(header, authorizationHeader(challenge, { ...auth, method: 'NOTIFY', uri: job.ruri, cnonce }));
    try {
      this.attempt(job);
      return true;
    } catch (err) {
      // Credentials that cannot be put in a header (control characters): report the challenge.
      this.logger.warn({ err: String(err) }, 'SIP: cannot answer digest challenge');
      return false;
    }
  }

  private finish(job: Job, status: number, reason: string): void {
    if (job.done) return;
    job.done = true;
    job.tx?.terminate();
    if (job.branch !== null) this.byBranch.delete(job.branch);
    job.abortConnect?.();
    job.stream?.close();
    this.active.delete(job);
    const elapsedMs = job.startedAt === null ? 0 : this.timers.now() - job.startedAt;
    job.resolve({ status, reason, transmissions: job.transmissions, elapsedMs });
    this.pump();
  }
}

function errorCode(err: unknown): string {
  if (err instanceof Error) return (err as NodeJS.ErrnoException).code ?? err.message;
  return String(err);
}
