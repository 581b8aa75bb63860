/**
 * A phone asking for the same file again with the same answer (provisioning.fetchLogRepeatWindow,
 * server/services/fetch-folds.ts), through the real HTTP lane into a real SQLite file: its
 * history shows one row that counts the repeats, anything that differs gets a row of its own,
 * and a window of "0" keeps a row for every fetch.
 */
import { expect } from 'chai';
import { createHarness, type Harness } from '../helpers/harness.js';

const MAC = '001565aabbcc';
const UA = 'Yealink SIP-T46U 108.86.0.90 00:15:65:aa:bb:cc';

interface Fetch { at: string; file: string; status: number; configVersion: number | null; repeats: number; lastAt: string | null }

describe('fetch log: repeated fetches counted on one row', () => {
  let h: Harness;
  const fetchCfg = (ua = UA) => h.http.get(`/${MAC}.cfg`).set('User-Agent', ua);
  const api = (method: 'get' | 'post' | 'patch', path: string, body?: object) => h.http[method](`/api/v1/${path}`).set('Authorization', h.auth).send(body);
  const device = async () => (await api('get', `devices/${MAC}`).expect(200)).body as { fetches: Fetch[]; lastFetch: { at: string; repeats: number } };
  const iso = () => new Date(h.clock.now()).toISOString();

  async function start(config: Record<string, unknown> = {}): Promise<void> {
    h = createHarness({ config });
    await api('post', 'users', { extension: '1001', displayName: 'Alice', sipPassword: 's3cret-alice' }).expect(201);
    await api('post', 'users', { extension: '1002', displayName: 'Bob', sipPassword: 's3cret-bob' }).expect(201);
    await api('post', 'devices', { mac: MAC, vendor: 'yealink', model: 'T46U', ownerExtension: '1001' }).expect(201);
  }
  afterEach(() => h.destroy());

  it('five fetches of the same config are one row counting four repeats; the last fetch is the newest of them', async () => {
    await start();
    const first = iso();
    for (let i = 0; i < 5; i++) {
      await fetchCfg().expect(200);
      h.clock.advance(1000);
    }
    const d = await device();
    expect(d.fetches).to.have.length(1);
    expect(d.fetches[0]).to.include({ at: first, repeats: 4, lastAt: new Date(h.clock.now() - 1000).toISOString(), status: 200 });
    expect(d.lastFetch).to.include({ at: new Date(h.clock.now() - 1000).toISOString(), repeats: 4 });
  });

  it('a new owner (another config version) and a new firmware each get a row at once, and the counts stay with their rows', async () => {
    await start();
    await fetchCfg().expect(200);
    await fetchCfg().expect(200);
    await api('patch', `devices/${MAC}`, { ownerExtension: '1002' }).expect(200);
    h.clock.advance(1000);
    expect((await fetchCfg().expect(200)).text).to.include('s3cret-bob');
    h.clock.advance(1000);
    await fetchCfg('Yealink SIP-T46U 108.86.0.95 00:15:65:aa:bb:cc').expect(200);
    const rows = (await device()).fetches.map((f) => [f.configVersion, f.repeats]);
    const [v1, v2] = [rows[2]![0] as number, rows[1]![0] as number];
    expect(v2).to.be.greaterThan(v1);
    expect(rows, 'newest first').to.deep.equal([[v2, 0], [v2, 0], [v1, 1]]);
  });

  it('after the window a repeat starts a new row', async () => {
    await start({ provisioning: { fetchLogRepeatWindow: '30s' } });
    await fetchCfg().expect(200);
    h.clock.advance(22_000); // within any window: each ends at random in its last quarter
    await fetchCfg().expect(200);
    h.clock.advance(8_000);
    await fetchCfg().expect(200);
    expect((await device()).fetches.map((f) => f.repeats)).to.deep.equal([0, 1]);
  });

  it('window "0": a row for every fetch', async () => {
    await start({ provisioning: { fetchLogRepeatWindow: '0' } });
    for (let i = 0; i < 3; i++) await fetchCfg().expect(200);
    const d = await device();
    expect(d.fetches.map((f) => [f.repeats, f.lastAt])).to.deep.equal([[0, null], [0, null], [0, null]]);
  });

  it('a window that is not a duration is refused at start-up', () => {
    expect(() => createHarness({ config: { provisioning: { fetchLogRepeatWindow: 'soon' } } })).to.throw(/fetchLogRepeatWindow/);
    h = createHarness(); // for afterEach
  });
});
