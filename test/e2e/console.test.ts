/**
 * The admin console in a real headless Chromium against deskprov on a loopback socket: what an
 * admin sees and does, asserted on the page (text, counts, rows) and checked against the API.
 */
import { expect } from 'chai';
import type { BrowserContext, Page } from 'playwright-core';
import { ADMIN_TOKEN, type Harness } from '../helpers/harness.js';
import { signIn, type Served } from './browser.js';
import { describeConsole, hasRoute, text, type ConsoleFixture } from './console-fixture.js';

describeConsole('admin console in headless Chromium', (f) => {
  let h: Harness;
  let served: Served;
  let context: BrowserContext;
  let page: Page;
  let api: ConsoleFixture['api'];
  let go: ConsoleFixture['go'];
  beforeEach(() => ({ h, served, context, page, api, go } = f));

  it('a pbx token on the sign-in page is refused with a message saying which tokens the console takes', async () => {
    const pbx = await api('post', '/tokens', { name: 'asterisk', role: 'pbx' });
    expect(pbx.status).to.equal(201);
    await page.goto(`${served.base}/admin/login`);
    await page.getByLabel('Admin token').fill(pbx.body.token as string);
    await page.getByRole('button', { name: 'Sign in' }).click();
    expect(await text(page.getByRole('alert'))).to.equal('a pbx token cannot sign in to the console: use an admin or readonly token');
    expect(await context.cookies()).to.deep.equal([]);
  });

  it('refuses a wrong token on the sign-in page, then signs in to the dashboard and out again', async () => {
    await page.goto(`${served.base}/admin/`);
    expect(new URL(page.url()).pathname).to.equal('/admin/login');
    await page.getByLabel('Admin token').fill('definitely-not-the-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    expect(await text(page.getByRole('alert'))).to.equal('That token is not valid.');
    expect(await context.cookies()).to.deep.equal([]);

    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    expect(await text(page.locator('#stat-total .stat-value'))).to.equal('0');
    const [cookie] = await context.cookies();
    expect(cookie).to.include({ name: 'dp_session', httpOnly: true, sameSite: 'Strict', path: '/' });

    await page.getByRole('button', { name: 'Sign out' }).click();
    expect(await text(page.getByRole('alert'))).to.equal('You have signed out.');
    await page.goto(`${served.base}/admin/#/devices`);
    expect(new URL(page.url()).pathname).to.equal('/admin/login');
  });

  it('adds a device from the form, showing a refused MAC first', async () => {
    await signIn(page, served.base, ADMIN_TOKEN);
    await go('#/devices', 'Devices');
    expect(await text(page.locator('.count'))).to.equal('0 devices');
    const form = page.getByRole('region', { name: 'Add a device' });
    await form.getByLabel('MAC address').fill('00:15:65:12:34:zz');
    await form.getByLabel('Label').fill('Lobby phone');
    await form.getByRole('button', { name: 'Add device' }).click();
    expect(await text(form.getByRole('alert'))).to.contain('mac: expected a MAC');

    await form.getByLabel('MAC address').fill('00:15:65:12:34:56');
    await form.getByLabel('Model').fill('T46U');
    await form.getByRole('button', { name: 'Add device' }).click();
    await page.getByText('1 device', { exact: true }).waitFor();
    const row = page.getByRole('row', { name: /Lobby phone/ });
    expect(await text(row)).to.match(/00:15:65:12:34:56\s+Lobby phone\s+yealink T46U\s+unassigned/);
    expect((await api('get', '/devices/001565123456')).body).to.include({ label: 'Lobby phone', model: 'T46U', state: 'unassigned' });
  });

  it('bulk import: a bad row is shown and nothing is imported; a good CSV imports every row', async () => {
    expect((await api('post', '/locations', { name: 'HQ' })).status).to.equal(201);
    await signIn(page, served.base, ADMIN_TOKEN);
    await go('#/devices', 'Devices');
    const bulk = page.getByRole('region', { name: 'Bulk add from CSV' });
    const header = 'mac,vendor,model,label,ownerExtension,hotdeskEnabled,location';
    await bulk.getByLabel('CSV rows').fill(`${header}\n001565000001,yealink,T46U,Desk 1,,true,HQ\n001565000002,nokia,X1,Desk 2,,true,HQ\n`);
    await bulk.getByRole('button', { name: 'Check' }).click();
    const alert = bulk.getByRole('alert');
    expect(await text(alert.locator('.error-message'))).to.equal('1 of 2 row(s) are invalid; nothing was imported');
    const bad = alert.getByRole('row').nth(1);
    expect(await text(bad)).to.match(/^3\s+001565000002\s+vendor: expected one of yealink/);
    expect(await bulk.getByRole('button', { name: 'Import' }).isDisabled()).to.equal(true);
    expect((await api('get', '/devices')).body.devices).to.deep.equal([]);

    await bulk.getByLabel('CSV rows').fill(`${header}\n001565000001,yealink,T46U,Desk 1,,true,HQ\n001565000002,polycom,VVX450,Desk 2,,false,\n`);
    await bulk.getByRole('button', { name: 'Check' }).click();
    expect(await text(bulk.locator('.notice'))).to.contain('2 device(s) will be added');
    expect((await api('get', '/devices')).body.devices, 'a check saves nothing').to.deep.equal([]);
    await bulk.getByRole('button', { name: 'Import' }).click();
    await page.getByText('2 devices', { exact: true }).waitFor();
    expect(await text(page.getByRole('row', { name: /Desk 1/ }))).to.match(/yealink T46U\s+unassigned\s+HQ/);
    expect(await text(page.getByRole('row', { name: /Desk 2/ }))).to.match(/polycom VVX450\s+unassigned/);
    expect((await api('get', '/devices')).body.devices.map((d: { mac: string }) => d.mac)).to.deep.equal(['001565000001', '001565000002']);
  });

  it('assigns an owner on the device page and reveals the SIP settings of its line', async () => {
    expect((await api('post', '/users', { extension: '1001', displayName: 'Alice', sipPassword: 'alice-sip-pw' })).status).to.equal(201);
    expect((await api('post', '/devices', { mac: '001565aabbcc', vendor: 'yealink', label: 'Desk 7' })).status).to.equal(201);
    await signIn(page, served.base, ADMIN_TOKEN);
    await go('#/devices/001565aabbcc', /Desk 7/);
    expect(await text(page.getByRole('region', { name: 'SIP settings' }))).to.contain('The device has no line');

    const edit = page.getByRole('region', { name: 'Edit device' });
    await edit.getByLabel('Owner').selectOption('1001');
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Device saved').waitFor();
    const who = page.getByRole('region', { name: 'Who is on it' });
    expect(await text(who)).to.match(/State\s+owner\s+Owner\s+1001/);
    expect((await api('get', '/devices/001565aabbcc')).body).to.include({ ownerExtension: '1001', state: 'owner' });

    const sip = page.getByRole('region', { name: 'SIP settings' });
    expect(await sip.innerText()).not.to.contain('alice-sip-pw');
    await sip.getByRole('button', { name: 'Reveal SIP settings' }).click();
    expect(await text(sip.locator('dl'))).to.match(/Server\s+pbx\.test\s+Port\s+5060\s+Transport\s+UDP[\s\S]*User ID\s+1001\s+Password\s+alice-sip-pw/);
  });

  it('resyncs a phone from its page (or says resync is not on this server yet)', async () => {
    expect((await api('post', '/devices', { mac: '001565aabbcc', vendor: 'yealink', label: 'Desk 8' })).status).to.equal(201);
    const present = await hasRoute(h, 'post', '/api/v1/devices/001565aabbdd/resync');
    await signIn(page, served.base, ADMIN_TOKEN);
    await go('#/devices/001565aabbcc', /Desk 8/);
    h.db.prepare('DELETE FROM outbox').run();
    await page.getByRole('button', { name: 'Resync phone' }).click();
    if (present) {
      await page.getByText('Resync queued: the phone will be told to fetch its configuration.').waitFor();
      expect(h.db.prepare("SELECT mac FROM outbox WHERE mac = '001565aabbcc'").all()).to.have.length(1);
    } else {
      await page.getByText('Resync is not available on this server yet.').waitFor();
    }
  });

  it('shows a guest who signed in on the dashboard, and signs them out from the device page', async function () {
    if (!(await hasRoute(h, 'post', '/api/v1/devices/001565aabbcc/login'))) this.skip();
    expect((await api('post', '/users', { extension: '1004', displayName: 'Dan', sipPassword: 'dan-pw', pin: '2468' })).status).to.equal(201);
    expect((await api('post', '/devices', { mac: '001565aabbcc', vendor: 'yealink', label: 'Hot desk 3', hotdeskEnabled: true })).status).to.equal(201);
    expect((await api('post', '/devices', { mac: '001565aabbdd', vendor: 'yealink', label: 'Spare' })).status).to.equal(201);
    const login = await api('post', '/devices/001565aabbcc/login', { extension: '1004', pin: '2468' });
    expect(login.status, JSON.stringify(login.body)).to.equal(200);

    await signIn(page, served.base, ADMIN_TOKEN);
    expect(await text(page.locator('#stat-guest .stat-value'))).to.equal('1');
    expect(await text(page.locator('#stat-unassigned .stat-value'))).to.equal('1');
    const sessions = page.getByRole('region', { name: /Active hot-desk sessions/ });
    expect(await text(sessions.getByRole('heading'))).to.equal('Active hot-desk sessions (1)');
    expect(await text(sessions.getByRole('row').nth(1))).to.match(/^1004\s+00:15:65:aa:bb:cc/);

    await sessions.getByRole('link', { name: '00:15:65:aa:bb:cc' }).click();
    await page.getByRole('heading', { level: 1, name: /Hot desk 3/ }).waitFor();
    expect(await text(page.getByRole('region', { name: 'Who is on it' }))).to.match(/State\s+guest[\s\S]*Guest\s+1004/);
    await page.getByRole('button', { name: 'Sign 1004 out' }).click();
    await page.getByText('1004 signed out').waitFor();
    expect(await text(page.getByRole('region', { name: 'Who is on it' }))).to.match(/State\s+unassigned[\s\S]*Guest\s+—/);
    expect(await page.getByRole('button', { name: /Sign .* out/ }).count()).to.equal(0);
    const after = (await api('get', '/sessions?extension=1004')).body.sessions;
    expect(after).to.have.length(1);
    expect(after[0]).to.include({ mac: '001565aabbcc', endReason: 'admin' });

    await go('#/', 'Dashboard');
    expect(await text(page.locator('#stat-guest .stat-value'))).to.equal('0');
    expect(await text(page.getByRole('region', { name: /Active hot-desk sessions/ }))).to.contain('Nobody is signed in at a hot desk.');

    // The session history shows why it ended, filters by user, and exports what it shows.
    await go('#/sessions?show=ended', 'Sessions');
    await page.getByText('1 session', { exact: true }).waitFor();
    expect(await text(page.getByRole('row').nth(1))).to.match(/^1004\s+00:15:65:aa:bb:cc[\s\S]*signed out by an admin$/);
    await page.getByLabel('User (extension)').fill('1001');
    await page.getByText('0 sessions', { exact: true }).waitFor();
    await page.getByLabel('User (extension)').fill('1004');
    await page.getByText('1 session', { exact: true }).waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
    const csv = await new Promise<string>((resolve, reject) => {
      void download.createReadStream().then((stream) => {
        let out = '';
        stream.on('data', (c: Buffer) => (out += c.toString('utf8')));
        stream.on('end', () => resolve(out));
        stream.on('error', reject);
      });
    });
    const rows = csv.trim().split('\r\n');
    expect(rows[0]).to.equal('extension,mac,startedAt,endsAt,endedAt,endReason');
    expect(rows).to.have.length(2);
    expect(rows[1]).to.match(/^1004,001565aabbcc,2026-01-15T09:00:00\.000Z,.*,admin$/);
  });

  it('edits a template: an error is refused and shown, a valid one is saved, then rolled back', async function () {
    if (!(await hasRoute(h, 'get', '/api/v1/templates'))) this.skip();
    const original = (await api('get', '/templates/yealink/device')).text;
    await signIn(page, served.base, ADMIN_TOKEN);
    await go('#/templates', 'Templates');
    await page.getByRole('link', { name: 'device' }).first().waitFor();
    await page.getByRole('row', { name: /yealink\s+device/ }).getByRole('link', { name: 'device' }).click();
    await page.getByRole('heading', { level: 1, name: 'yealink / device' }).waitFor();

    const editor = page.getByLabel('Template source');
    expect(await editor.inputValue()).to.equal(original);
    const lines = original.split('\n');
    await editor.fill(`${original}\n{{#if line}}\n`);
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    const refusal = page.locator('.problems [role=alert]');
    expect(await text(refusal.locator('.error-message'))).to.match(/^Refused: line \d+ \(compile\)$/);
    expect(await editor.getAttribute('aria-invalid')).to.equal('true');
    expect((await api('get', '/templates/yealink/device/history')).body.versions).to.deep.equal([]);

    const edited = (marker: string) => [lines[0], `## ${marker}`, ...lines.slice(1)].join('\n');
    await editor.fill(edited('console edit one'));
    await page.getByLabel('Comment for this version').fill('first edit');
    await page.getByRole('button', { name: 'Validate' }).click();
    expect(await text(page.locator('.output .notice'))).to.contain('Valid');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText(/Saved as v1/).waitFor();
    await page.getByRole('heading', { level: 1, name: 'yealink / device' }).waitFor();
    const history = page.getByRole('list', { name: 'Template history' });
    expect(await text(history.getByRole('listitem').first())).to.match(/v1\s*current[\s\S]*first edit/);

    await page.getByLabel('Template source').fill(edited('console edit two'));
    await page.getByLabel('Comment for this version').fill('second edit');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText(/Saved as v2/).waitFor();
    expect(await history.getByRole('listitem').count()).to.equal(2);

    await history.getByRole('button', { name: 'Roll back to v1' }).click();
    await page.getByText(/Rolled back: now v3/).waitFor();
    await history.getByRole('listitem').nth(2).waitFor();
    expect(await text(history.getByRole('listitem').first())).to.match(/v3\s*current[\s\S]*rollback to v1/);
    expect(await page.getByLabel('Template source').inputValue()).to.equal(edited('console edit one'));
    expect((await api('get', '/templates/yealink/device')).text).to.equal(edited('console edit one'));
  });

  it('a file a phone uploaded, opened in the signed-in console browser, runs no script', async () => {
    // Polycom phones PUT their directory, call lists and overrides without credentials (download
    // auth off), so anyone who knows a MAC can store any bytes, which are served on this origin.
    expect((await api('post', '/devices', { mac: '0004f2aabbcc', vendor: 'polycom' })).status).to.equal(201);
    const attack = `<html xmlns="http://www.w3.org/1999/xhtml"><body><script>
      fetch('/admin/session').then((r) => r.json()).then((s) => fetch('/api/v1/tokens', {
        method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': s.csrfToken },
        body: JSON.stringify({ name: 'planted', role: 'admin' }) }));
      document.title = 'script ran';
    </script></body></html>`;
    const put = await h.http.put('/0004f2aabbcc-directory.xml').set('User-Agent', 'FileTransport PolycomVVX-VVX_450-UA/6.4.3.5017 (SN:0004f2aabbcc) Type/Application').type('text/xml').send(attack);
    expect(put.status).to.equal(201);

    await signIn(page, served.base, ADMIN_TOKEN);
    // The browser saves it (Content-Disposition: attachment) rather than showing it; either way nothing may run.
    const download = page.waitForEvent('download', { timeout: 5_000 }).catch(() => null);
    await page.goto(`${served.base}/0004f2aabbcc-directory.xml`).catch(() => null);
    expect(await download, 'the upload was not offered as a download').not.to.equal(null);
    const other = await context.newPage();
    await other.goto(`${served.base}/admin/`);
    await other.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    const names = ((await api('get', '/tokens')).body as { tokens: { name: string }[] }).tokens.map((t) => t.name);
    expect(names).not.to.include('planted');
  });
});
