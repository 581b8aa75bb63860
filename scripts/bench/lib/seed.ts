/**
 * Seeds a benchmark database: locations, users and devices of the four vendors, written
 * straight into a fresh SQLite file (migrated by openDatabase) in one transaction.
 * 70% of desks have an owner, 10% a hot-desk guest, 20% are unassigned; every desk has a location.
 */
import { openDatabase } from '../../../db/index.js';
import { benchFleet, type BenchPhone } from './phones.js';

export interface SeedResult {
  phones: BenchPhone[];
  ms: number;
}

export function seedDatabase(dbPath: string, devices: number, now = Date.now()): SeedResult {
  const started = performance.now();
  const phones = benchFleet(devices);
  const db = openDatabase(dbPath);
  try {
    db.transaction(() => {
      const loc = db.prepare(`INSERT INTO locations (id, name, address, emergency_numbers, callback_number, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?)`);
      const locations = Math.max(1, Math.min(200, Math.ceil(devices / 500)));
      for (let l = 1; l <= locations; l++) {
        loc.run(l, `Building ${Math.ceil(l / 10)} floor ${l % 10}`, `${l} Main Street & Co <HQ>`, '["911","112"]', `+1555000${String(l).padStart(4, '0')}`, now, now);
      }
      const user = db.prepare(`INSERT INTO users (extension, display_name, sip_username, sip_password, hotdesk_allowed, created_at, updated_at)
        VALUES (?, ?, ?, ?, 1, ?, ?)`);
      const device = db.prepare(`INSERT INTO devices (mac, vendor, model, label, owner_extension, hotdesk_enabled, location_id, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
      const session = db.prepare('INSERT INTO sessions (mac, extension, started_at, ends_at) VALUES (?, ?, ?, ?)');
      phones.forEach((p, i) => {
        const ext = String(100_000 + i);
        user.run(ext, `User ${ext} "O'Brien"`, ext, `pw-${ext}-${(i * 2654435761) % 1e9}`, now, now);
        const kind = i % 10;
        const owner = kind < 7 ? ext : null;
        device.run(p.mac, p.vendor, p.model, `Desk ${Math.floor(i / 100)}.${i % 100}`, owner, kind >= 7 ? 1 : 0, (i % locations) + 1, now, now);
        if (kind === 7) session.run(p.mac, ext, now, now + 12 * 3_600_000);
      });
    })();
  } finally {
    db.close();
  }
  return { phones, ms: performance.now() - started };
}
