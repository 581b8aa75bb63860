/**
 * Online backup of the deskprov database, safe while the server runs.
 *
 *   npm run backup -- --out /var/backups/deskprov-$(date +%F).db [--db PATH | --config FILE]
 *
 * SQLite's backup API: a first small step, then the rest in one step, which reads one consistent
 * snapshot; in WAL mode the server keeps writing meanwhile (writers are not blocked). The copy is written beside --out and renamed into place once complete and checked
 * (`PRAGMA integrity_check`), so --out is never a half-written file. The copy holds SIP
 * passwords like the database: it is created 0600 (a directory made for it 0700).
 * Restore: stop deskprov, copy the backup over database.path (remove any -wal/-shm beside it),
 * start deskprov. See docs/operations.md.
 */
import Database from 'better-sqlite3';
import { Command } from 'commander';
import { closeSync, existsSync, mkdirSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DATA_DIR_MODE, DATABASE_FILE_MODE } from '../db/index.js';
import { ConfigError, loadConfig } from '../server/config.js';

const opts = new Command()
  .name('deskprov-backup')
  .description('Copy the deskprov SQLite database while the server runs')
  .requiredOption('-o, --out <file>', 'where to write the backup')
  .option('--db <path>', 'database file (default: database.path from the config)')
  .option('-c, --config <file>', 'deskprov config file (or DESKPROV_CONFIG) to read database.path from')
  .option('--pages <n>', 'pages per step; 0 = the rest in one step (default: a consistent snapshot that, in WAL mode, never blocks the server)', (v) => Number(v), 0)
  .parse()
  .opts<{ out: string; db?: string; config?: string; pages: number }>();

function fail(message: string): never {
  process.stderr.write(`deskprov-backup: ${message}\n`);
  process.exit(2);
}

let source = opts.db;
if (source === undefined) {
  try {
    source = loadConfig(opts.config ?? process.env.DESKPROV_CONFIG).database.path;
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
}
const src = resolve(source);
const out = resolve(opts.out);
if (!existsSync(src)) fail(`no database at ${src}`);
if (out === src) fail('--out must not be the database itself');
if (!Number.isInteger(opts.pages) || opts.pages < 0) fail('--pages must be 0 or a positive integer');

mkdirSync(dirname(out), { recursive: true, mode: DATA_DIR_MODE });
const partial = `${out}.partial-${process.pid}`;
// Created owner-only before SQLite writes into it (SQLite would create it 0644); the rename
// keeps the mode, so --out is 0600 too.
try {
  closeSync(openSync(partial, 'wx', DATABASE_FILE_MODE));
} catch (err) {
  fail(`cannot create ${partial}: ${(err as Error).message}`);
}
const db = new Database(src, { fileMustExist: true });
db.pragma('busy_timeout = 5000');
const started = Date.now();
let lastShown = -1;
let total = 0;
try {
  await db.backup(partial, {
    progress({ totalPages, remainingPages }) {
      total = totalPages;
      const pct = totalPages === 0 ? 100 : Math.floor(((totalPages - remainingPages) / totalPages) * 100);
      if (pct !== lastShown && (pct % 10 === 0 || remainingPages === 0)) {
        lastShown = pct;
        process.stdout.write(`copied ${totalPages - remainingPages}/${totalPages} pages (${pct}%)\n`);
      }
      // Between steps the read snapshot is released and a write by the server restarts the copy:
      // small steps can chase a busy database for ever, one step cannot.
      return opts.pages === 0 ? Math.max(remainingPages, 1) : opts.pages;
    },
  });
  if (lastShown !== 100) process.stdout.write(`copied ${total}/${total} pages (100%)\n`);
} catch (err) {
  rmSync(partial, { force: true });
  fail(`backup failed: ${(err as Error).message}`);
} finally {
  db.close();
}

// A self-contained single file (no -wal beside it); deskprov switches it back to WAL on start.
const check = new Database(partial);
check.pragma('journal_mode = DELETE');
const integrity = check.pragma('integrity_check', { simple: true });
check.close();
if (integrity !== 'ok') {
  rmSync(partial, { force: true });
  fail(`the copy failed its integrity check: ${String(integrity)}`);
}
renameSync(partial, out);
const mb = statSync(out).size / 2 ** 20;
process.stdout.write(`backup of ${src} written to ${out} (${mb.toFixed(1)} MB, integrity ok, ${Date.now() - started} ms)\n`);
