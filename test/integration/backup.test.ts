/**
 * `npm run backup` (scripts/backup.ts) on a live database: the copy is taken while another
 * connection keeps writing, passes integrity_check, holds the data, and a deskprov started on
 * the restored file serves the same phone config.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { createHarness, type Harness } from '../helpers/harness.js';
import { MAC, seedOffice } from '../helpers/hotdesk.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const UA = 'Yealink SIP-T46U 108.86.0.20';

function runBackup(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/backup.ts', ...args], { cwd: ROOT });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}

describe('backup and restore (scripts/backup.ts)', function () {
  this.timeout(60_000);
  let h: Harness;
  let restoreDir: string;
  beforeEach(async () => {
    h = createHarness();
    await seedOffice(h);
    restoreDir = mkdtempSync(join(tmpdir(), 'deskprov-restore-'));
  });
  afterEach(() => {
    h.destroy();
    rmSync(restoreDir, { recursive: true, force: true });
  });

  it('copies a live database while it is written to; the restored copy serves the same config', async () => {
    // Bulk so the copy takes several steps; then keep writing while the backup runs.
    const insert = h.db.prepare(`INSERT INTO users (extension, display_name, sip_username, sip_password, created_at, updated_at)
      VALUES (?, ?, ?, 'pw', 0, 0)`);
    h.db.transaction(() => {
      for (let i = 0; i < 20_000; i++) insert.run(String(100_000 + i), `Bulk user ${i} ${'x'.repeat(40)}`, String(100_000 + i));
    })();
    const before = (h.db.prepare('SELECT count(*) AS n FROM users').get() as { n: number }).n;
    const original = await h.http.get(`/${MAC.A}.cfg`).set('User-Agent', UA);
    expect(original.status).to.equal(200);

    const out = join(restoreDir, 'backups', 'deskprov-backup.db');
    let written = 0;
    const writer = setInterval(() => {
      for (let i = 0; i < 50; i++) insert.run(String(500_000 + written), `Live ${written}`, String(500_000 + written++));
    }, 1);
    const result = await runBackup(['--db', h.dbPath, '--out', out]);
    clearInterval(writer);

    expect(result.code, result.err).to.equal(0);
    expect(result.out, result.out).to.match(/copied \d+\/\d+ pages \(100%\)/);
    expect(result.out).to.include('integrity ok');
    expect(written, 'writes happened during the backup').to.be.greaterThan(0);
    expect(readdirSync(join(restoreDir, 'backups')), 'no partial file left').to.deep.equal(['deskprov-backup.db']);

    const copy = new Database(out, { readonly: true });
    try {
      expect(copy.pragma('integrity_check', { simple: true })).to.equal('ok');
      const n = (copy.prepare('SELECT count(*) AS n FROM users').get() as { n: number }).n;
      // A consistent snapshot: everything from before it started, at most what was written by its end.
      expect(n).to.be.at.least(before).and.at.most(before + written);
      expect(copy.prepare('SELECT display_name FROM users WHERE extension = ?').pluck().get('100')).to.equal('Olivia Owner');
    } finally {
      copy.close();
    }

    // Restore: the server is stopped, the file copied into place, a server started on it.
    copyFileSync(out, join(restoreDir, 'deskprov.db'));
    const restored = createHarness({ dir: restoreDir });
    try {
      const again = await restored.http.get(`/${MAC.A}.cfg`).set('User-Agent', UA);
      expect(again.status).to.equal(200);
      expect(again.text).to.equal(original.text);
      expect(again.headers.etag).to.equal(original.headers.etag);
    } finally {
      restored.close();
    }
  });

  it('writes the backup 0600 and a directory it creates 0700: the copy holds SIP passwords', async () => {
    const umask = process.umask(0o022); // the usual default, under which the copy came out 0644
    try {
      const out = join(restoreDir, 'new', 'deskprov-backup.db');
      const result = await runBackup(['--db', h.dbPath, '--out', out]);
      expect(result.code, result.err).to.equal(0);
      expect((statSync(out).mode & 0o777).toString(8)).to.equal('600');
      expect((statSync(join(restoreDir, 'new')).mode & 0o777).toString(8)).to.equal('700');
      expect(readdirSync(join(restoreDir, 'new'))).to.deep.equal(['deskprov-backup.db']);
    } finally {
      process.umask(umask);
    }
  });

  it('refuses to run without a database, or onto the database itself, and leaves nothing behind', async () => {
    const missing = await runBackup(['--db', join(restoreDir, 'nope.db'), '--out', join(restoreDir, 'x.db')]);
    expect(missing.code).to.equal(2);
    expect(missing.err).to.include('no database at');
    const self = await runBackup(['--db', h.dbPath, '--out', h.dbPath]);
    expect(self.code).to.equal(2);
    expect(self.err).to.include('must not be the database itself');
    expect(existsSync(join(restoreDir, 'x.db'))).to.equal(false);
  });
});
