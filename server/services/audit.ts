/** Who did something through the admin API or console, and the record of it. */
export type Role = 'admin' | 'pbx' | 'readonly';

export interface Actor {
  /** Token or account name; "system" for sweeps and other internal work. */
  name: string;
  role: Role;
}

export const SYSTEM: Actor = { name: 'system', role: 'admin' };

export interface AuditEntry {
  actor: Actor;
  action: string;
  target: string;
  before?: unknown;
  after?: unknown;
}

export interface AuditSink {
  /** Called inside the transaction of the change it describes. */
  record(entry: AuditEntry): void;
}

export const noAudit: AuditSink = { record: () => {} };

const SECRET_KEYS = new Set(['sipPassword', 'pin', 'pinHash', 'password', 'token', 'tokenHash', 'downloadPassword']);

/** A copy of `value` with every secret field replaced by "***". */
export function maskSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(maskSecrets);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEYS.has(k) ? (v == null ? v : '***') : maskSecrets(v);
    return out;
  }
  return value;
}
