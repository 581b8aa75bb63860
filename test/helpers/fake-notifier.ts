/** A SipNotifier that records every NOTIFY (with the fake time it was sent) and answers as scripted. */
import type { Clock } from '../../server/services/clock.js';
import type { NotifyRequest, NotifyResult, SipNotifier } from '../../server/sip/notifier.js';

export interface SentNotify {
  at: number;
  req: NotifyRequest;
}

export class RecordingNotifier implements SipNotifier {
  readonly sent: SentNotify[] = [];
  /** Answer per request; 200 OK unless a test says otherwise. */
  answer: (req: NotifyRequest, n: number) => Partial<NotifyResult> = () => ({});

  constructor(private readonly clock: Clock) {}

  notify(req: NotifyRequest): Promise<NotifyResult> {
    this.sent.push({ at: this.clock.now(), req });
    const a = this.answer(req, this.sent.length);
    return Promise.resolve({ status: 200, reason: 'OK', transmissions: 1, elapsedMs: 3, ...a });
  }
}
