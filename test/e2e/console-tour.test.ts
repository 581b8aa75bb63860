/**
 * The console as an admin (and a readonly viewer) uses it, on a fleet of a few thousand phones:
 * what each page shows after an action, what a viewer is offered, and how API answers read.
 */
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { parseMac } from '../../server/domain/mac.js';
import { ADMIN_TOKEN, type Harness } from '../helpers/harness.js';
import { signIn, type Served } from './browser.js';
import { describeConsole, text, type ConsoleFixture } from './console-fixture.js';

const CSV_HEADER = 'mac,vendor,model,label,ownerExtension,hotdeskEnabled,location';
const VENDORS: Array<[string, string]> = [['yealink', '001565'], ['polycom', '0004f2'], ['sangoma-p', '0c383e'], ['sangoma-s', '000fd3']];

/** `n` devices of all four vendors, hot desking on, imported in one CSV; their MACs in list order. */
async function importFleet(h: Harness, n: number): Promise<string[]> {
  const macs: string[] = [];
  const rows = [CSV_HEADER];
  for (let i = 0; i < n; i++) {
    const [vendor, oui] = VENDORS[i % VENDORS.length]!;
    const mac = `${oui}${(0x100000 + i).toString(16).slice(-6)}`;
    macs.push(mac);
    rows.push(`${mac},${vendor},,Desk ${i},,true,`);
  }
  const res = await h.http.post('/api/v1/devices/import').set('Authorization', h.auth).type('text/csv').send(`${rows.join('\n')}\n`);
  expect(res.status, JSON.stringify(res.body).slice(0, 300)).to.equal(201);
  return macs.sort();
}

