import type { Db } from '../index.js';

export interface User {
  extension: string;
  displayName: string;
  sipUsername: string;
  sipPassword: string;
  pinHash: string | null;
  hotdeskAllowed: boolean;
  email: string | null;
  pinFailures: number;
  pinLockedUntil: number | null;
  createdAt: number;
  updatedAt: number;
}

interface Row {
  extension: string;
  display_name: string;
  sip_username: string;
  sip_password: string;
  pin_hash: string | null;
  hotdesk_allowed: number;
  email: string | null;
  pin_failures: number;
  pin_locked_until: number | null;
  created_at: number;
  updated_at: number;
}

const toUser = (r: Row): User => ({
  extension: r.extension,
  displayName: r.display_name,
  sipUsername: r.sip_username,
  sipPassword: r.sip_password,
  pinHash: r.pin_hash,
  hotdeskAllowed: r.hotdesk_allowed === 1,
  email: r.email,
  pinFailures: r.pin_failures,
  pinLockedUntil: r.pin_locked_until,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export type UserWrite = Omit<User, 'pinFailures' | 'pinLockedUntil' | 'createdAt' | 'updatedAt'>;

export class UserStore {
  private readonly byExt;
  private readonly all;
  private readonly ins;
  private readonly upd;
  private readonly del;
  private readonly pinState;

  constructor(db: Db) {
    this.byExt = db.prepare<[string], Row>('SELECT * FROM users WHERE extension = ?');
    this.all = db.prepare<[], Row>('SELECT * FROM users ORDER BY extension');
    this.ins = db.prepare(`INSERT INTO users (extension, display_name, sip_username, sip_password, pin_hash,
      hotdesk_allowed, email, created_at, updated_at)
      VALUES (@extension, @displayName, @sipUsername, @sipPassword, @pinHash, @hotdeskAllowed, @email, @now, @now)`);
    this.upd = db.prepare(`UPDATE users SET display_name = @displayName, sip_username = @sipUsername,
      sip_password = @sipPassword, pin_hash = @pinHash, hotdesk_allowed = @hotdeskAllowed, email = @email,
      pin_failures = CASE WHEN @pinChanged THEN 0 ELSE pin_failures END,
      pin_locked_until = CASE WHEN @pinChanged THEN NULL ELSE pin_locked_until END,
      updated_at = @now WHERE extension = @extension`);
    this.del = db.prepare('DELETE FROM users WHERE extension = ?');
    this.pinState = db.prepare('UPDATE users SET pin_failures = ?, pin_locked_until = ? WHERE extension = ?');
  }

  get(extension: string): User | null {
    const r = this.byExt.get(extension);
    return r ? toUser(r) : null;
  }

  list(): User[] {
    return this.all.all().map(toUser);
  }

  insert(u: UserWrite, now: number): void {
    this.ins.run({ ...u, hotdeskAllowed: u.hotdeskAllowed ? 1 : 0, now });
  }

  update(u: UserWrite, now: number, pinChanged: boolean): void {
    this.upd.run({ ...u, hotdeskAllowed: u.hotdeskAllowed ? 1 : 0, now, pinChanged: pinChanged ? 1 : 0 });
  }

  delete(extension: string): void {
    this.del.run(extension);
  }

  setPinState(extension: string, failures: number, lockedUntil: number | null): void {
    this.pinState.run(failures, lockedUntil, extension);
  }
}
