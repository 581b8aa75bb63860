/**
 * Benchmark: an admin saves a Yealink template that changes the config of every one of N
 * phones. Times the whole PUT /api/v1/templates/yealink/device (check, store, re-render every
 * device with the old and new text, bump versions and queue N resyncs in one transaction), and a
 * no-op re-save (renders compared, nothing queued). Prints a table, writes bench-results/template-save.json.
 *
 *   npx tsx scripts/bench/template-save.ts [devices]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import supertest from 'supertest';
import { openDatabase } from '../../db/index.js';
import { createApp } from '../../server/app.js';
import { parseConfig } from '../../server/config.js';
import { createContext } from '../../server/context.js';
import type { Mac } from '../../server/domain/mac.js';
import { ManualClock } from '../../server/services/clock.js';
import { createLogger } from '../../server/log.js';
import { ensureAdminToken } from '../../server/services/tokens.js';
import { yealink } from '../../vendors/yealink/index.js';

const N = Number(process.argv[2] ?? 10_000);
const TOKEN = 'bench-admin-token-0123456789abcdef';
const T0 = Date.UTC(2026, 0, 15, 8, 0, 0);

const dir = mkdtempSync(join(tmpdir(), 'deskprov-bench-template-'));
try {
  const dbPath = join(dir, 'deskprov.db');
  const db = openDatabase(dbPath);
  ensureAdminToken(db, TOKEN);
  const config = parseConfig({ database: { path: dbPath }, log: { level: 'silent' } }, {});
  const clock = new ManualClock(T0);
  const ctx = createContext({ config, db, clock, log: createLogger('silent'), templateDir: null });
  const http = supertest(createApp(ctx).listener);

  // Seed: 10 locations, N/2 users; every second phone owned, the rest unassigned; a mix of models.
  const seedStart = performance.now();
  const { stores } = ctx;
  const models = ['T46U', 'T54W', 'T33G', 'T57W'];
  stores.tx(() => {
    for (let l = 0; l < 10; l++) stores.locations.insert({ name: `Floor ${l}`, address: null, emergencyNumbers: ['911'], callbackNumber: null }, T0);
    for (let i = 0; i < N / 2; i++) {
      const ext = String(10_000 + i);
      stores.users.insert({ extension: ext, displayName: `User ${ext}`, sipUsername: ext, sipPassword: `pw-${ext}`, pinHash: null, hotdeskAllowed: true, email: null }, T0);
    }
    for (let i = 0; i < N; i++) {
      const mac = (0x001565000000 + i).toString(16).padStart(12, '0') as Mac;
      const owner = i % 2 === 0 ? String(10_000 + i / 2) : null;
      stores.devices.insert(
        { mac, vendor: 'yealink', model: models[i % models.length] ?? null, label: `Desk ${i}`, ownerExtension: owner, hotdeskEnabled: true, locationId: (i % 10) + 1, sipContact: null, sessionTimeout: null },
        T0,
      );
    }
  });
  const seedMs = performance.now() - seedStart;

  const shipped = yealink.templates.find((t) => t.name === 'device')?.source ?? '';
  const edited = `${shipped.trimEnd()}\n# bench: every phone changes\nfeatures.bench = 1\n`;
  const save = async (body: string) => {
    const t = performance.now();
    const r = await http.put('/api/v1/templates/yealink/device').set('Authorization', `Bearer ${TOKEN}`).set('Content-Type', 'text/plain').send(body);
    if (r.status !== 200) throw new Error(`PUT answered ${r.status}: ${r.text}`);
    return { ms: performance.now() - t, devicesChanged: (r.body as { devicesChanged: number }).devicesChanged };
  };
  const change = await save(edited);
  const noop = await save(edited);
  const diffStart = performance.now();
  await http.post('/api/v1/templates/yealink/device/diff').set('Authorization', `Bearer ${TOKEN}`).set('Content-Type', 'text/plain').send(shipped);
  const diffMs = performance.now() - diffStart;

  const result = {
    devices: N,
    seedMs: Math.round(seedMs),
    saveChangingAllMs: Math.round(change.ms),
    devicesChanged: change.devicesChanged,
    outboxDepth: stores.outbox.depth(),
    noopSaveMs: Math.round(noop.ms),
    noopDevicesChanged: noop.devicesChanged,
    diffAllMs: Math.round(diffMs),
    perDeviceUs: Math.round((change.ms * 1000) / N),
  };
  console.table(result);
  mkdirSync('bench-results', { recursive: true });
  writeFileSync(join('bench-results', 'template-save.json'), `${JSON.stringify(result, null, 2)}\n`);
  db.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
