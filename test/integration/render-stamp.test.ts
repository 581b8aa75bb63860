/**
 * The stamp of stored renders covers every config key a render reads: for each key of
 * config.example.json, a valid change that changes any device's rendered bytes must change the
 * stamp (otherwise a restart with that change would serve stale stored renders).
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { parseConfig, type Config } from '../../server/config.js';
import { createContext } from '../../server/context.js';
import { RenderStamp } from '../../server/services/render-stamp.js';
import { Renderer } from '../../server/services/renderer.js';
import { createHarness, type Harness } from '../helpers/harness.js';

const example = JSON.parse(readFileSync(new URL('../../config.example.json', import.meta.url), 'utf8')) as Record<string, unknown>;

/** Candidate values for a key, tried in order until one is valid and different. */
const STRINGS = ['http://other.example:8181/', 'Asia/Kolkata', 'sip:proxy.example.com:5061', 'tcp', 'tls', 'provision', 'enforce', 'off', '2h', '07:30', 'debug', 'other-value-x'];
function candidates(value: unknown): unknown[] {
  if (typeof value === 'boolean') return [!value];
  if (typeof value === 'number') return [value + 1, value - 1, value * 2];
  if (typeof value === 'string') return [...STRINGS, `${value}x`];
  if (value === null) return STRINGS;
  if (Array.isArray(value)) return [['10.0.0.0/8']];
  return [];
}

function leaves(o: Record<string, unknown>, prefix: string[] = []): string[][] {
  return Object.entries(o).flatMap(([k, v]) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? leaves(v as Record<string, unknown>, [...prefix, k]) : [[...prefix, k]],
  );
}

function withValue(path: string[], value: unknown): Record<string, unknown> {
  const copy = structuredClone(example);
  let o = copy;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string, unknown>;
  o[path[path.length - 1]!] = value;
  return copy;
}

describe('render stamp covers every config key a render reads', () => {
  let h: Harness;
  const MACS = ['001565aabb01', '0004f2aabb02', '000fd3aabb03', '00a859aabb04'];

  before(async () => {
    h = createHarness();
    const post = (path: string, body: object) => h.http.post(`/api/v1/${path}`).set('Authorization', h.auth).send(body).expect(201);
    await post('locations', { name: 'HQ', emergencyNumbers: ['911'], callbackNumber: '+15550001' });
    await post('users', { extension: '1001', displayName: 'Alice', sipPassword: 's3cret-alice', pin: '482913' });
    const vendors = ['yealink', 'polycom', 'sangoma-p', 'sangoma-s'];
    for (const [i, mac] of MACS.entries()) {
      await post('devices', { mac, vendor: vendors[i], ownerExtension: i % 2 ? undefined : '1001', hotdeskEnabled: true, locationId: 1 });
    }
    await h.http.put(`/api/v1/devices/${MACS[0]}/download-auth`).set('Authorization', h.auth).send({ mode: 'provision' }).expect(200);
  });
  after(() => h.destroy());

  const rendersWith = (config: Config) => {
    const ctx = createContext({ config, db: h.db, clock: h.clock, log: h.ctx.log, templateDir: null });
    const out: string[] = [];
    for (const mac of MACS) {
      const device = ctx.stores.devices.get(mac)!;
      for (const t of Renderer.deviceTemplates(device.vendor)) {
        const resolved = ctx.catalog.resolve(device.vendor, t, device.model);
        if (resolved) out.push(ctx.renderer.renderUncached(device, resolved));
      }
    }
    return { renders: out, stamp: new RenderStamp(ctx.views, config.provisioning.timeZone).config() };
  };

  it('every key whose change changes a render changes the stamp', () => {
    const base = rendersWith(parseConfig(example, {}));
    const readByRenders: string[] = [];
    for (const path of leaves(example)) {
      const current = path.reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], example);
      for (const value of candidates(current)) {
        let config: Config;
        try {
          config = parseConfig(withValue(path, value), {});
        } catch {
          continue; // not a valid value for this key
        }
        const next = rendersWith(config);
        if (next.renders.join('\n') !== base.renders.join('\n')) {
          readByRenders.push(path.join('.'));
          expect(next.stamp, `${path.join('.')} = ${JSON.stringify(value)} changes renders`).to.not.equal(base.stamp);
        }
        break; // one valid change per key
      }
    }
    // The test is only as good as its mutations: these are known to change renders.
    for (const key of ['provisioning.baseUrl', 'provisioning.timeZone', 'provisioning.ntpServer', 'pbx.host', 'pbx.port', 'pbx.transport', 'sip.outboundProxy', 'security.downloadAuth.defaultMode']) {
      expect(readByRenders, key).to.include(key);
    }
  });

  it('keys no render reads leave the stamp alone', () => {
    const base = rendersWith(parseConfig(example, {})).stamp;
    for (const [path, value] of [[['log', 'level'], 'debug'], [['http', 'port'], 9999], [['hotdesk', 'pinMaxAttempts'], 9]] as const) {
      expect(rendersWith(parseConfig(withValue([...path], value), {})).stamp, path.join('.')).to.equal(base);
    }
  });
});
