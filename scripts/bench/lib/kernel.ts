/**
 * What the kernel says about a storm (Linux, from /proc): the TCP counters that say whether it
 * overflowed a listen queue, the CPU time of the server's processes, and the machine's.
 *
 * The TCP counters (/proc/net/netstat) are host-wide: client and servers together, since all
 * run on this machine.
 *
 * - listenOverflows: connections that found a listening socket's accept queue full. The kernel
 *   dropped their SYN (or final ACK) and the phone waits for TCP's retransmit: 1 s, then 3 s.
 * - synRetransmits: SYNs sent again by this host's clients (here: the benchmark's phones).
 */
import { readFileSync } from 'node:fs';
import { childrenOf } from './server.js';

export interface TcpCounters {
  listenOverflows: number;
  synRetransmits: number;
}

/** The counters now, or null where /proc/net/netstat cannot be read (not Linux). */
export function tcpCounters(): TcpCounters | null {
  let text: string;
  try {
    text = readFileSync('/proc/net/netstat', 'utf8');
  } catch {
    return null;
  }
  // Pairs of lines: "TcpExt: Name Name ..." then "TcpExt: value value ...".
  const lines = text.trim().split('\n');
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const names = lines[i]!.split(/\s+/);
    if (names[0] !== 'TcpExt:') continue;
    const values = lines[i + 1]!.split(/\s+/).map(Number);
    const of = (name: string) => values[names.indexOf(name)] ?? NaN;
    return { listenOverflows: of('ListenOverflows'), synRetransmits: of('TCPSynRetrans') };
  }
  return null;
}

/** What the counters moved by since `before` (null when either reading is missing). */
export function tcpSince(before: TcpCounters | null): TcpCounters | null {
  const now = tcpCounters();
  if (!before || !now) return null;
  return { listenOverflows: now.listenOverflows - before.listenOverflows, synRetransmits: now.synRetransmits - before.synRetransmits };
}

/** net.core.somaxconn, the cap on every listen backlog (null where it cannot be read). */
export function somaxconn(): number | null {
  try {
    return Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8').trim());
  } catch {
    return null;
  }
}

/** Clock ticks per second of /proc's CPU times (USER_HZ: 100 on every Linux build in use). */
const TICK_MS = 10;

/** CPU time (user + system, ms) used so far by process `pid` (0 once it is gone). */
function cpuMsOf(pid: number): number {
  try {
    // Fields after the ")" that ends the command name: utime and stime are the 12th and 13th.
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) * TICK_MS;
  } catch {
    return 0;
  }
}

/** The same for `pid` and its children (a server and its workers). */
export function treeCpuMs(pid: number): number {
  return [pid, ...childrenOf(pid)].reduce((t, p) => t + cpuMsOf(p), 0);
}

/** The machine's CPU time so far (ms, all cores): busy, idle and stolen by the hypervisor. */
export function machineCpuMs(): { busy: number; idle: number; steal: number } | null {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal
    return { busy: (f[0]! + f[1]! + f[2]! + f[5]! + f[6]!) * TICK_MS, idle: (f[3]! + f[4]!) * TICK_MS, steal: f[7]! * TICK_MS };
  } catch {
    return null;
  }
}
