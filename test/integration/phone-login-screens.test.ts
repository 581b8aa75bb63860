/**
 * Hot desking from the phone itself: the soft key in the config opens deskprov's login screen
 * (Yealink XML browser objects, Polycom XHTML microbrowser pages); submitting it logs in.
 */
import { expect } from 'chai';
import { parseStringPromise } from 'xml2js';
import { createContext } from '../../server/context.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { device, login, MAC, MINUTE, ok, outboxMacs, PIN, seedOffice, sessions, yealinkConfig, yealinkLine } from '../helpers/hotdesk.js';

const BASE = 'http://prov.test:8080';
const YEALINK_UA = 'Yealink SIP-T46U 108.86.0.90 00:15:65:aa:bb:02';
const POLYCOM_UA = 'Mozilla/4.0 (compatible; MSIE 6.0) Polycom/6.4.3 PolycomVVX-VVX_450-UA/6.4.3.5017';

type Xml = Record<string, unknown>;
const parse = (text: string) => parseStringPromise(text, { explicitRoot: true }) as Promise<Xml>;
const pathOf = (url: string) => {
  expect(url.startsWith(BASE), url).to.equal(true);
  return url.slice(BASE.length);
};
/** The URL of the hot-desk soft key in a Yealink config. */
const softKeyUrl = (cfg: string) => /^programablekey\.3\.value = (.*)$/m.exec(cfg)?.[1] ?? '';

