/**
 * The contract between deskprov and its SIP NOTIFY sender: what a resync asks for and what it
 * gets back. Services depend on `SipNotifier`; `SipNotifyClient` (client.ts) implements it.
 */
import type { SipTransport } from '../domain/types.js';
import { isEventValue } from './message.js';
import type { TlsClientOptions } from './stream.js';
import type { Timers } from './timers.js';
import { isSipHost, isSipUser } from './uri.js';

export interface NotifyTarget {
  host: string;
  port: number;
  transport: SipTransport;
}

export interface NotifyRequest {
  /** The phone: the Request-URI names it even when the request goes through `proxy`. */
  target: NotifyTarget;
  /** Request-URI user, e.g. the line's extension; "anonymous" when omitted. */
  user?: string;
  /** Event header, e.g. `check-sync;reboot=true`. */
  event: string;
  /** Digest credentials used to answer a 401/407 (the line the phone is registered with). */
  auth?: { username: string; password: string } | null;
  /** Where the bytes go instead of the phone (phones that only trust their registrar). */
  proxy?: NotifyTarget | null;
}

export interface NotifyResult {
  /** The final SIP status, or a local 408 (no final answer within Timer F) / 503 (transport). */
  status: number;
  reason: string;
  /** Requests put on the wire, retransmissions and digest retries included. */
  transmissions: number;
  /** From the first transmission (or connection attempt) to the final answer; queueing excluded. */
  elapsedMs: number;
}

/** What the rest of deskprov depends on. */
export interface SipNotifier {
  notify(req: NotifyRequest): Promise<NotifyResult>;
}

export interface SipLogger {
  warn(obj: object, msg: string): void;
  debug?(obj: object, msg: string): void;
}

export interface SipNotifyClientOptions {
  bindHost: string;
  /** UDP port; 0 for an ephemeral one. */
  port: number;
  /**
   * Host phones should answer to (Via/Contact/From), e.g. a NAT's public address. Without it:
   * `bindHost`, or when that is a wildcard (0.0.0.0, ::) the address the kernel sends from
   * towards each destination (TCP/TLS: the connection's local address).
   */
  advertisedHost?: string;
  timers?: Timers;
  t1Ms?: number;
  t2Ms?: number;
  maxInFlight?: number;
  /** SO_RCVBUF, clamped to 1–4 MB: bursts of 200 OKs must not overflow the kernel queue. */
  recvBufferBytes?: number;
  tls?: TlsClientOptions;
  logger?: SipLogger;
}

/** Why a request cannot even be built (a caller bug, not a SIP failure); null when fine. */
export function validateNotifyRequest(req: NotifyRequest): string | null {
  for (const t of [req.target, req.proxy ?? req.target]) {
    if (!isSipHost(t.host)) return `bad host ${JSON.stringify(t.host)}`;
    if (!Number.isInteger(t.port) || t.port < 1 || t.port > 65535) return `bad port ${t.port}`;
    if (t.transport !== 'udp' && t.transport !== 'tcp' && t.transport !== 'tls') return 'bad transport';
  }
  if (req.user !== undefined && !isSipUser(req.user)) return `bad user ${JSON.stringify(req.user)}`;
  if (!isEventValue(req.event)) return `bad event ${JSON.stringify(req.event)}`;
  return null;
}
