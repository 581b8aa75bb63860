/** Admin use cases for users (extensions): create, edit, delete. */
import type { Stores } from '../../db/stores/index.js';
import type { User, UserWrite } from '../../db/stores/users.js';
import type { Mac } from '../domain/mac.js';
import { conflict, invalid, notFound } from '../errors.js';
import type { Actor, AuditSink } from './audit.js';
import type { ChangeTracker } from './change-tracker.js';
import type { Clock } from './clock.js';
import { hashPin, validatePin } from './pin.js';

export interface UserInput {
  extension: string;
  displayName: string;
  sipUsername?: string | undefined;
  sipPassword: string;
  pin?: string | null | undefined;
  hotdeskAllowed?: boolean | undefined;
  email?: string | null | undefined;
}

export type UserPatch = { [K in keyof Omit<UserInput, 'extension'>]?: UserInput[K] | undefined };

/** What the API shows of a user: never the SIP password, PIN or its hash. */
export function publicUser(u: User) {
  return {
    extension: u.extension,
    displayName: u.displayName,
    sipUsername: u.sipUsername,
    hotdeskAllowed: u.hotdeskAllowed,
    email: u.email,
    hasPin: u.pinHash !== null,
    lockedUntil: u.pinLockedUntil ? new Date(u.pinLockedUntil).toISOString() : null,
    createdAt: new Date(u.createdAt).toISOString(),
    updatedAt: new Date(u.updatedAt).toISOString(),
  };
}

export interface UserHooks {
  /** Ends the user's hot-desk sessions ('user-deleted') and returns the devices affected. */
  endSessionsOfUser(extension: string): string[];
  /** The user may no longer hot desk: ends their guest sessions ('admin'), re-provisioning those phones. */
  endGuestSessionsOf(extension: string, actor: Actor): string[];
}

export class UserService {
  constructor(
    private readonly s: Stores,
    private readonly changes: ChangeTracker,
    private readonly clock: Clock,
    private readonly audit: AuditSink,
    private readonly pinMinLength: number,
    private readonly hooks: UserHooks,
  ) {}

  get(extension: string): User {
    const u = this.s.users.get(extension);
    if (!u) throw notFound(`user ${extension}`);
    return u;
  }

  async create(input: UserInput, actor: Actor): Promise<User> {
    const pinHash = await this.pinHashOf(input.pin);
    return this.s.tx(() => {
      if (this.s.users.get(input.extension)) throw conflict(`user ${input.extension} already exists`);
      const row: UserWrite = {
        extension: input.extension,
        displayName: input.displayName,
        sipUsername: input.sipUsername ?? input.extension,
        sipPassword: input.sipPassword,
        pinHash,
        hotdeskAllowed: input.hotdeskAllowed ?? true,
        email: input.email ?? null,
      };
      this.s.users.insert(row, this.clock.now());
      const created = this.get(input.extension);
      this.audit.record({ actor, action: 'user.create', target: `user:${input.extension}`, after: publicUser(created) });
      return created;
    });
  }

  async update(extension: string, patch: UserPatch, actor: Actor): Promise<User> {
    const pinHash = patch.pin === undefined ? undefined : await this.pinHashOf(patch.pin);
    return this.s.tx(() => {
      const before = this.get(extension);
      const next: UserWrite = {
        extension,
        displayName: patch.displayName ?? before.displayName,
        sipUsername: patch.sipUsername ?? before.sipUsername,
        sipPassword: patch.sipPassword ?? before.sipPassword,
        pinHash: pinHash === undefined ? before.pinHash : pinHash,
        hotdeskAllowed: patch.hotdeskAllowed ?? before.hotdeskAllowed,
        email: patch.email === undefined ? before.email : patch.email,
      };
      this.s.users.update(next, this.clock.now(), pinHash !== undefined);
      // As switching hot desking off on a device ends its guest's session, so does it for a user.
      if (before.hotdeskAllowed && !next.hotdeskAllowed) this.hooks.endGuestSessionsOf(extension, actor);
      const lineChanged =
        next.displayName !== before.displayName || next.sipUsername !== before.sipUsername || next.sipPassword !== before.sipPassword;
      if (lineChanged) this.changes.changed(this.phonesCarrying(extension), `user ${extension} edited`);
      const after = this.get(extension);
      this.audit.record({ actor, action: 'user.update', target: `user:${extension}`, before: publicUser(before), after: publicUser(after) });
      return after;
    });
  }

  delete(extension: string, actor: Actor): void {
    this.s.tx(() => {
      const before = this.get(extension);
      this.hooks.endSessionsOfUser(extension);
      const owned = this.s.devices.macsForUser(extension);
      for (const mac of owned) {
        const d = this.s.devices.get(mac);
        if (d && d.ownerExtension === extension) this.s.devices.update({ ...d, ownerExtension: null }, this.clock.now());
      }
      this.changes.changed(owned, `user ${extension} deleted`);
      this.s.users.delete(extension);
      this.audit.record({ actor, action: 'user.delete', target: `user:${extension}`, before: publicUser(before) });
    });
  }

  /**
   * The phones whose config carries the user's line now: where they sit as a guest, and the
   * phones they own that no guest occupies (a guest's phone carries only the guest's line, so
   * editing its owner changes nothing there and must not reboot it).
   */
  private phonesCarrying(extension: string): Mac[] {
    return this.s.devices.macsForUser(extension).filter((mac) => (this.s.sessions.activeOn(mac)?.extension ?? extension) === extension);
  }

  private async pinHashOf(pin: string | null | undefined): Promise<string | null> {
    if (pin === undefined || pin === null) return null;
    const problem = validatePin(pin, this.pinMinLength);
    if (problem) throw invalid(`pin: ${problem}`, { fields: [{ field: 'pin', message: problem }] });
    return hashPin(pin);
  }
}
