/**
 * The database holds SIP passwords in clear: what deskprov creates is owner-only, under the
 * common umask 022 that used to leave deskprov.db, -wal and -shm at 0644 and the directory at
 * 0755. An existing database's mode is not changed behind the admin's back; the real process
 * warns at start-up, naming the file and the chmod to run.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '../../db/index.js';
import { freePort } from '../helpers/ports.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const modeOf = (path: string) => `0${(statSync(path).mode & 0o777).toString(8)}`;

describe('database file permissions', function () {
  this.timeout(60_000);
  let umask: number;
  let dir: string;

  before(() => {
    // The usual default umask, under which the files came out world-readable.
    umask = process.umask(0o022);
  });
  after(() => {
    process.umask(umask);
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'deskprov-modes-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the database, its -wal and -shm 0600, and the directories it makes 0700', () => {
    const path = join(dir, 'data', 'deskprov', 'deskprov.db');
    const db = openDatabase(path);
    try {
      db.prepare("INSERT INTO locations (name, created_at, updated_at) VALUES ('HQ', 0, 0)").run();
      expect(existsSync(`${path}-wal`), '-wal exists').to.equal(true);
      expect(modeOf(path)).to.equal('0600');
      expect(modeOf(`${path}-wal`)).to.equal('0600');
      expect(modeOf(`${path}-shm`)).to.equal('0600');
      expect(modeOf(join(dir, 'data'))).to.equal('0700');
      expect(modeOf(join(dir, 'data', 'deskprov'))).to.equal('0700');
    } finally {
      db.close();
    }
  });

  it('leaves a directory it did not create as it is', () => {
    const existing = join(dir, 'srv');
    mkdirSync(existing);
    chmodSync(existing, 0o755);
    openDatabase(join(existing, 'deskprov.db')).close();
    expect(modeOf(existing)).to.equal('0755');
    expect(modeOf(join(existing, 'deskprov.db'))).to.equal('0600');
  });

  it('start-up keeps an existing world-readable database as it is and warns, naming the file and the chmod', async () => {
    const path = join(dir, 'deskprov.db');
    openDatabase(path).close();
    chmodSync(path, 0o644); // as an older deskprov left it
    const port = await freePort();
    const config = join(dir, 'deskprov.json');
    writeFileSync(config, JSON.stringify({
      http: { host: '127.0.0.1', port },
      database: { path },
      admin: { token: 'modes-test-admin-token-0123456789' },
      sip: { bindHost: '127.0.0.1', port: 0 },
      log: { level: 'info' },
    }));
    const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts', '--config', config], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      // The warning comes before the listening line; wait for that one.
      await new Promise<void>((resolve, reject) => {
        child.stdout?.on('data', (d: Buffer) => {
          stdout += d.toString();
          if (stdout.includes('"msg":"deskprov listening"')) resolve();
        });
        child.once('exit', (code) => reject(new Error(`deskprov exited with ${code}: ${stderr}`)));
      });
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
    const lines = stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const warnings = lines.filter((l) => l.kind === 'database-mode');
    expect(warnings, stdout).to.have.length(1);
    const w = warnings[0]!;
    expect(w).to.include({ level: 40, event: 'security' });
    expect(w.fix).to.be.a('string').and.match(new RegExp(`^chmod 600 ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}( |$)`));
    expect(w.files).to.deep.include({ path, mode: '0644' });
    expect(w.msg).to.include(path).and.include(w.fix as string).and.include('0644');
    expect(modeOf(path), 'an existing file keeps its mode').to.equal('0644');
  });
});
