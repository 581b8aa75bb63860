import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../db/index.js';
import { seedDatabase } from '../../scripts/bench/lib/seed.js';
const dir = mkdtempSync(join(tmpdir(), 'prof-'));
const dbPath = join(dir, 'd.db');
const { phones } = seedDatabase(dbPath, 4000);
const db = openDatabase(dbPath);
const ins = db.prepare(`INSERT INTO fetch_log (mac, at, ip, user_agent, model, firmware, file, status, config_version) VALUES (@mac, @at, @ip, @userAgent, @model, @firmware, @file, @status, @configVersion)`);
const sum = db.prepare(`UPDATE devices SET last_fetch_at = @at, last_fetch_ip = @ip, last_fetch_ua = @userAgent, last_fetch_file = @file, last_fetch_model = coalesce(@model, last_fetch_model), last_fetch_firmware = coalesce(@firmware, last_fetch_firmware) WHERE mac = @mac`);
const prune = db.prepare(`DELETE FROM fetch_log WHERE mac = ? AND id <= coalesce((SELECT id FROM fetch_log WHERE mac = ? ORDER BY id DESC LIMIT 1 OFFSET 200), 0)`);
const recs = phones.flatMap((p) => p.boot.map((f) => ({ mac: p.mac, at: Date.now(), ip: '127.0.0.1', userAgent: p.ua, model: 'x', firmware: '1', file: f, status: 200, configVersion: 3 })));
const t = (label: string, fn: () => void) => { const c0 = process.cpuUsage(); fn(); const c = process.cpuUsage(c0); console.log(label, ((c.user + c.system) / recs.length).toFixed(2), 'us/record'); };
for (let round = 0; round < 3; round++) {
t('insert', () => db.transaction(() => { for (const r of recs) ins.run(r); })());
t('summary', () => db.transaction(() => { for (const r of recs) sum.run(r); })());
t('prune', () => db.transaction(() => { for (const p of phones) prune.run(p.mac, p.mac); })());
}
const insP = db.prepare(`INSERT INTO fetch_log (mac, at, ip, user_agent, model, firmware, file, status, config_version) VALUES (?,?,?,?,?,?,?,?,?)`);
const rows = 16;
const insM = db.prepare(`INSERT INTO fetch_log (mac, at, ip, user_agent, model, firmware, file, status, config_version) VALUES ${Array(rows).fill('(?,?,?,?,?,?,?,?,?)').join(',')}`);
for (let round = 0; round < 3; round++) {
t('insert positional', () => db.transaction(() => { for (const r of recs) insP.run(r.mac, r.at, r.ip, r.userAgent, r.model, r.firmware, r.file, r.status, r.configVersion); })());
t('insert multi16', () => db.transaction(() => { const args: unknown[] = []; for (const r of recs) { args.push(r.mac, r.at, r.ip, r.userAgent, r.model, r.firmware, r.file, r.status, r.configVersion); if (args.length === rows * 9) { insM.run(args); args.length = 0; } } for (let i = 0; i < args.length; i += 9) insP.run(args.slice(i, i + 9)); })());
}
{
const all = db.prepare('SELECT * FROM devices WHERE mac = ?');
const lean = db.prepare('SELECT vendor, model, config_version, created_at, fetched_version FROM devices WHERE mac = ?');
const ver = db.prepare('SELECT config_version FROM devices WHERE mac = ?').pluck();
const raw = db.prepare('SELECT * FROM devices WHERE mac = ?').raw();
const tt = (label: string, fn: (mac: string) => unknown) => { const c0 = process.cpuUsage(); for (let r = 0; r < 5; r++) for (const p of phones) fn(p.mac); const c = process.cpuUsage(c0); console.log(label, ((c.user + c.system) / phones.length / 5).toFixed(2), 'us'); };
for (let i = 0; i < 2; i++) { tt('select *', (m) => all.get(m)); tt('select * raw', (m) => raw.get(m)); tt('lean 5 cols', (m) => lean.get(m)); tt('pluck version', (m) => ver.get(m)); }
}
