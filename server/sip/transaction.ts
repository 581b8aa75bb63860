/**
 * The timers of one non-INVITE client transaction (RFC 3261 §17.1.2.2, figure 6).
 * Knows nothing about sockets: it calls `transmit` when the request must go (again) on the
 * wire and `timeout` when Timer F expires. The owner feeds it responses.
 */
import type { Timers } from './timers.js';

export interface TransactionTiming {
  /** T1, the RTT estimate (500 ms). */
  t1Ms: number;
  /** T2, the retransmit cap for non-INVITE requests (4 s). */
  t2Ms: number;
  /** TCP/TLS: the transport retransmits, so Timer E is not used (§17.1.2.2). */
  reliable: boolean;
}

export class NonInviteClientTransaction {
  private state: 'idle' | 'trying' | 'proceeding' | 'done' = 'idle';
  private timerE: unknown = null;
  private timerF: unknown = null;
  private interval = 0;
  /** When Timer E is due, on the nominal schedule (see onTimerE). */
  private dueE = 0;

  constructor(
    private readonly timers: Timers,
    private readonly timing: TransactionTiming,
    private readonly transmit: () => void,
    private readonly timeout: () => void,
  ) {}

  /** Sends the request and arms Timer F (64·T1) and, on UDP, Timer E (T1). */
  start(): void {
    if (this.state !== 'idle') return;
    this.state = 'trying';
    // Timer F first: if transmit() ends the transaction synchronously (a send error), the
    // terminate() it triggers must find the timer to clear.
    this.timerF = this.timers.setTimeout(() => this.onTimerF(), 64 * this.timing.t1Ms);
    if (!this.timing.reliable) {
      this.interval = this.timing.t1Ms;
      this.dueE = this.timers.now() + this.interval;
      this.timerE = this.timers.setTimeout(() => this.onTimerE(), this.interval);
    }
    this.transmit();
  }

  /**
   * A 1xx: move to Proceeding. Timer F keeps running — a phone answering 100 and then nothing
   * must still end in 408 — and from the next firing on Timer E uses T2.
   */
  provisional(): void {
    if (this.state === 'trying') this.state = 'proceeding';
  }

  /** A final response, a transport error or shutdown: stop every timer. Idempotent. */
  terminate(): void {
    this.state = 'done';
    if (this.timerE !== null) this.timers.clearTimeout(this.timerE);
    if (this.timerF !== null) this.timers.clearTimeout(this.timerF);
    this.timerE = this.timerF = null;
  }

  get active(): boolean {
    return this.state === 'trying' || this.state === 'proceeding';
  }

  private onTimerE(): void {
    this.timerE = null;
    if (!this.active) return;
    // Trying: E doubles from T1 up to T2 (0.5, 1, 2, 4, 4, ... s). Proceeding: always T2.
    this.interval = this.state === 'proceeding' ? this.timing.t2Ms : Math.min(2 * this.interval, this.timing.t2Ms);
    // Re-arm from when E was due, not from when it fired: late timer callbacks must not add up,
    // or the 11th transmission (31.5 s) could slip past Timer F (32 s).
    this.dueE += this.interval;
    this.timerE = this.timers.setTimeout(() => this.onTimerE(), Math.max(0, this.dueE - this.timers.now()));
    this.transmit();
  }

  private onTimerF(): void {
    this.timerF = null;
    if (!this.active) return;
    this.terminate();
    this.timeout();
  }
}
