/** Upgrade tests: a database file as an older deskprov left it. */
import Database from 'better-sqlite3';
import { loadMigrations } from '../../db/index.js';

/** Opens (creating) the file at `path` with every migration before `version` applied, recorded as deskprov records them. */
export function databaseBefore(path: string, version: number): Database.Database {
  const db = new Database(path);
  db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT');
  for (const m of loadMigrations().filter((m) => m.version < version)) {
    db.exec(m.sql);
    db.prepare('INSERT INTO schema_migrations VALUES (?, ?, 0)').run(m.version, m.name);
  }
  return db;
}
