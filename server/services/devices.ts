/** Admin use cases for devices: CRUD, owner assignment, and what the API shows of a device. */
import type { DeviceRecord, DeviceWrite } from '../../db/stores/devices.js';
import type { Stores } from '../../db/stores/index.js';
import type { Mac } from '../domain/mac.js';
import type { DeviceState } from '../domain/types.js';
import { conflict, invalid, notFound } from '../errors.js';
import type { Actor, AuditSink } from './audit.js';
import type { ChangeTracker } from './change-tracker.js';
import type { Clock } from './clock.js';
import { setImmediate as nextTurn } from 'node:timers/promises';

export type DeviceInput = Omit<DeviceWrite, 'mac'> & { mac: Mac };
export type DevicePatch = { [K in keyof Omit<DeviceWrite, 'mac'>]?: DeviceWrite[K] | undefined };

export interface DeviceHooks {
  /** Ends the active session on the device with `reason` (device-deleted, owner ...). */
  endSessionOn(mac: Mac, reason: 'device-deleted'): void;
  /** Sync status shown with the device (filled in by the resync service). */
  syncOf(device: DeviceRecord): unknown;
  /** syncOf() of many devices at once (fewer queries); one by one without it. */
  syncOfMany?(devices: readonly DeviceRecord[]): unknown[];
  /** The template the device renders with. */
  templateOf(device: DeviceRecord): string | null;
  /** An edit about to be saved: owner / hot-desk changes go through the hot-desk state machine. */
  edited?(before: DeviceRecord, next: DeviceWrite, actor: Actor): void;
  /** When an active session ends (timeout or daily logout, whichever first); its stored timeout without this. */
  sessionEndsAt?(session: { startedAt: number; endsAt: number | null }): number | null;
}

export class DeviceService {
  constructor(
    private readonly s: Stores,
    private readonly changes: ChangeTracker,
    private readonly clock: Clock,
    private readonly audit: AuditSink,
    private readonly hooks: DeviceHooks,
    private readonly requireLocation: boolean,
  ) {}

  get(mac: Mac): DeviceRecord {
    const d = this.s.devices.get(mac);
    if (!d) throw notFound(`device ${mac}`);
    return d;
  }

  stateOf(d: DeviceRecord): { state: DeviceState; guestExtension: string | null; session: ReturnType<Stores['sessions']['activeOn']> } {
    const session = this.s.sessions.activeOn(d.mac);
    return { state: stateFrom(session !== null, d), guestExtension: session?.extension ?? null, session };
  }

  /** The API shape of a device. */
  describe(d: DeviceRecord) {
    const { state, guestExtension, session } = this.stateOf(d);
    return {
      ...pickWrite(d),
      state,
      guestExtension,
      session: session
        ? {
            id: session.id,
            extension: session.extension,
            startedAt: iso(session.startedAt),
            endsAt: isoOrNull(this.hooks.sessionEndsAt ? this.hooks.sessionEndsAt(session) : session.endsAt),
          }
        : null,
      warnings: warningsOf(d),
      lastFetch: d.lastFetch
        ? { ...d.lastFetch, at: iso(d.lastFetch.at) }
        : null,
      sync: this.hooks.syncOf(d),
      template: this.hooks.templateOf(d),
      createdAt: iso(d.createdAt),
      updatedAt: iso(d.updatedAt),
    };
  }

  /**
   * What the dashboard and locations page show of the whole fleet, counted here rather than by
   * downloading every device's description: the same definitions as describe() (stateOf, the
   * sync status, the warnings), device by device, a chunk at a time. Samples are the first
   * SUMMARY_SAMPLE in MAC order (the device list's order), with only the fields the pages show.
   *
   * Between chunks it lets the event loop run: at 100,000 devices the whole pass takes seconds
   * (scripts/bench/memory.ts times it), and phones must not wait for it. Every figure comes from
   * the same pass, so they agree with each other; a device added or removed during the pass may
   * or may not be counted, as in any list read page by page.
   */
  async summary(): Promise<DeviceSummary> {
    const now = this.clock.now();
    let total = 0;
    const perLocation = new Map<number | null, number>();
    const byState: Record<DeviceState, number> = { owner: 0, guest: 0, unassigned: 0 };
    const notSeen = sampler<{ mac: Mac; label: string | null; lastFetch: { at: string } | null }>();
    const stale = sampler<{ mac: Mac; label: string | null; sync: { configVersion: number | null; fetchedVersion: number | null } }>();
    const warned = sampler<{ mac: Mac; label: string | null; warnings: string[] }>();
    // One read for the whole fleet: a session lookup per device took ~40 ms per 10,000 devices.
    const guests = this.s.sessions.activeMacs();
    for (const chunk of this.s.devices.each(SUMMARY_CHUNK)) {
      const syncs = this.hooks.syncOfMany ? this.hooks.syncOfMany(chunk) : chunk.map((d) => this.hooks.syncOf(d));
      for (const [i, d] of chunk.entries()) {
        total++;
        perLocation.set(d.locationId, (perLocation.get(d.locationId) ?? 0) + 1);
        byState[stateFrom(guests.has(d.mac), d)]++;
        if (!d.lastFetch || now - d.lastFetch.at > NOT_SEEN_MS) {
          notSeen.add(() => ({ mac: d.mac, label: d.label, lastFetch: d.lastFetch ? { at: iso(d.lastFetch.at) } : null }));
        }
        const sync = syncs[i] as { stale?: unknown; configVersion?: number | null; fetchedVersion?: number | null } | null | undefined;
        if (sync?.stale === true) {
          stale.add(() => ({ mac: d.mac, label: d.label, sync: { configVersion: sync.configVersion ?? null, fetchedVersion: sync.fetchedVersion ?? null } }));
        }
        const warnings = warningsOf(d);
        if (warnings.length > 0) warned.add(() => ({ mac: d.mac, label: d.label, warnings }));
      }
      await nextTurn();
    }
    // Largest first; ties by location id, devices with no location first.
    const byLocation = [...perLocation].map(([locationId, devices]) => ({ locationId, devices }));
    byLocation.sort((a, b) => b.devices - a.devices || (a.locationId ?? -Infinity) - (b.locationId ?? -Infinity));
    return {
      total,
      byState,
      byLocation,
      notSeen: notSeen.result(),
      stale: stale.result(),
      warnings: warned.result(),
    };
  }

