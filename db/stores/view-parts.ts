/**
 * What a device's config shows besides the device row, read in one statement: its active
 * session and that session's user (the guest), its owner, its location; with the device row
 * too when a phone's request renders.
 *
 * This is the render's read. Read store by store it took five statements (the device row with
 * its last fetch, the session, one or two users, the location), and better-sqlite3 builds each
 * named row property by property: in a render on request, building row objects took about half
 * of the reads' time. One statement of plain arrays took a render again (`npx tsx
 * scripts/bench/hot-path.ts`, "render again") from 158-177 to 111-123 us of CPU.
 */
import type { Db } from '../index.js';
import type { Mac } from '../../server/domain/mac.js';
import { DEVICE_ROW_COLUMNS, deviceFromRaw, type DeviceRawRow, type DeviceRow } from './devices.js';
import { parseNumbers } from './locations.js';

/** A user as a config shows them on its line. */
export interface LineUser {
  extension: string;
  displayName: string;
  sipUsername: string;
  sipPassword: string;
}

/** The device's active session, as far as a config shows it (its end and Logout key). */
export interface ActiveSessionPart {
  id: number;
  mac: Mac;
  extension: string;
  startedAt: number;
  endsAt: number | null;
}

export interface LocationPart {
  id: number;
  name: string;
  address: string | null;
  emergencyNumbers: string[];
  callbackNumber: string | null;
}

export interface ViewParts {
  /** Null when the device has no active session. */
  session: ActiveSessionPart | null;
  /** The session's user; null without a session, or when its user is gone. */
  guest: LineUser | null;
  owner: LineUser | null;
  location: LocationPart | null;
}

/** The device's own columns the parts hang on. */
export interface ViewKeys {
  mac: string;
  ownerExtension: string | null;
  locationId: number | null;
}

// Column order of the read (a raw row: an array in this order).
type PartsRow = [
  sessionId: number | null, sessionExtension: string | null, startedAt: number | null, endsAt: number | null,
  guestExtension: string | null, guestName: string | null, guestUser: string | null, guestPassword: string | null,
  ownerExtension: string | null, ownerName: string | null, ownerUser: string | null, ownerPassword: string | null,
  locationId: number | null, locationName: string | null, address: string | null, emergencyNumbers: string | null, callbackNumber: string | null,
];

const PART_COLUMNS = `s.id, s.extension, s.started_at, s.ends_at,
    g.extension, g.display_name, g.sip_username, g.sip_password,
    o.extension, o.display_name, o.sip_username, o.sip_password,
    l.id, l.name, l.address, l.emergency_numbers, l.callback_number`;
const PART_COUNT = 17;
/** `k`: the device's MAC, owner and location (`k.mac`, `k.owner`, `k.location`). */
const partJoins = (k: string) => `LEFT JOIN sessions s ON s.mac = ${k}.mac AND s.ended_at IS NULL
  LEFT JOIN users g ON g.extension = s.extension
  LEFT JOIN users o ON o.extension = ${k}.owner
  LEFT JOIN locations l ON l.id = ${k}.location`;

/** A device row with its parts: the parts' columns, then the device's. */
type DevicePartsRow = [...PartsRow, ...DeviceRawRow];

function lineUser(extension: string | null, name: string | null, user: string | null, password: string | null): LineUser | null {
  // users.extension is the primary key: null means the LEFT JOIN found no user.
  return extension === null ? null : { extension, displayName: name ?? '', sipUsername: user ?? '', sipPassword: password ?? '' };
}

function partsOf(mac: string, r: PartsRow | DevicePartsRow): ViewParts {
  return {
    session: r[0] === null ? null : { id: r[0], mac: mac as Mac, extension: r[1]!, startedAt: r[2]!, endsAt: r[3] },
    guest: r[0] === null ? null : lineUser(r[4], r[5], r[6], r[7]),
    owner: lineUser(r[8], r[9], r[10], r[11]),
    location: r[12] === null ? null : { id: r[12], name: r[13]!, address: r[14], emergencyNumbers: parseNumbers(r[15]!), callbackNumber: r[16] },
  };
}

export class ViewPartStore {
  private readonly partsOf;
  private readonly withDevice_;

  constructor(db: Db) {
    // Plain arrays: better-sqlite3 builds a named row property by property, several times slower.
    this.partsOf = db.prepare<[string, string | null, number | null], PartsRow>(`SELECT ${PART_COLUMNS}
      FROM (SELECT ? AS mac, ? AS owner, ? AS location) k ${partJoins('k')}`).raw(true);
    this.withDevice_ = db.prepare<[string], DevicePartsRow>(`SELECT ${PART_COLUMNS}, ${DEVICE_ROW_COLUMNS.map((c) => `d.${c}`).join(', ')}
      FROM (SELECT *, owner_extension AS owner, location_id AS location FROM devices WHERE mac = ?) d ${partJoins('d')}`).raw(true);
  }

  /** The parts of a device whose row the caller has. */
  of(keys: ViewKeys): ViewParts {
    const r = this.partsOf.get(keys.mac, keys.ownerExtension, keys.locationId);
    if (!r) throw new Error('view parts: the read returned no row'); // a FROM of one row, LEFT JOINs only
    return partsOf(keys.mac, r);
  }

  /** A device's row and its parts, read together (null: no such device). */
  withDevice(mac: string): { device: DeviceRow; parts: ViewParts } | null {
    const r = this.withDevice_.get(mac);
    if (!r) return null;
    return { device: deviceFromRaw(r.slice(PART_COUNT) as DeviceRawRow), parts: partsOf(mac, r) };
  }
}
