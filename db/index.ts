/**
 * Opening the database: pragmas for durability and concurrency, then numbered migrations.
 * Only db/ touches SQLite.
 */
import Database from 'better-sqlite3';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { projectPath } from '../server/project.js';

export type Db = Database.Database;

const MIGRATIONS_DIR = projectPath('db', 'migrations');

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export function loadMigrations(): Migration[] {
  return readdirSync(MIGRATIONS_DIR)
    .filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((f) => ({ version: Number(f.slice(0, 3)), name: f, sql: readFileSync(join(MIGRATIONS_DIR, f), 'utf8') }));
}

/**
 * The database holds SIP passwords in clear: what deskprov creates is its user's alone. A
 * directory it creates is 0700; the database file is created 0600 before SQLite opens it, and
 * SQLite gives `-wal` and `-shm` the database file's mode. (The umask can only narrow these.)
 * An existing file's mode is left as it is: see databaseModeWarning.
 */
export const DATA_DIR_MODE = 0o700;
export const DATABASE_FILE_MODE = 0o600;

function isFile(path: string): boolean {
  return path !== '' && path !== ':memory:';
}

function createDatabaseFile(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: DATA_DIR_MODE });
  try {
    closeSync(openSync(path, 'wx', DATABASE_FILE_MODE));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

/**
 * WAL pages after which a commit copies the WAL back into the database file (a checkpoint, with
 * its fsync), on the connection that commits: SQLite's default, set explicitly, and restored by the
 * fetch-log thread when it stops. Fewer, longer checkpoints cost the primary's event loop less in
 * all but hold it longer each time; 10,000 was measured and not kept (docs/operations.md, "Fetch
 * records"; `npx tsx scripts/bench/checkpoints.ts`).
 */
export const WAL_AUTOCHECKPOINT_PAGES = 1_000;

/** Gives checkpoints back to `db`'s own commits (a checkpointing thread stopped), if it is still open. */
export function restoreAutoCheckpoint(db: Db): void {
  if (db.open) db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
}

export function openDatabase(path: string): Db {
  if (isFile(path)) createDatabaseFile(path);
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  // NORMAL in WAL mode: a committed transaction survives a process crash; only an OS crash
  // or power loss can roll back the last few commits.
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
  migrate(db);
  return db;
}

export interface DatabaseModeWarning {
  /** The database file, `-wal` and `-shm` that group or others may access, absolute. */
  files: Array<{ path: string; mode: string }>;
  /** The command that makes them the owner's alone. */
  fix: string;
  message: string;
}

const shellWord = (s: string) => (/^[A-Za-z0-9_./:@%+=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/**
 * For the start-up log: the database file (or its `-wal`/`-shm`) is open to group or others,
 * e.g. created by an older deskprov under the default umask. Null when all is owner-only.
 */
export function databaseModeWarning(path: string): DatabaseModeWarning | null {
  if (!isFile(path)) return null;
  const db = resolve(path);
  const files = [db, `${db}-wal`, `${db}-shm`]
    .filter((f) => existsSync(f))
    .map((f) => ({ path: f, mode: statSync(f).mode & 0o777 }))
    .filter((f) => (f.mode & 0o077) !== 0)
    .map((f) => ({ path: f.path, mode: `0${f.mode.toString(8).padStart(3, '0')}` }));
  if (files.length === 0) return null;
  const fix = `chmod 600 ${files.map((f) => shellWord(f.path)).join(' ')}`;
  const modes = files.map((f) => `${f.path} ${f.mode}`).join(', ');
  return {
    files,
    fix,
    message: `the database holds SIP passwords in clear but is open to group or other users (${modes}); run: ${fix}`,
  };
}

export function migrate(db: Db): number {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT`);
  const applied = new Set(
    (db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version),
  );
  let count = 0;
  for (const m of loadMigrations()) {
    if (applied.has(m.version)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
    })();
    count++;
  }
  return count;
}
