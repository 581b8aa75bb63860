/**
 * The PBX feature-code script (scripts/pbx/deskprov-hotdesk.sh) run for real against deskprov on
 * a TCP socket, with a `pbx` token: a Polycom phone (no MAC in its User-Agent) is found through
 * the device lookup the `pbx` role may make, and that lookup is all the role gained.
 */
import { expect } from 'chai';
import { execFile, execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHarness, type Harness } from '../helpers/harness.js';
import { MAC, PIN, ok, seedOffice, sessions } from '../helpers/hotdesk.js';

const SCRIPT = 'scripts/pbx/deskprov-hotdesk.sh';
const POLYCOM_UA = 'PolycomVVX-VVX_400-UA/6.4.3.5017';

const has = (cmd: string): boolean => {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

async function pbxToken(h: Harness): Promise<string> {
  const r = await h.http.post('/api/v1/tokens').set('Authorization', h.auth).send({ name: 'asterisk', role: 'pbx' });
  ok(r, 201);
  return r.body.token as string;
}

describe('pbx role: the device lookup of the *91 script', () => {
  let h: Harness;
  let pbx: string;
  beforeEach(async () => {
    h = createHarness();
    await seedOffice(h);
    // Nico (400) owns the Polycom desk phone P; Olivia (100) owns Yealink A.
    ok(await h.http.patch(`/api/v1/devices/${MAC.P}`).set('Authorization', h.auth).send({ ownerExtension: '400' }));
    pbx = `Bearer ${await pbxToken(h)}`;
  });
  afterEach(() => h.destroy());

  it('may list the phones an extension owns, and sees only their MACs and states', async () => {
    const r = await h.http.get('/api/v1/devices').query({ owner: '400' }).set('Authorization', pbx);
    ok(r);
    expect(r.body).to.deep.equal({ devices: [{ mac: MAC.P, state: 'owner' }] });
    const owner = await h.http.get('/api/v1/devices').query({ owner: '100', state: 'owner' }).set('Authorization', pbx);
    expect(owner.body).to.deep.equal({ devices: [{ mac: MAC.A, state: 'owner' }] });
    const bad = await h.http.get('/api/v1/devices').query({ owner: 'a b' }).set('Authorization', pbx);
    expect(bad.status).to.equal(400);
    expect(bad.body.error.message).to.match(/^owner: /);
  });

  it('may still read nothing else about devices', async () => {
    for (const [path, query] of [
      ['/api/v1/devices', {}],
      ['/api/v1/devices', { vendor: 'polycom' }],
      ['/api/v1/devices', { owner: '400', q: 'Desk' }],
      ['/api/v1/devices', { owner: '400', limit: '5' }],
      [`/api/v1/devices/${MAC.P}`, {}],
      ['/api/v1/devices/export', {}],
      [`/api/v1/devices/${MAC.P}/line`, {}],
      ['/api/v1/users', {}],
      ['/api/v1/locations', {}],
    ] as const) {
      const r = await h.http.get(path).query(query).set('Authorization', pbx);
      expect(r.status, `${path} ${JSON.stringify(query)}`).to.equal(403);
      expect(r.body.error.code).to.equal('forbidden');
    }
  });
});

describe('scripts/pbx/deskprov-hotdesk.sh against a running deskprov', function () {
  let h: Harness;
  let server: Server;
  let env: NodeJS.ProcessEnv;
  before(function () {
    // The Polycom path needs both. CI installs them (.ci/run): there a missing one fails here.
    for (const cmd of ['curl', 'jq']) if (!has(cmd) && process.env.CI === undefined) this.skip();
  });
  /** deskprov with `config` on a TCP socket: the office, Nico (400) owning the Polycom phone P. */
  async function start(config: Record<string, unknown> = {}): Promise<void> {
    h = createHarness({ config });
    await seedOffice(h);
    ok(await h.http.patch(`/api/v1/devices/${MAC.P}`).set('Authorization', h.auth).send({ ownerExtension: '400' }));
    const token = await pbxToken(h);
    server = createServer(h.app.listener);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    env = { PATH: process.env.PATH, DESKPROV_URL: `http://127.0.0.1:${port}`, DESKPROV_TOKEN: token, DESKPROV_UA: POLYCOM_UA };
  }
  async function stop(): Promise<void> {
    await new Promise((resolve) => server.close(resolve));
    h.destroy();
  }
  beforeEach(() => start());
  afterEach(() => stop());

  const run = (...args: string[]): Promise<string> =>
    new Promise((resolve, reject) => {
      execFile('sh', [SCRIPT, ...args], { env, timeout: 30_000 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`${err.message}\n${stderr}`));
        else resolve(stdout.trim());
      });
    });

  it('*91 from a Polycom phone logs the guest in at the phone the caller owns; *92 logs out', async () => {
    expect(await run('login', '400', '200', PIN['200'])).to.equal('ok');
    const active = await sessions(h, { active: 'true' });
    expect(active.map((s) => [s.mac, s.extension])).to.deep.equal([[MAC.P, '200']]);

    // Now the phone carries 200's line, so 200 is the caller of *92.
    expect(await run('logout', '200')).to.equal('ok');
    expect(await sessions(h, { active: 'true' })).to.deep.equal([]);
  });

  it('*91 from a Polycom phone where a guest sits logs the next guest in there', async () => {
    // 200 sits at Nico's phone, so the phone carries 200's line: 200 is the caller of *91.
    ok(await h.http.post(`/api/v1/devices/${MAC.P}/login`).set('Authorization', h.auth).send({ extension: '200', pin: PIN['200'] }));
    expect(await run('login', '200', '300', PIN['300'])).to.equal('ok');
    expect((await sessions(h, { active: 'true' })).map((s) => [s.mac, s.extension])).to.deep.equal([[MAC.P, '300']]);
    const ended = (await sessions(h, { extension: '200' }))[0]!;
    expect([ended.mac, ended.endReason]).to.deep.equal([MAC.P, 'displaced']);
  });

  it('a caller on two phones at once gets unknown-phone for *91 and *92, and nothing changes', async () => {
    // 200 sits at the Polycom phone and at desk 2 (with multipleLogin "allow", a guest may).
    await stop();
    await start({ hotdesk: { multipleLogin: 'allow' } });
    for (const mac of [MAC.P, MAC.B]) ok(await h.http.post(`/api/v1/devices/${mac}/login`).set('Authorization', h.auth).send({ extension: '200', pin: PIN['200'] }));
    const before = (await sessions(h, { active: 'true' })).map((s) => [s.mac, s.extension]);
    expect(before).to.have.deep.members([[MAC.P, '200'], [MAC.B, '200']]);
    expect(await run('login', '200', '300', PIN['300'])).to.equal('unknown-phone');
    expect(await run('logout', '200')).to.equal('unknown-phone');
    expect((await sessions(h, { active: 'true' })).map((s) => [s.mac, s.extension])).to.have.deep.members(before);
  });

  it('deskprov out of reach is error, not unknown-phone', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    env = { ...env, DESKPROV_URL: `http://127.0.0.1:${port}` };
    expect(await run('login', '400', '200', PIN['200'])).to.equal('error');
    expect(await run('logout', '200')).to.equal('error');
  });

  it('a wrong PIN is wrong-pin; a caller who owns two phones gets unknown-phone, not a guess', async () => {
    expect(await run('login', '400', '200', '000000')).to.equal('wrong-pin');
    ok(await h.http.patch(`/api/v1/devices/${MAC.D}`).set('Authorization', h.auth).send({ ownerExtension: '400' }));
    expect(await run('login', '400', '200', PIN['200'])).to.equal('unknown-phone');
    expect(await sessions(h, { active: 'true' })).to.deep.equal([]);
  });
});
