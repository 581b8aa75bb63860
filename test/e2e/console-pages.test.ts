/**
 * The console's other pages in headless Chromium: users and their PIN, locations, and every
 * page rendering with labelled inputs and no horizontal overflow on a tablet.
 */
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { ADMIN_TOKEN } from '../helpers/harness.js';
import { signIn, type Served } from './browser.js';
import { describeConsole, text, type ConsoleFixture } from './console-fixture.js';

describeConsole('admin console pages in headless Chromium', (f) => {
  let served: Served;
  let page: Page;
  let api: ConsoleFixture['api'];
  let go: ConsoleFixture['go'];
  beforeEach(() => ({ served, page, api, go } = f));

  it('adds a user, sets their PIN, and adds a location', async () => {
    await signIn(page, served.base, ADMIN_TOKEN);
    await go('#/users', 'Users');
    const add = page.getByRole('region', { name: 'Add a user' });
    await add.getByLabel('Extension').fill('1010');
    await add.getByLabel('Display name').fill('Grace Hopper');
    await add.getByLabel('SIP password').fill('grace-sip-pw');
    await add.getByRole('button', { name: 'Add user' }).click();
    await page.getByText('1 user', { exact: true }).waitFor();
    expect(await text(page.getByRole('row', { name: /Grace Hopper/ }))).to.match(/^1010\s+Grace Hopper\s+1010\s+allowed\s+none/);

    await page.getByRole('link', { name: '1010' }).click();
    await page.getByRole('heading', { level: 1, name: 'Grace Hopper (1010)' }).waitFor();
    const pin = page.getByRole('region', { name: 'PIN' });
    expect(await text(pin)).to.contain('No PIN is set');
    await pin.getByLabel('PIN').fill('12');
    await pin.getByRole('button', { name: 'Set PIN' }).click();
    expect(await text(pin.getByRole('alert'))).to.match(/pin/i);
    await pin.getByLabel('PIN').fill('482913');
    await pin.getByRole('button', { name: 'Set PIN' }).click();
    await page.getByText('PIN saved').waitFor();
    expect(await text(page.getByRole('region', { name: 'PIN' }))).to.contain('A PIN is set.');
    expect((await api('get', '/users/1010')).body).to.include({ hasPin: true, displayName: 'Grace Hopper' });

    await go('#/locations', 'Locations');
    const loc = page.getByRole('region', { name: 'Add a location' });
    await loc.getByLabel('Name').fill('Annex');
    await loc.getByLabel('Address').fill('5 Side St');
    await loc.getByLabel('Emergency numbers').fill('911, 933');
    await loc.getByLabel('Callback number').fill('5550100');
    await loc.getByRole('button', { name: 'Add location' }).click();
    expect(await text(page.getByRole('row', { name: /Annex/ }))).to.match(/^Annex\s+5 Side St\s+911, 933\s+5550100\s+0/);
    expect((await api('get', '/locations')).body.locations[0]).to.include({ name: 'Annex', callbackNumber: '5550100' });
  });

  it('every page renders for a signed-in admin, with labelled inputs and no overflow on a tablet', async () => {
    expect((await api('post', '/locations', { name: 'HQ', address: '1 Main St', emergencyNumbers: ['911'] })).status).to.equal(201);
    expect((await api('post', '/users', { extension: '1001', displayName: 'Alice', sipPassword: 'pw-1' })).status).to.equal(201);
    expect((await api('post', '/devices', { mac: '001565aabbcc', vendor: 'yealink', hotdeskEnabled: true, label: 'Hot desk 9' })).status).to.equal(201);
    await page.setViewportSize({ width: 768, height: 1024 });
    await signIn(page, served.base, ADMIN_TOKEN);
    const pages: Array<[string, string | RegExp]> = [
      ['#/', 'Dashboard'], ['#/devices', 'Devices'], ['#/devices/001565aabbcc', /Hot desk 9/], ['#/users', 'Users'],
      ['#/users/1001', /Alice/], ['#/locations', 'Locations'], ['#/sessions', 'Sessions'], ['#/templates', 'Templates'],
    ];
    for (const [hash, heading] of pages) {
      await go(hash, heading);
      // Evaluated in the page (the test itself is compiled without DOM types).
      const unlabelled = await page.evaluate<string[]>(
        "[...document.querySelectorAll('main input, main select, main textarea')].filter((el) => !el.labels?.length).map((el) => el.outerHTML)",
      );
      expect(unlabelled, `${hash}: inputs without a label`).to.deep.equal([]);
      const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
      expect(overflow, `${hash}: horizontal overflow`).to.be.at.most(0);
    }
    await go('#/locations', 'Locations');
    expect(await text(page.getByRole('note'))).to.match(/1 hot-desk device has no location[\s\S]*Hot desk 9/);
    await go('#/users/1001', /Alice/);
    expect(await text(page.getByRole('region', { name: 'Where they are sitting now' }))).to.contain('Not signed in at any hot desk.');
  });
});