describe('hot desking from the phone: login and logout screens', () => {
  let h: Harness;
  beforeEach(async () => {
    h = createHarness();
    await seedOffice(h);
  });
  afterEach(() => h.destroy());

  const yealinkGet = (path: string) => h.http.get(path).set('User-Agent', YEALINK_UA);

  /** What the phone shows: the text of a YealinkIPPhoneTextScreen. */
  async function yealinkText(path: string): Promise<string> {
    const r = await yealinkGet(path);
    expect(r.status).to.equal(200);
    expect(r.headers['content-type']).to.match(/^text\/xml/);
    const doc = (await parse(r.text)) as { YealinkIPPhoneTextScreen: { Text: string[] } };
    expect(doc).to.have.property('YealinkIPPhoneTextScreen');
    return doc.YealinkIPPhoneTextScreen.Text[0]!;
  }

  it('Yealink: the soft key opens an input screen; submitting it makes the phone the guest\'s, and Logout gives it back', async () => {
    const url = softKeyUrl(await yealinkConfig(h, MAC.B));
    expect(url).to.equal(`${BASE}/phone/yealink/${MAC.B}/login`);

    const screen = await yealinkGet(pathOf(url));
    expect(screen.status).to.equal(200);
    expect(screen.headers['content-type']).to.match(/^text\/xml/);
    expect(screen.headers['cache-control']).to.equal('no-store');
    const doc = (await parse(screen.text)) as {
      YealinkIPPhoneInputScreen: { $: { type: string }; URL: string[]; InputField: Array<{ $: { type: string; password: string }; Parameter: string[] }> };
    };
    const input = doc.YealinkIPPhoneInputScreen;
    expect(input.$.type).to.equal('number');
    expect(input.URL[0]).to.equal(url);
    expect(input.InputField.map((f) => [f.Parameter[0], f.$.type, f.$.password])).to.deep.equal([
      ['extension', 'number', 'no'],
      ['pin', 'number', 'yes'],
    ]);

    // The phone appends the fields to URL and fetches it.
    const text = await yealinkText(`${pathOf(input.URL[0]!)}?extension=200&pin=${PIN['200']}`);
    expect(text).to.match(/Welcome Gus Guest/);
    expect(await device(h, MAC.B)).to.include({ state: 'guest', guestExtension: '200' });
    expect(outboxMacs(h)).to.deep.equal([MAC.B]);

    const guestCfg = await yealinkConfig(h, MAC.B);
    expect(yealinkLine(guestCfg)).to.equal('200');
    const logoutUrl = softKeyUrl(guestCfg);
    expect(logoutUrl).to.match(new RegExp(`^${BASE}/phone/yealink/${MAC.B}/logout\\?k=[A-Za-z0-9_-]{22}$`));
    const confirm = await yealinkGet(pathOf(logoutUrl));
    const menu = (await parse(confirm.text)) as { YealinkIPPhoneTextMenu: { MenuItem: Array<{ URI: string[] }> } };
    expect((await device(h, MAC.B)).state, 'opening the screen does not log out').to.equal('guest');
    const bye = await yealinkText(pathOf(menu.YealinkIPPhoneTextMenu.MenuItem[0]!.URI[0]!));
    expect(bye).to.match(/200 is logged out/);
    expect((await device(h, MAC.B)).state).to.equal('unassigned');
    expect((await sessions(h))[0]).to.include({ endReason: 'logout' });
    expect(yealinkLine(await yealinkConfig(h, MAC.B))).to.equal(null);
    // The PIN travelled in a query string: it must not be in any log line.
    expect(h.logs.length).to.be.greaterThan(0);
    expect(JSON.stringify(h.logs)).to.not.include(PIN['200']);
  });

  it('Yealink: a wrong PIN shows the attempts left, an unknown extension reads the same, and nothing changes', async () => {
    const path = `/phone/yealink/${MAC.B}/login`;
    expect(await yealinkText(`${path}?extension=200&pin=000000`)).to.equal('Login failed: wrong extension or PIN. 4 attempts left.');
    expect(await yealinkText(`${path}?extension=777&pin=000000`)).to.equal('Login failed: wrong extension or PIN. 4 attempts left.');
    expect(await yealinkText(`${path}?extension=200&pin=`)).to.equal('Enter your extension and PIN.');
    expect((await device(h, MAC.B)).state).to.equal('unassigned');
    expect(outboxMacs(h)).to.deep.equal([]);
  });

  it('Yealink: a user locked through the API stays locked on the phone screen, until the lock runs out', async () => {
    for (let i = 0; i < 5; i++) await login(h, MAC.A, '200', '000000');
    const path = `/phone/yealink/${MAC.B}/login?extension=200&pin=${PIN['200']}`;
    expect(await yealinkText(path)).to.equal('Too many wrong PINs. Try again in 15 min.');
    expect((await device(h, MAC.B)).state).to.equal('unassigned');
    h.clock.advance(15 * MINUTE);
    expect(await yealinkText(path)).to.match(/^Welcome/);
  });

  it('Yealink: logging in again where you already sit says so, and does not promise a restart that never comes', async () => {
    const path = `/phone/yealink/${MAC.B}/login?extension=200&pin=${PIN['200']}`;
    expect(await yealinkText(path)).to.match(/^Welcome Gus Guest\. .*restarts/);
    h.db.prepare('DELETE FROM outbox').run();
    expect(await yealinkText(path)).to.equal('You are already logged in at this phone, Gus Guest.');
    expect(outboxMacs(h)).to.deep.equal([]);
    // The owner at their own free phone is told it is theirs already.
    expect(await yealinkText(`/phone/yealink/${MAC.A}/login?extension=100&pin=${PIN['100']}`)).to.equal('This is already your phone, Olivia Owner.');
  });

  it('Yealink: says why a login is refused (hot desking off, user not allowed)', async () => {
    expect(await yealinkText(`/phone/yealink/${MAC.C}/login?extension=200&pin=${PIN['200']}`)).to.equal('Hot desking is off for this phone.');
    expect(await yealinkText(`/phone/yealink/${MAC.B}/login?extension=400&pin=${PIN['400']}`)).to.equal('Your extension may not use hot desking.');
  });

  it('404 for an unknown MAC or a vendor that is not the device\'s; logout of a free phone says so', async () => {
    expect((await yealinkGet('/phone/yealink/001565ffffff/login')).status).to.equal(404);
    expect((await yealinkGet('/phone/yealink/not-a-mac/login')).status).to.equal(404);
    expect((await yealinkGet(`/phone/polycom/${MAC.B}/login`)).status).to.equal(404);
    expect(await yealinkText(`/phone/yealink/${MAC.B}/logout?confirm=yes`)).to.equal('Nobody is logged in at this phone.');
  });

  it('Polycom: the microbrowser gets an XHTML form (values escaped) that logs in by POST, and a logout form', async () => {
    const loginUrl = h.ctx.views.build(h.ctx.devices.get(MAC.P as never)).hotdesk.loginUrl;
    const page = await h.http.get(pathOf(loginUrl)).set('User-Agent', POLYCOM_UA);
    expect(page.status).to.equal(200);
    expect(page.headers['content-type']).to.match(/^application\/xhtml\+xml/);
    const doc = (await parse(page.text)) as {
      html: { head: Array<{ title: string[] }>; body: Array<{ form: Array<{ $: { method: string; action: string }; p: Array<{ input: Array<{ $: Record<string, string> }> }> }> }> };
    };
    expect(doc.html.head[0]!.title[0]).to.equal('Hot desk login: Desk <5> & "co"');
    const form = doc.html.body[0]!.form[0]!;
    expect(form.$).to.deep.equal({ method: 'post', action: loginUrl });
    const inputs = form.p.flatMap((p) => p.input.map((i) => i.$));
    expect(inputs.map((i) => [i.name, i.type])).to.deep.equal([['extension', 'text'], ['pin', 'password'], [undefined, 'submit']]);

    const result = await h.http.post(pathOf(form.$.action)).set('User-Agent', POLYCOM_UA).type('form').send({ extension: '300', pin: PIN['300'] });
    expect(result.status).to.equal(200);
    const resultDoc = (await parse(result.text)) as { html: { body: Array<{ p: string[] }> } };
    expect(resultDoc.html.body[0]!.p[0]).to.match(/^Welcome Hana Hot/);
    expect(await device(h, MAC.P)).to.include({ state: 'guest', guestExtension: '300' });

    // The guest's config carries the Logout URL with its key; the form posts it back hidden.
    const logoutUrl = h.ctx.views.build(h.ctx.devices.get(MAC.P as never)).hotdesk.logoutUrl;
    const logoutPage = await h.http.get(pathOf(logoutUrl)).set('User-Agent', POLYCOM_UA);
    const logoutDoc = (await parse(logoutPage.text)) as { html: { body: Array<{ form: Array<{ $: { action: string }; p: Array<{ input: Array<{ $: Record<string, string> }> }> }> }> } };
    const logoutForm = logoutDoc.html.body[0]!.form[0]!;
    const hidden = Object.fromEntries(logoutForm.p.flatMap((p) => p.input.map((i) => i.$)).filter((i) => i.type === 'hidden').map((i) => [i.name, i.value]));
    const done = await h.http.post(pathOf(logoutForm.$.action)).type('form').send(hidden);
    expect(done.status).to.equal(200);
    expect(await device(h, MAC.P)).to.include({ state: 'unassigned' });
  });

  it('logging out without the key from the guest\'s config takes the guest\'s or the owner\'s PIN, and names nobody', async () => {
    ok(await login(h, MAC.A, '200', PIN['200'])); // desk A is owned by 100; 200 sits there
    const keyed = h.ctx.views.build(h.ctx.devices.get(MAC.A as never)).hotdesk.logoutUrl;
    const path = `/phone/yealink/${MAC.A}/logout`;
    // Anyone on the network, a link in a web page: no key, so a PIN screen that does not say who sits here.
    for (const q of ['', '?confirm=yes', '?k=AAAAAAAAAAAAAAAAAAAAAA&confirm=yes']) {
      const r = await yealinkGet(path + q);
      expect(r.text, q).to.contain('YealinkIPPhoneInputScreen').and.not.contain('200');
    }
    expect(await yealinkText(`${path}?extension=200&pin=000000`)).to.equal('Login failed: wrong extension or PIN. 4 attempts left.');
    expect(await yealinkText(`${path}?extension=300&pin=${PIN['300']}`)).to.equal('Not allowed on this phone.');
    expect(await device(h, MAC.A)).to.include({ state: 'guest', guestExtension: '200' });
    // The owner takes the phone back with their PIN.
    expect(await yealinkText(`${path}?extension=100&pin=${PIN['100']}`)).to.equal('200 is logged out. The phone restarts.');
    expect((await sessions(h))[0]).to.include({ endReason: 'owner' });
    // A key belongs to one session: the next guest's session is not ended with the old one.
    ok(await login(h, MAC.A, '300', PIN['300']));
    const r = await yealinkGet(`${pathOf(keyed)}&confirm=yes`);
    expect(r.text).to.contain('YealinkIPPhoneInputScreen');
    expect(await device(h, MAC.A)).to.include({ state: 'guest', guestExtension: '300' });
  });

  it('a guest\'s Logout key still works after a restart, even if the first render that needed one was rolled back', () => {
    const session = { id: 42, mac: MAC.B, startedAt: 1_700_000_000_000 };
    const fresh = createHarness();
    try {
      let key = '';
      try {
        fresh.db.transaction(() => {
          key = fresh.ctx.logoutKeys.of(session);
          throw new Error('roll back');
        })();
      } catch {
        // the save that needed the render failed
      }
      // The next start reads the secret from the database.
      const restarted = createContext({ config: fresh.config, db: fresh.db, clock: fresh.clock, log: fresh.ctx.log, templateDir: null });
      expect(restarted.logoutKeys.of(session)).to.equal(key);
    } finally {
      fresh.destroy();
    }
  });

  it('wrong PINs on the phone screens count against the address: spraying every extension gets it blocked', async () => {
    const path = `/phone/yealink/${MAC.B}/login`;
    // Four wrong PINs each for many users stays under every per-user lockout, but not under the per-address limit.
    let answer = '';
    for (let i = 0; i < 50; i++) answer = await yealinkText(`${path}?extension=${5000 + (i % 13)}&pin=0000${i}`);
    expect(answer).to.match(/^Login failed/);
    expect((await yealinkGet(`${path}?extension=200&pin=${PIN['200']}`)).status).to.equal(429);
    expect((await device(h, MAC.B)).state).to.equal('unassigned');
  });
});