describeConsole('admin console: a tour of every page', (f) => {
  let h: Harness;
  let served: Served;
  let page: Page;
  let api: ConsoleFixture['api'];
  let go: ConsoleFixture['go'];
  beforeEach(() => ({ h, served, page, api, go } = f));

  it('the State filter finds a guest on a phone past the first thousand devices', async () => {
    const macs = await importFleet(h, 1100);
    const last = macs[macs.length - 1]!;
    expect((await api('post', '/users', { extension: '2001', displayName: 'Gus', sipPassword: 'gus-sip-pw', pin: '2468' })).status).to.equal(201);
    const login = await api('post', `/devices/${last}/login`, { extension: '2001', pin: '2468' });
    expect(login.status, JSON.stringify(login.body)).to.equal(200);

    await signIn(page, served.base, ADMIN_TOKEN);
    await go('#/devices', 'Devices');
    await page.getByRole('search', { name: 'Filter devices' }).getByLabel('State').selectOption('guest');
    await page.getByText('1 device', { exact: true }).waitFor();
    expect(await text(page.getByRole('row', { name: /2001/ }))).to.match(/guest\s+2001/);
  });
  it('pages through a few thousand devices, a hundred at a time, and reaches the last one', async () => {
    const macs = await importFleet(h, 2050);
    await signIn(page, served.base, ADMIN_TOKEN);
    await go('#/devices', 'Devices');
    expect(await text(page.locator('.count'))).to.equal('2050 devices');
    const pager = page.getByRole('navigation', { name: 'Pages of devices' });
    expect(await text(pager)).to.contain('1–100 of 2050 (page 1 of 21)');
    expect(await page.getByRole('region', { name: 'Devices' }).getByRole('row').count()).to.equal(101);
    expect(await pager.getByRole('button', { name: 'Previous page' }).isDisabled()).to.equal(true);
    await pager.getByRole('button', { name: 'Next page' }).click();
    await page.getByText('101–200 of 2050 (page 2 of 21)').waitFor();
    expect(await page.getByRole('link', { name: macs[100]!.match(/../g)!.join(':') }).count()).to.equal(1);
    expect(new URL(page.url()).hash).to.equal('#/devices?page=2');

    // The last page, straight from its address; a filter starts again at page 1.
    await go('#/devices?page=21', 'Devices');
    await page.getByText('2001–2050 of 2050 (page 21 of 21)').waitFor();
    expect(await page.getByRole('link', { name: macs[2049]!.match(/../g)!.join(':') }).count()).to.equal(1);
    expect(await pager.getByRole('button', { name: 'Next page' }).isDisabled()).to.equal(true);
    await page.getByRole('search', { name: 'Filter devices' }).getByLabel('Vendor').selectOption('polycom');
    await page.getByText('513 devices', { exact: true }).waitFor();
    await page.getByText('1–100 of 513 (page 1 of 6)').waitFor();
  });
  it('the dashboard and the locations page count every device, not the first thousand', async () => {
    const macs = await importFleet(h, 1100);
    const last = macs[macs.length - 1]!;
    expect((await api('post', '/users', { extension: '2001', displayName: 'Gus', sipPassword: 'gus-sip-pw', pin: '2468' })).status).to.equal(201);
    expect((await api('post', `/devices/${last}/login`, { extension: '2001', pin: '2468' })).status).to.equal(200);
    expect((await api('post', '/locations', { name: 'Annex' })).status).to.equal(201);
    expect((await api('patch', `/devices/${last}`, { locationId: 1 })).status).to.equal(200);

    await signIn(page, served.base, ADMIN_TOKEN);
    expect(await text(page.locator('#stat-total .stat-value'))).to.equal('1100');
    expect(await text(page.locator('#stat-guest .stat-value'))).to.equal('1');
    expect(await text(page.locator('#stat-unassigned .stat-value'))).to.equal('1099');
    await go('#/locations', 'Locations');
    expect(await text(page.getByRole('row', { name: /Annex/ }))).to.match(/Annex\s+911\s+1\s/);
    expect(await text(page.getByRole('note'))).to.contain('1099 hot-desk devices have no location');
  });

  it('a fleet with a thousand warnings lists the first 50 of them, not a page-long list', async () => {
    await importFleet(h, 1100);
    await signIn(page, served.base, ADMIN_TOKEN);
    const warnings = page.getByRole('region', { name: 'Warnings (1100)' });
    expect(await warnings.getByRole('listitem').count()).to.equal(50);
    expect(await text(warnings)).to.contain('…and 1050 more.');
    await go('#/locations', 'Locations');
    expect(await page.getByRole('note').getByRole('listitem').count()).to.equal(50);
    expect(await text(page.getByRole('note'))).to.contain('…and 1050 more.');
  });
  it('a readonly viewer sees every page but is offered no change the API would refuse', async () => {
    expect((await api('post', '/locations', { name: 'HQ' })).status).to.equal(201);
    expect((await api('post', '/users', { extension: '2001', displayName: 'Gus', sipPassword: 'gus-sip-pw', pin: '2468' })).status).to.equal(201);
    expect((await api('post', '/devices', { mac: '001565aabbcc', vendor: 'yealink', label: 'Hot desk 1', hotdeskEnabled: true, locationId: 1 })).status).to.equal(201);
    expect((await api('post', '/devices/001565aabbcc/login', { extension: '2001', pin: '2468' })).status).to.equal(200);
    const tpl = (await api('get', '/templates/yealink/device')).text;
    for (const c of ['one', 'two']) {
      const put = await h.http.put(`/api/v1/templates/yealink/device?comment=${c}`).set('Authorization', h.auth).type('text/plain').send(`${tpl}\n## ${c}\n`);
      expect(put.status, put.text).to.equal(200);
    }
    const viewer = await api('post', '/tokens', { name: 'viewer', role: 'readonly' });
    expect(viewer.status).to.equal(201);
    await signIn(page, served.base, viewer.body.token as string);
    expect(await text(page.locator('#readonly-banner'))).to.contain('Read-only access');

    const offered = async () =>
      page.evaluate<string[]>("[...document.querySelectorAll('main button, main input, main select, main textarea')].filter((el) => !el.disabled).map((el) => el.textContent.trim() || el.getAttribute('aria-label') || el.labels?.[0]?.textContent || el.name)");
    await go('#/devices', 'Devices');
    await page.getByText('1 device', { exact: true }).waitFor();
    expect(await page.getByRole('region', { name: 'Add a device' }).count()).to.equal(0);
    expect(await page.getByRole('region', { name: 'Bulk add from CSV' }).count()).to.equal(0);
    await go('#/devices/001565aabbcc', /Hot desk 1/);
    expect(await text(page.getByRole('region', { name: 'Who is on it' }))).to.match(/Guest\s+2001/);
    expect(await offered(), 'device page').to.deep.equal([]);
    await go('#/users/2001', /Gus/);
    expect(await text(page.getByRole('region', { name: 'PIN' }))).to.contain('A PIN is set.');
    expect(await offered(), 'user page').to.deep.equal([]);
    await go('#/users', 'Users');
    expect(await offered(), 'users page').to.deep.equal(['Search']);
    await go('#/locations', 'Locations');
    expect(await text(page.getByRole('row', { name: /HQ/ }))).to.match(/^HQ/);
    expect(await offered(), 'locations page').to.deep.equal([]);
    await go('#/tokens', 'API tokens');
    expect(await text(page.getByRole('row', { name: /viewer/ }))).to.match(/^viewer\s+readonly/);
    expect(await offered(), 'tokens page').to.deep.equal([]);
    await go('#/templates/yealink/device', 'yealink / device');
    expect(await text(page.getByRole('list', { name: 'Template history' }))).to.match(/v2[\s\S]*v1/);
    // What a viewer may do there: read, validate, preview, diff, load an old version.
    expect(await page.getByRole('button', { name: 'Save', exact: true }).count()).to.equal(0);
    expect(await page.getByRole('button', { name: /Roll back/ }).count()).to.equal(0);
    expect(await page.getByRole('button', { name: 'Restore the default' }).count()).to.equal(0);
    await page.getByRole('button', { name: 'Validate' }).click();
    expect(await text(page.locator('.output .notice'))).to.contain('Valid');
  });
  it('the sync status and NOTIFY history read as words and local times, not JSON and ISO stamps', async () => {
    expect((await api('post', '/devices', { mac: '0004f2aabbcc', vendor: 'polycom', label: 'Lobby' })).status).to.equal(201);
    const at = h.clock.now();
    const entry = { mac: parseMac('0004f2aabbcc')!, event: 'check-sync', target: 'udp:127.0.0.1:18599', transmissions: 11, elapsedMs: 32000, configVersion: 1 } as const;
    h.ctx.stores.notifyLog.insert({ ...entry, at: at - 60_000, status: 408, reason: 'Request Timeout', outcome: 'retry' });
    h.ctx.stores.notifyLog.insert({ ...entry, at, status: 408, reason: 'Request Timeout (gave up after 2 attempts)', outcome: 'gave-up' });

    await signIn(page, served.base, ADMIN_TOKEN);
    await go('#/devices/0004f2aabbcc', /Lobby/);
    const sync = page.getByRole('region', { name: 'Sync status' });
    const shown = await text(sync);
    expect(shown).not.to.match(/[{}"]|\d{4}-\d\d-\d\dT/);
    const local = await page.evaluate<string, number>((ms) => new Date(ms).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }), at);
    expect(shown).to.contain(`Last NOTIFY\n${local} · 408 Request Timeout (gave up after 2 attempts)`);
    expect(shown).to.match(/Configuration version\s+v1/);
    const rows = sync.getByRole('region', { name: 'NOTIFY history' }).getByRole('row');
    expect(await text(rows.nth(1))).to.match(/check-sync\s+udp:127\.0\.0\.1:18599\s+408 Request Timeout \(gave up after 2 attempts\)\s+gave up$/);
    expect(await text(rows.nth(2))).to.match(/408 Request Timeout\s+no answer yet: will try again$/);
  });
  it('a resync shows up in the sync status at once, without reloading the page', async () => {
    expect((await api('post', '/devices', { mac: '001565aabbcc', vendor: 'yealink', label: 'Desk 8' })).status).to.equal(201);
    h.db.prepare('DELETE FROM outbox').run();
    await signIn(page, served.base, ADMIN_TOKEN);
    await go('#/devices/001565aabbcc', /Desk 8/);
    const sync = page.getByRole('region', { name: 'Sync status' });
    expect(await text(sync)).to.match(/Resync queued\s+no/);
    await page.getByRole('button', { name: 'Resync phone' }).click();
    await page.getByText('Resync queued: the phone will be told to fetch its configuration.').waitFor();
    expect(await text(sync)).to.match(/Resync queued\s+yes/);
  });
  it('the device page lists the files a phone uploaded, each one a download', async () => {
    expect((await api('post', '/devices', { mac: '0004f2aabbcc', vendor: 'polycom', label: 'Lobby' })).status).to.equal(201);
    const ua = 'FileTransport PolycomVVX-VVX_450-UA/6.4.3.5017 (SN:0004f2aabbcc) Type/Application';
    expect((await h.http.put('/0004f2aabbcc-app.log').set('User-Agent', ua).type('text/plain').send('boot ok\nregistered\n')).status).to.equal(201);
    expect((await h.http.put('/0004f2aabbcc-directory.xml').set('User-Agent', ua).type('text/xml').send('<directory/>')).status).to.equal(201);

    await signIn(page, served.base, ADMIN_TOKEN);
    await go('#/devices/0004f2aabbcc', /Lobby/);
    const files = page.getByRole('region', { name: 'Files the phone uploaded' });
    expect(await text(files.getByRole('row', { name: /app\.log/ }))).to.match(/app\.log\s+\(download\)\s+application log\s+19 B\s+\w/);
    expect(await text(files.getByRole('row', { name: /directory\.xml/ }))).to.match(/contact directory\s+12 B/);
    const [download] = await Promise.all([page.waitForEvent('download'), files.getByRole('link', { name: 'app.log (download)' }).click()]);
    expect(download.suggestedFilename()).to.equal('0004f2aabbcc-app.log');
    const audit = (await api('get', '/audit?action=device.file.read')).body.entries as unknown[];
    expect(audit).to.have.length(1);
  });
  it('session history: a MAC being typed narrows the list, and dates reach past the newest 500', async () => {
    const day = 86_400_000;
    const now = h.clock.now();
    const insert = h.db.prepare(`INSERT INTO sessions (mac, extension, started_at, ends_at, ended_at, end_reason) VALUES (?, ?, ?, NULL, ?, 'logout')`);
    h.db.transaction(() => {
      // 600 recent sessions, and one long before them.
      for (let i = 0; i < 600; i++) insert.run(i % 2 ? '001565aabbcc' : '0004f2aabbcc', '2001', now - 3_600_000 - i * 60_000, now - 3_000_000 - i * 60_000);
      insert.run('0c383eaabbcc', '2002', now - 40 * day, now - 40 * day + 3_600_000);
    })();

    await signIn(page, served.base, ADMIN_TOKEN);
    await go('#/sessions?show=ended', 'Sessions');
    await page.getByText(/^\d+ sessions$/).waitFor();
    await page.getByLabel('Device (MAC)').fill('00:15:65');
    await page.getByText('300 sessions', { exact: true }).waitFor();
    expect(await page.getByRole('alert').count(), 'no error while the MAC is being typed').to.equal(0);
    await page.getByLabel('Device (MAC)').fill('');
    const old = await page.evaluate<string, number>((ms) => {
      const d = new Date(ms);
      return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
    }, now - 40 * day);
    await page.getByLabel('Started from').fill(old);
    await page.getByLabel('Started until').fill(old);
    await page.getByText('1 session', { exact: true }).waitFor();
    expect(await text(page.getByRole('row').nth(1))).to.match(/^2002\s+0c:38:3e:aa:bb:cc/);
  });
  it('removing a PIN asks first, and the page then says no PIN is set', async () => {
    expect((await api('post', '/users', { extension: '2001', displayName: 'Gus', sipPassword: 'gus-sip-pw', pin: '2468' })).status).to.equal(201);
    const asked: string[] = [];
    page.on('dialog', (d) => void asked.push(d.message()));
    await signIn(page, served.base, ADMIN_TOKEN);
    await go('#/users/2001', /Gus/);
    const pin = page.getByRole('region', { name: 'PIN' });
    await pin.getByRole('button', { name: 'Remove PIN' }).click();
    await page.getByText('PIN removed').waitFor();
    expect(asked).to.deep.equal(['Remove the PIN of 2001? They can no longer sign in at a hot desk until a new PIN is set.']);
    expect(await text(pin)).to.contain('No PIN is set');
    expect((await api('get', '/users/2001')).body).to.include({ hasPin: false });
  });
  it('a refused form says what is wrong once, not the same line twice', async () => {
    await signIn(page, served.base, ADMIN_TOKEN);
    await go('#/users', 'Users');
    const add = page.getByRole('region', { name: 'Add a user' });
    await add.getByLabel('Extension').fill('2001');
    await add.getByLabel('Display name').fill('Gus');
    await add.getByLabel('SIP password').fill('gus-sip-pw');
    await add.getByLabel('PIN').fill('12');
    await add.getByRole('button', { name: 'Add user' }).click();
    expect(await text(add.getByRole('alert'))).to.equal('pin: PIN must be at least 4 digits');
    await go('#/locations', 'Locations');
    const loc = page.getByRole('region', { name: 'Add a location' });
    await loc.getByLabel('Name').fill('Annex');
    await loc.getByLabel('Emergency numbers').fill('911, 9x1');
    await loc.getByRole('button', { name: 'Add location' }).click();
    expect(await text(loc.getByRole('alert'))).to.equal('emergencyNumbers.1: expected a dial string of digits, * # +');
  });
  it('the audit log page shows who changed what, field by field, filters, and pages back', async () => {
    expect((await api('post', '/devices', { mac: '001565aabbcc', vendor: 'yealink', label: 'Desk 1' })).status).to.equal(201);
    expect((await api('patch', '/devices/001565aabbcc', { label: 'Desk 2' })).status).to.equal(200);
    for (let i = 0; i < 105; i++) expect((await api('post', '/locations', { name: `Site ${i}` })).status).to.equal(201);

    await signIn(page, served.base, ADMIN_TOKEN);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit log' }).click();
    await page.getByRole('heading', { level: 1, name: 'Audit log' }).waitFor();
    await page.getByText('100+ entries', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Show older entries' }).click();
    await page.getByText(/^1\d\d entries$/).waitFor();
    expect(await page.getByRole('button', { name: 'Show older entries' }).count()).to.equal(0);

    await page.getByLabel('Action').fill('device.update');
    await page.getByText('1 entry', { exact: true }).waitFor();
    const row = page.getByRole('region', { name: 'Audit log' }).getByRole('row').nth(1);
    expect(await text(row)).to.match(/admin \(admin\)\s+device\.update\s+00:15:65:aa:bb:cc\s+label: Desk 1 → Desk 2$/);
    expect(await text(row)).not.to.match(/[{}"]|\d{4}-\d\d-\d\dT/);
    await row.getByRole('link', { name: '00:15:65:aa:bb:cc' }).click();
    await page.getByRole('heading', { level: 1, name: /Desk 2/ }).waitFor();
  });
  it('the tokens page creates a token shown once, rotates and revokes it after asking', async () => {
    const asked: string[] = [];
    page.on('dialog', (d) => void asked.push(d.message()));
    await signIn(page, served.base, ADMIN_TOKEN);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Tokens' }).click();
    await page.getByRole('heading', { level: 1, name: 'API tokens' }).waitFor();
    const create = page.getByRole('region', { name: 'Create a token' });
    await create.getByLabel('Name').fill('asterisk');
    await create.getByLabel('Role').selectOption('pbx');
    await create.getByRole('button', { name: 'Create token' }).click();
    const first = await page.getByLabel('Token for asterisk').inputValue();
    expect(first).to.match(/^dp_/);
    const bearer = (t: string) => h.http.get('/api/v1/sessions').set('Authorization', `Bearer ${t}`);
    expect((await bearer(first)).status).to.equal(200);
    expect(await text(page.getByRole('row', { name: /asterisk/ }))).to.match(/^asterisk\s+pbx\s+\w/);

    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'API tokens' }).waitFor();
    expect(await page.getByLabel('Token for asterisk').count(), 'shown once only').to.equal(0);
    await page.getByRole('button', { name: 'Rotate asterisk' }).click();
    const second = await page.getByLabel('Token for asterisk').inputValue();
    expect(second).to.match(/^dp_/).and.not.equal(first);
    expect((await bearer(first)).status).to.equal(401);
    expect((await bearer(second)).status).to.equal(200);

    await page.getByRole('button', { name: 'Revoke asterisk' }).click();
    await page.getByText('Token asterisk revoked').waitFor();
    expect(await page.getByRole('row', { name: /asterisk/ }).count()).to.equal(0);
    expect((await bearer(second)).status).to.equal(401);
    expect(asked).to.have.length(2);
    expect(asked[0]).to.match(/^Rotate token asterisk\?/);
    expect(asked[1]).to.match(/^Revoke token asterisk\?/);
  });
});
