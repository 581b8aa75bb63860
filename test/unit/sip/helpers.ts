/** Test doubles for the SIP client: a fake clock and a scripted UDP phone on 127.0.0.1. */
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import type { Timers } from '../../../server/sip/timers.js';

/** A manual clock: nothing fires until the test says so. */
export class FakeClock implements Timers {
  private current = 0;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; seq: number; fn: () => void }>();

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.current + ms, seq: id, fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  now(): number {
    return this.current;
  }
  get pending(): number {
    return this.timers.size;
  }
  /** Advances to the earliest timer and fires it; false when none is pending. */
  fireNext(): boolean {
    let next: [number, { at: number; seq: number; fn: () => void }] | undefined;
    for (const entry of this.timers) {
      if (next === undefined || entry[1].at < next[1].at || (entry[1].at === next[1].at && entry[1].seq < next[1].seq)) next = entry;
    }
    if (next === undefined) return false;
    this.timers.delete(next[0]);
    this.current = next[1].at;
    next[1].fn();
    return true;
  }
}

/** Lets pending I/O callbacks and promise reactions run. */
export const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export interface Received {
  text: string;
  from: { address: string; port: number };
}

/** A phone on a real UDP socket: records requests, answers with whatever `respond` returns. */
export class UdpPeer {
  readonly received: Received[] = [];
  respond: (req: string, index: number) => string[] = () => [];
  private waiters: Array<() => void> = [];

  private constructor(readonly socket: dgram.Socket) {
    socket.on('message', (msg, rinfo) => {
      const text = msg.toString('utf8');
      this.received.push({ text, from: { address: rinfo.address, port: rinfo.port } });
      for (const answer of this.respond(text, this.received.length - 1)) socket.send(answer, rinfo.port, rinfo.address);
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) w();
    });
  }

  static async start(): Promise<UdpPeer> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new UdpPeer(socket);
  }

  get port(): number {
    return (this.socket.address() as AddressInfo).port;
  }

  /** Resolves once `count` requests have arrived in total. */
  async waitFor(count: number): Promise<Received> {
    while (this.received.length < count) await new Promise<void>((resolve) => this.waiters.push(resolve));
    return this.received[count - 1] as Received;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

/** A response to `request` the way a phone builds it: Via/From/Call-ID/CSeq copied, To tagged. */
export function answer(request: string, status: string, extra: string[] = [], overrides: { cseq?: string; branch?: string } = {}): string {
  const lines = request.split('\r\n');
  const pick = (name: string): string[] => lines.filter((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  let via = pick('Via');
  if (overrides.branch !== undefined) via = via.map((v) => v.replace(/branch=[^;]*/, `branch=${overrides.branch}`));
  const cseq = overrides.cseq !== undefined ? [`CSeq: ${overrides.cseq}`] : pick('CSeq');
  return [
    `SIP/2.0 ${status}`,
    ...via,
    ...pick('From'),
    ...pick('To').map((t) => `${t};tag=phone1`),
    ...pick('Call-ID'),
    ...cseq,
    ...extra,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/** The value of header `name` in a request, or undefined. */
export function header(request: string, name: string): string | undefined {
  const line = request.split('\r\n').find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line?.slice(name.length + 1).trim();
}

/** A logger that lets a test wait until the client has seen a response with a given status. */
export class WatchingLogger {
  readonly warnings: Array<{ obj: object; msg: string }> = [];
  readonly seen: Array<{ obj: object; msg: string }> = [];
  private waiters: Array<() => void> = [];

  warn(obj: object, msg: string): void {
    this.warnings.push({ obj, msg });
  }
  debug(obj: object, msg: string): void {
    this.seen.push({ obj, msg });
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
  async waitFor(pred: (e: { obj: object; msg: string }) => boolean, count = 1): Promise<void> {
    while (this.seen.filter(pred).length < count) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }
}
