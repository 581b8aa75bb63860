/**
 * Screenshots of every admin console page:  npx tsx scripts/screenshots.ts [outDir]
 * Seeds a demo database in a temp dir (users, locations, devices in every state, sessions, a
 * template version), serves deskprov on a loopback port, signs in with headless Chromium and
 * writes one 1280×800 PNG per page (plus the devices page on a 768×1024 tablet) to screenshots/
 * (git-ignored).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { openDatabase } from '../db/index.js';
import { createApp } from '../server/app.js';
import { parseConfig } from '../server/config.js';
import { createContext } from '../server/context.js';
import { createLogger } from '../server/log.js';
import { systemClock } from '../server/services/clock.js';
import { ensureAdminToken, newToken } from '../server/services/tokens.js';
import { launchChromium, serve, signIn } from '../test/e2e/browser.js';

const out = resolve(process.argv[2] ?? 'screenshots');
const dir = mkdtempSync(join(tmpdir(), 'deskprov-shots-'));
const token = newToken();

const config = parseConfig(
  {
    database: { path: join(dir, 'deskprov.db') },
    provisioning: { baseUrl: 'http://prov.example.com:8080/' },
    pbx: { host: 'pbx.example.com', port: 5060, transport: 'udp' },
    log: { level: 'silent' },
  },
  {},
);
const db = openDatabase(config.database.path);
ensureAdminToken(db, token);
const ctx = createContext({ config, db, clock: systemClock, log: createLogger('silent'), templateDir: null });
const served = await serve(createApp(ctx));
const base = served.base;

async function call(method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? null : res.json();
}

async function seed(): Promise<void> {
  await call('POST', '/locations', { name: 'HQ, 3rd floor', address: '12 Harbour Street, Springfield', emergencyNumbers: ['911', '933'], callbackNumber: '5551230100' });
  await call('POST', '/locations', { name: 'Warehouse', address: '400 Dock Road, Springfield', emergencyNumbers: ['911'], callbackNumber: '5551230200' });
  const people: Array<[string, string, boolean]> = [
    ['1001', 'Alice Martin', false], ['1002', 'Bob Chen', true], ['1003', 'Carol Diaz', true],
    ['1004', 'Dan Okafor', true], ['1005', 'Erin Walsh', true], ['1006', 'Front Desk', false],
  ];
  for (const [extension, displayName, hotdeskAllowed] of people) {
    await call('POST', '/users', { extension, displayName, sipPassword: `pw-${extension}-Xy7!`, pin: hotdeskAllowed ? '2468' : null, hotdeskAllowed, email: `${displayName.split(' ')[0]!.toLowerCase()}@example.com` });
  }
  const devices = [
    { mac: '001565a10001', vendor: 'yealink', model: 'T46U', label: 'Alice desk', ownerExtension: '1001', locationId: 1 },
    { mac: '001565a10002', vendor: 'yealink', model: 'T54W', label: 'Hot desk 3.01', hotdeskEnabled: true, locationId: 1 },
    { mac: '001565a10003', vendor: 'yealink', model: 'T54W', label: 'Hot desk 3.02', hotdeskEnabled: true, locationId: 1 },
    { mac: '001565a10004', vendor: 'yealink', model: 'T46U', label: 'Hot desk 3.03', hotdeskEnabled: true },
    { mac: '0004f2b20001', vendor: 'polycom', model: 'VVX450', label: 'Reception', ownerExtension: '1006', locationId: 1 },
    { mac: '0004f2b20002', vendor: 'polycom', model: 'VVX350', label: 'Loading bay', hotdeskEnabled: true, locationId: 2 },
    { mac: '0c383e300001', vendor: 'sangoma-p', model: 'P330', label: 'Spare', locationId: 2 },
  ];
  for (const d of devices) await call('POST', '/devices', d);
  // Phones fetching their configs (last fetch, IP, User-Agent, firmware).
  const fetchAs = (mac: string, ua: string) => fetch(`${base}/${mac}.cfg`, { headers: { 'User-Agent': ua } });
  await fetchAs('001565a10001', 'Yealink SIP-T46U 108.86.0.90 00:15:65:a1:00:01');
  await fetchAs('001565a10002', 'Yealink SIP-T54W 96.86.0.100 00:15:65:a1:00:02');
  await fetchAs('0004f2b20001', 'FileTransport PolycomVVX-VVX_450-UA/6.4.3.5017 (SN:0004f2b20001) Type/Application');
  // Sessions: Dan sits at 3.01 now; Erin sat at 3.02 and signed out.
  await call('POST', '/devices/001565a10002/login', { extension: '1004', pin: '2468' });
  await call('POST', '/devices/001565a10003/login', { extension: '1005', pin: '2468' });
  await call('POST', '/devices/001565a10003/logout', {});
  // A template version with a comment.
  const current = await (await fetch(`${base}/api/v1/templates/yealink/device`, { headers: { Authorization: `Bearer ${token}` } })).text();
  const saved = await fetch(`${base}/api/v1/templates/yealink/device?comment=${encodeURIComponent('Add a note for the help desk')}`, {
    method: 'PUT',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'text/plain' },
    body: current.replace('## Provisioning', '## Help desk: ext 1006\n## Provisioning'),
  });
  if (!saved.ok) throw new Error(`template save: ${saved.status} ${await saved.text()}`);
}

const pages: Array<[string, string, (p: Page) => Promise<void>]> = [
  ['dashboard', '#/', (p) => p.getByRole('heading', { name: 'Dashboard' }).waitFor()],
  ['devices', '#/devices', (p) => p.getByText(/\d+ devices/).waitFor()],
  ['device-guest', '#/devices/001565a10002', async (p) => {
    await p.getByRole('button', { name: 'Reveal SIP settings' }).click();
    await p.getByText('User ID').waitFor();
  }],
  ['device-unassigned', '#/devices/001565a10004', (p) => p.getByRole('heading', { name: /Hot desk 3.03/ }).waitFor()],
  ['users', '#/users', (p) => p.getByText(/\d+ users/).waitFor()],
  ['user', '#/users/1004', (p) => p.getByRole('heading', { name: /Dan Okafor/ }).waitFor()],
  ['locations', '#/locations', (p) => p.getByRole('heading', { name: 'Locations' }).waitFor()],
  ['sessions', '#/sessions?show=all', (p) => p.getByText(/\d+ sessions?$/).waitFor()],
  ['templates', '#/templates', (p) => p.getByRole('heading', { name: 'Templates' }).waitFor()],
  ['audit', '#/audit', (p) => p.getByText(/\d+\+? entr(y|ies)$/).waitFor()],
  ['tokens', '#/tokens', (p) => p.getByRole('heading', { name: 'API tokens' }).waitFor()],
  ['template-editor', '#/templates/yealink/device', async (p) => {
    const editor = p.getByLabel('Template source');
    await editor.fill(`${await editor.inputValue()}\n{{#if line}}\n`);
    await p.getByRole('button', { name: 'Save' }).click();
    await p.getByText(/^Refused: line \d+/).waitFor();
  }],
];

try {
  await seed();
  mkdirSync(out, { recursive: true });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${base}/admin/login`);
    await page.screenshot({ path: join(out, '00-login.png') });
    await signIn(page, base, token);
    let n = 1;
    for (const [name, hash, ready] of pages) {
      await page.goto(`${base}/admin/${hash}`);
      await ready(page);
      await page.waitForTimeout(150); // let the toast / focus settle before the picture
      const file = join(out, `${String(n++).padStart(2, '0')}-${name}.png`);
      await page.screenshot({ path: file });
      process.stdout.write(`${file}\n`);
    }
    // The same console on a tablet in portrait.
    await page.setViewportSize({ width: 768, height: 1024 });
    await page.goto(`${base}/admin/#/devices`);
    await page.getByText(/\d+ devices/).waitFor();
    const tablet = join(out, `${String(n).padStart(2, '0')}-devices-tablet.png`);
    await page.screenshot({ path: tablet });
    process.stdout.write(`${tablet}\n`);
  } finally {
    await browser.close();
  }
} finally {
  await served.close();
  ctx.recorder.flush();
  db.close();
  rmSync(dir, { recursive: true, force: true });
}