  create(input: DeviceInput, actor: Actor): DeviceRecord {
    return this.s.tx(() => {
      if (this.s.devices.get(input.mac)) throw conflict(`device ${input.mac} already exists`);
      this.check(input);
      this.s.devices.insert(input, this.clock.now());
      const created = this.get(input.mac);
      this.audit.record({ actor, action: 'device.create', target: `device:${input.mac}`, after: input });
      return created;
    });
  }

  update(mac: Mac, patch: DevicePatch, actor: Actor): DeviceRecord {
    return this.s.tx(() => {
      const before = this.get(mac);
      const next: DeviceWrite = { ...pickWrite(before), ...definedOnly(patch) };
      this.check(next);
      // Nothing to change: no write, no audit line, and above all no resync (a NOTIFY reboots
      // most phones, mid-call if need be).
      if (sameFields(pickWrite(before), next)) return before;
      // A change the phone's files do not show (its NOTIFY contact, say) is saved without a resync.
      this.changes.changedIfFilesMove([mac], 'device edited', () => {
        this.hooks.edited?.(before, next, actor);
        this.s.devices.update(next, this.clock.now());
      });
      const after = this.get(mac);
      this.audit.record({ actor, action: 'device.update', target: `device:${mac}`, before: pickWrite(before), after: pickWrite(after) });
      return after;
    });
  }

  delete(mac: Mac, actor: Actor): void {
    this.s.tx(() => {
      const before = this.get(mac);
      this.hooks.endSessionOn(mac, 'device-deleted');
      this.s.files.deleteAll(mac);
      this.s.devices.delete(mac);
      this.audit.record({ actor, action: 'device.delete', target: `device:${mac}`, before: pickWrite(before) });
    });
  }

  /** Validates references; throws 400 naming the field. Call inside a transaction. */
  check(d: Omit<DeviceWrite, 'mac'>): void {
    if (d.ownerExtension !== null && !this.s.users.get(d.ownerExtension)) {
      throw invalid(`ownerExtension: no user ${d.ownerExtension}`, { fields: [{ field: 'ownerExtension', message: 'no such user' }] });
    }
    if (d.locationId !== null && !this.s.locations.get(d.locationId)) {
      throw invalid(`locationId: no location ${d.locationId}`, { fields: [{ field: 'locationId', message: 'no such location' }] });
    }
    if (this.requireLocation && d.hotdeskEnabled && d.locationId === null) {
      throw invalid('locationId: a hot-desk device needs a location (hotdesk.requireLocation)', {
        fields: [{ field: 'locationId', message: 'required for hot-desk devices' }],
      });
    }
  }
}

/** A device's state: a session makes it a guest's, else its owner's if it has one. */
function stateFrom(hasSession: boolean, d: Pick<DeviceRecord, 'ownerExtension'>): DeviceState {
  return hasSession ? 'guest' : d.ownerExtension ? 'owner' : 'unassigned';
}

/** A device not seen (no config fetch) for longer than this is listed on the dashboard. */
export const NOT_SEEN_MS = 24 * 60 * 60 * 1000;
/** Entries at most in each sample of the summary. */
export const SUMMARY_SAMPLE = 50;
const SUMMARY_CHUNK = 1000;

export interface SummarySample<T> {
  count: number;
  sample: T[];
}

export interface DeviceSummary {
  total: number;
  byState: Record<DeviceState, number>;
  byLocation: Array<{ locationId: number | null; devices: number }>;
  notSeen: SummarySample<{ mac: Mac; label: string | null; lastFetch: { at: string } | null }>;
  stale: SummarySample<{ mac: Mac; label: string | null; sync: { configVersion: number | null; fetchedVersion: number | null } }>;
  warnings: SummarySample<{ mac: Mac; label: string | null; warnings: string[] }>;
}

/** Counts every entry, keeps the first SUMMARY_SAMPLE (built only when kept). */
function sampler<T>() {
  let count = 0;
  const sample: T[] = [];
  return {
    add(make: () => T) {
      count++;
      if (sample.length < SUMMARY_SAMPLE) sample.push(make());
    },
    result: (): SummarySample<T> => ({ count, sample }),
  };
}

/** What is wrong with a device's setup, as its description lists it. */
export function warningsOf(d: DeviceRecord): string[] {
  return d.hotdeskEnabled && d.locationId === null ? ['hot-desk device without a location (E911)'] : [];
}

export function pickWrite(d: DeviceRecord): DeviceWrite {
  return {
    mac: d.mac,
    vendor: d.vendor,
    model: d.model,
    label: d.label,
    ownerExtension: d.ownerExtension,
    hotdeskEnabled: d.hotdeskEnabled,
    locationId: d.locationId,
    sipContact: d.sipContact,
    sessionTimeout: d.sessionTimeout,
  };
}

function definedOnly<T extends object>(o: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}

const iso = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));

/** Whether two flat records hold the same values (field order aside). */
export function sameFields<T extends object>(a: T, b: T): boolean {
  const ka = Object.keys(a) as (keyof T)[];
  return ka.length === Object.keys(b).length && ka.every((k) => Object.is(a[k], b[k]));
}
