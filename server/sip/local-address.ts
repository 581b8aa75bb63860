/**
 * The address to put in Via/From/Contact when the NOTIFY socket is bound to a wildcard
 * (0.0.0.0 or ::): the source address the kernel picks to reach the destination. A UDP socket
 * `connect()`ed to the destination asks the routing table and sends nothing; its `address()`
 * is that source. Answers are cached per destination host for a minute, so a resync of a whole
 * building asks the kernel once per phone at most, not once per NOTIFY.
 */
import dgram from 'node:dgram';
import { isIPv4, isIPv6 } from 'node:net';
import { networkInterfaces } from 'node:os';

/** 0.0.0.0, ::, 0:0:0:0:0:0:0:0 and the like. */
export function isWildcardAddress(host: string): boolean {
  return host === '0.0.0.0' || (isIPv6(host) && /^[0:]+$/.test(host));
}

/** The kernel's source address for `host:port`; null when it has no route (or cannot tell). */
export function routeSource(host: string, port: number, type: 'udp4' | 'udp6'): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket(isIPv4(host) ? 'udp4' : isIPv6(host) ? 'udp6' : type);
    let settled = false;
    const done = (address: string | null): void => {
      if (settled) return;
      settled = true;
      socket.close();
      resolve(address);
    };
    socket.on('error', () => done(null));
    try {
      socket.connect(port, host, (err?: Error) => {
        if (err) return done(null);
        try {
          done(stripZone(socket.address().address));
        } catch {
          done(null); // the socket went away between connect and address(): no answer
        }
      });
    } catch {
      done(null); // a synchronous refusal (bad port): no answer, the send reports the failure
    }
  });
}

/** The first address of a non-loopback interface of the family, for hosts with no route to ask about. */
export function firstInterfaceAddress(family: 'IPv4' | 'IPv6'): string | null {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (!a.internal && a.family === family && !(family === 'IPv6' && a.address.toLowerCase().startsWith('fe80:'))) return a.address;
    }
  }
  return null;
}

/** `fe80::1%eth0` → `fe80::1`: a zone index means nothing to the peer and is not valid in a Via. */
function stripZone(address: string): string {
  const pct = address.indexOf('%');
  return pct < 0 ? address : address.slice(0, pct);
}

const TTL_MS = 60_000;
const MAX_ENTRIES = 10_000;

export class SourceAddressCache {
  private readonly entries = new Map<string, { at: number; address: Promise<string> }>();

  constructor(
    private readonly type: 'udp4' | 'udp6',
    /** Used when neither the route nor an interface gives an address. */
    private readonly fallback: string,
    private readonly now: () => number,
  ) {}

  /** The local address to advertise towards `host:port`; never rejects. */
  sourceFor(host: string, port: number): Promise<string> {
    const key = host;
    const now = this.now();
    const hit = this.entries.get(key);
    if (hit !== undefined && now - hit.at < TTL_MS) return hit.address;
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    const family = isIPv4(host) ? 'IPv4' : isIPv6(host) ? 'IPv6' : this.type === 'udp6' ? 'IPv6' : 'IPv4';
    const address = routeSource(host, port, this.type).then((a) => a ?? firstInterfaceAddress(family) ?? this.fallback);
    this.entries.set(key, { at: now, address });
    return address;
  }
}
