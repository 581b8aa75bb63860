/**
 * Messages between the primary process and its phone workers (child_process IPC, JSON).
 * A worker is this same code base forked by the primary: its messages are trusted for shape,
 * but the primary still ignores anything that does not look like one of these.
 */
import type { FetchRecord } from '../../db/stores/devices.js';
import type { Config } from '../config.js';
import { isTallyData, type PhoneTallyData } from '../phone-tally.js';
import type { FailureKind } from '../services/enumeration-guard.js';

export type ToWorker =
  | { type: 'init'; id: number; config: Config; internalSocket: string }
  /** Sent with a listening handle, once per accept handle the worker should add. */
  | { type: 'listen' }
  /** [ip, until (epoch ms)] of every current enumeration block. */
  | { type: 'blocks'; blocks: Array<[string, number]> }
  | { type: 'stop' };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'fetches'; records: FetchRecord[] }
  /** The phone requests the worker answered since its last tally. */
  | { type: 'answered'; tally: PhoneTallyData }
  | { type: 'fail'; ip: string; kind: FailureKind };

export function isFromWorker(m: unknown): m is FromWorker {
  if (typeof m !== 'object' || m === null) return false;
  const t = (m as { type?: unknown }).type;
  if (t === 'ready') return true;
  if (t === 'fetches') return Array.isArray((m as { records?: unknown }).records);
  if (t === 'answered') return isTallyData((m as { tally?: unknown }).tally);
  if (t === 'fail') return typeof (m as { ip?: unknown }).ip === 'string' && typeof (m as { kind?: unknown }).kind === 'string';
  return false;
}
