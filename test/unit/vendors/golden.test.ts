/**
 * Golden files: every shipped template rendered from the fixed sample views. A template
 * change shows up as a diff of test/fixtures/golden/<vendor>/*; regenerate with
 *   UPDATE_GOLDEN=1 npx mocha test/unit/vendors/golden.test.ts
 * and review it. The other tests here check what matters whatever the text says.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { expect } from 'chai';
import fc from 'fast-check';
import xml2js from 'xml2js';
import { compileTemplate, type CompiledTemplate } from '../../../server/services/template-engine.js';
import type { DeviceState, DeviceView } from '../../../server/domain/types.js';
import { UnsafeValueError } from '../../../vendors/escape.js';
import { getVendor, matchFile, vendors } from '../../../vendors/registry.js';
import { sampleCommonView, SAMPLE_LINES } from '../../../vendors/sample.js';
import type { TemplateInfo, VendorAdapter } from '../../../vendors/vendor.js';
import { sampleDeviceView, type ViewOverrides } from '../../fixtures/sample-view.js';

const UPDATE = process.env['UPDATE_GOLDEN'] === '1';
const GOLDEN_DIR = new URL('../../fixtures/golden/', import.meta.url);
const STATES: readonly DeviceState[] = ['owner', 'guest', 'unassigned'];

const adapter = (id: string): VendorAdapter => getVendor(id) ?? expect.fail(`no vendor ${id}`);
const shipped = (v: VendorAdapter): TemplateInfo[] => v.templates.filter((t) => t.source !== null);
const deviceTemplates = (v: VendorAdapter): TemplateInfo[] => shipped(v).filter((t) => t.view === 'device');

const compiled = new Map<string, CompiledTemplate>();
function compiledOf(t: TemplateInfo): CompiledTemplate {
  const source = t.source ?? expect.fail(`${t.name} has no default template`);
  let c = compiled.get(source);
  if (!c) compiled.set(source, (c = compileTemplate(source)));
  return c;
}

function render(v: VendorAdapter, t: TemplateInfo, view: DeviceView): string {
  return compiledOf(t).render(v.buildView(view));
}
function renderState(v: VendorAdapter, t: TemplateInfo, state: DeviceState, o: ViewOverrides = {}): string {
  return render(v, t, sampleDeviceView(state, { vendor: v.id, ...o }));
}

function parseXml(text: string): Record<string, unknown> {
  let result: unknown = null;
  let error: unknown = null;
  new xml2js.Parser({ async: false }).parseString(text, (err: unknown, r: unknown) => {
    error = err;
    result = r;
  });
  if (error) throw error;
  return result as Record<string, unknown>;
}

/** The value of attribute `name` anywhere in the document, or text of element `name`. */
function xmlValues(node: unknown, name: string, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const n of node) xmlValues(n, name, out);
  else if (node !== null && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$') {
        const attrs = v as Record<string, string>;
        if (name in attrs) out.push(attrs[name] ?? '');
      } else if (k === name && Array.isArray(v)) {
        for (const e of v) out.push(typeof e === 'string' ? e : ((e as { _?: string })._ ?? ''));
      } else xmlValues(v, name, out);
    }
  }
  return out;
}

function goldenCheck(vendor: string, file: string, text: string): void {
  const url = new URL(`${vendor}/${file}`, GOLDEN_DIR);
  if (UPDATE) {
    mkdirSync(new URL(`${vendor}/`, GOLDEN_DIR), { recursive: true });
    writeFileSync(url, text);
    return;
  }
  if (!existsSync(url)) expect.fail(`missing golden file ${vendor}/${file}: run with UPDATE_GOLDEN=1`);
  expect(text, `${vendor}/${file} differs from its golden file (UPDATE_GOLDEN=1 to accept)`).to.equal(readFileSync(url, 'utf8'));
}

describe('vendor templates', () => {
  describe('golden files', () => {
    for (const v of vendors) {
      for (const t of shipped(v)) {
        const ext = t.format === 'keyvalue' ? 'cfg' : 'xml';
        if (t.view === 'common') {
          it(`${v.id}/${t.name}.${ext}`, () => {
            const text = compiledOf(t).render(v.buildCommonView(sampleCommonView()));
            expect(v.lint(text, t)).to.deep.equal([]);
            goldenCheck(v.id, `${t.name}.${ext}`, text);
          });
          continue;
        }
        for (const state of STATES) {
          const file = t.name === 'device' ? `${state}.${ext}` : `${t.name}-${state}.${ext}`;
          it(`${v.id}/${file}`, () => {
            const text = renderState(v, t, state);
            expect(v.lint(text, t)).to.deep.equal([]);
            goldenCheck(v.id, file, text);
          });
        }
      }
    }
  });

  describe('what each state carries', () => {
    const secrets = [SAMPLE_LINES.owner.password, SAMPLE_LINES.guest.password, SAMPLE_LINES.owner.authUser, SAMPLE_LINES.guest.authUser];

    for (const v of vendors) {
      it(`${v.id}: unassigned has no SIP password or auth user anywhere`, () => {
        for (const t of deviceTemplates(v)) {
          const text = renderState(v, t, 'unassigned');
          for (const s of secrets) expect(text, `${t.name} holds ${s}`).not.to.contain(s);
        }
      });

      it(`${v.id}: owner and guest carry their own line, not the other one`, () => {
        const t = v.templates.find((x) => x.name === 'device');
        if (!t) return expect.fail('no device template');
        const owner = renderState(v, t, 'owner');
        const guest = renderState(v, t, 'guest');
        expect(owner).to.contain(SAMPLE_LINES.owner.password).and.contain(SAMPLE_LINES.owner.authUser);
        expect(owner).not.to.contain(SAMPLE_LINES.guest.password);
        expect(guest).to.contain(SAMPLE_LINES.guest.password).and.contain(SAMPLE_LINES.guest.authUser);
        expect(guest).not.to.contain(SAMPLE_LINES.owner.password);
      });

      it(`${v.id}: emergency numbers are in the unassigned device file (and in every state where the format has an emergency dial plan)`, () => {
        const t = v.templates.find((x) => x.name === 'device');
        // Sangoma has no separate emergency dial plan: a registered line dials them through the PBX.
        const states: readonly DeviceState[] = v.id.startsWith('sangoma') ? ['unassigned'] : STATES;
        for (const state of states) {
          const text = renderState(v, t ?? expect.fail('no device template'), state);
          expect(text, state).to.contain('911').and.contain('112');
        }
      });

      it(`${v.id}: renders and lints without a location, with an outbound proxy, over TLS, with hot desking off`, () => {
        const variants: ViewOverrides[] = [
          { location: null },
          { pbx: { outboundProxy: 'sip:proxy.example.com:5070;transport=tcp', transport: 'tls', port: 5061 } },
          { hotdesk: { enabled: false }, provisioning: { username: null, password: null } },
          { device: { label: null, model: null }, time: { zone: 'Asia/Kolkata' } },
        ];
        for (const o of variants) {
          for (const t of deviceTemplates(v)) {
            for (const state of STATES) expect(v.lint(renderState(v, t, state, o), t), `${t.name} ${state}`).to.deep.equal([]);
          }
        }
      });
    }

    it('hot desking: Login key for unassigned and owner, Logout for a guest, none when off', () => {
      for (const id of ['yealink', 'polycom', 'sangoma-s']) {
        const v = adapter(id);
        const t = v.templates.find((x) => x.name === 'device') ?? expect.fail('no device template');
        const { loginUrl, logoutUrl } = sampleDeviceView('owner', { vendor: id }).hotdesk;
        expect(renderState(v, t, 'unassigned'), id).to.contain(loginUrl).and.not.contain(logoutUrl);
        expect(renderState(v, t, 'owner'), id).to.contain(loginUrl).and.not.contain(logoutUrl);
        expect(renderState(v, t, 'guest'), id).to.contain(logoutUrl).and.not.contain(loginUrl);
        const off = { hotdesk: { enabled: false } };
        expect(renderState(v, t, 'owner', off), id).not.to.contain(loginUrl);
        expect(renderState(v, t, 'unassigned', off), id).not.to.contain(loginUrl);
      }
    });

    it('yealink: unassigned disables the account and clears its keys', () => {
      const v = adapter('yealink');
      const text = renderState(v, v.templates[0] ?? expect.fail(), 'unassigned');
      expect(text).to.contain('account.1.enable = 0\n');
      for (const k of ['password', 'auth_name', 'user_name', 'display_name']) expect(text).to.contain(`account.1.${k} = %NULL%\n`);
      expect(text.split('\n')[0]).to.equal('#!version:1.0.0.1');
    });

    it('yealink: the callback number goes out in a form custom_asserted_id takes, and a stale one is cleared', () => {
      const v = adapter('yealink');
      const t = v.templates.find((x) => x.name === 'device') ?? expect.fail('no device template');
      const keys = (o: ViewOverrides) => {
        const text = renderState(v, t, 'owner', o);
        const get = (k: string) => new RegExp(`^dialplan\\.emergency\\.${k} = (.*)$`, 'm').exec(text)?.[1];
        return { source: get('asserted_id_source'), id: get('custom_asserted_id') };
      };
      // 10-25 digits as they are; +E.164 as a TEL URI (a bare "+1555..." is not a value the phone takes).
      expect(keys({ location: { callbackNumber: '5551230000' } })).to.deep.equal({ source: 'CUSTOM', id: '5551230000' });
      expect(keys({ location: { callbackNumber: '+15551230000' } })).to.deep.equal({ source: 'CUSTOM', id: 'tel:+15551230000' });
      // Nothing usable, no callback, no location: back to ELIN and the old value cleared, so a phone
      // moved off a location does not keep presenting that location's callback number.
      for (const o of [{ location: { callbackNumber: '1234' } }, { location: { callbackNumber: '*555#1234567' } }, { location: { callbackNumber: null } }, { location: null }]) {
        expect(keys(o), JSON.stringify(o)).to.deep.equal({ source: 'ELIN', id: '%NULL%' });
      }
    });

    it('yealink: every emergency slot a location can fill is written, so a number removed from a location is cleared', () => {
      const v = adapter('yealink');
      const t = v.templates.find((x) => x.name === 'device') ?? expect.fail('no device template');
      const slots = (numbers: string[]) =>
        Object.fromEntries([...renderState(v, t, 'owner', { location: { emergencyNumbers: numbers } }).matchAll(/^dialplan\.emergency\.(\d+)\.value = (.*)$/gm)].map((m) => [m[1], m[2]]));
      const ten = ['911', '112', '999', '000', '110', '119', '120', '122', '100', '101'];
      expect(Object.values(slots(ten))).to.deep.equal(ten);
      // Back to one number: the nine others are cleared on the phone.
      const one = slots(['911']);
      expect(one['1']).to.equal('911');
      for (let i = 2; i <= 10; i++) expect(one[String(i)], `slot ${i}`).to.equal('%NULL%');
    });

    it('polycom: an unassigned phone gives reorder tone for anything but the emergency numbers; an owner dials freely', () => {
      const v = adapter('polycom');
      const t = v.templates.find((x) => x.name === 'device') ?? expect.fail('no device template');
      const dialplan = (state: DeviceState) => {
        const node = (parseXml(renderState(v, t, state))['polycomConfig'] as Record<string, Array<{ $: Record<string, string> }>>)['dialplan'];
        return node?.[0]?.$ ?? {};
      };
      expect(dialplan('unassigned')).to.include({ 'dialplan.digitmap': '911|112', 'dialplan.impossibleMatchHandling': '1' });
      for (const state of ['owner', 'guest'] as const) {
        expect(dialplan(state), state).not.to.have.any.keys('dialplan.digitmap', 'dialplan.impossibleMatchHandling');
      }
    });

    it("yealink: the clock carries the zone's own summer-time rule, in the device and the common file", () => {
      const v = adapter('yealink');
      const keys = (text: string) => {
        const out: Record<string, string> = {};
        for (const line of text.split('\n')) {
          const m = /^local_time\.([a-z_]+) = (.*)$/.exec(line);
          if (m) out[m[1]!] = m[2]!;
        }
        return out;
      };
      const device = v.templates.find((x) => x.name === 'device') ?? expect.fail('no device template');
      const common = v.templates.find((x) => x.view === 'common') ?? expect.fail('no common template');
      const clocks = (zone: string) => [
        keys(renderState(v, device, 'owner', { time: { zone } })),
        keys(compiledOf(common).render(v.buildCommonView({ ...sampleCommonView(), time: { ...sampleCommonView().time, zone } }))),
      ];
      const rule = (start: string, end: string, minutes: string) => ({ summer_time: '1', dst_time_type: '1', start_time: start, end_time: end, offset_time: minutes });
      // Month/week of month (5: the last)/day of week (7: Sunday)/wall-clock hour.
      for (const c of clocks('Europe/Berlin')) expect(c).to.include({ time_zone: '+1', ...rule('3/5/7/2', '10/5/7/3', '60') });
      for (const c of clocks('America/New_York')) expect(c).to.include({ time_zone: '-5', ...rule('3/2/7/2', '11/1/7/2', '60') });
      for (const c of clocks('Australia/Lord_Howe')) expect(c).to.include({ time_zone: '+10:30', ...rule('10/1/7/2', '4/1/7/2', '30') });
      for (const c of clocks('Asia/Tokyo')) {
        expect(c).to.include({ time_zone: '+9', summer_time: '0' });
        expect(c).not.to.have.any.keys('start_time', 'end_time', 'offset_time', 'dst_time_type');
      }
    });

    it("polycom: the clock carries the zone's own summer-time rule, not the phone's United States default", () => {
      const v = adapter('polycom');
      const t = v.templates.find((x) => x.name === 'device') ?? expect.fail('no device template');
      const clock = (zone: string) => {
        const node = (parseXml(renderState(v, t, 'owner', { time: { zone } }))['polycomConfig'] as Record<string, Array<{ $: Record<string, string> }>>)['tcpIpApp'];
        const attrs = node?.[0]?.$ ?? {};
        const short: Record<string, string> = {};
        for (const [k, val] of Object.entries(attrs)) if (k.startsWith('tcpIpApp.sntp.')) short[k.slice('tcpIpApp.sntp.'.length)] = val;
        return short;
      };
      const rule = (start: string[], stop: string[]) => {
        const keys = ['month', 'date', 'dayOfWeek', 'dayOfWeek.lastInMonth', 'time'];
        return Object.fromEntries([
          ['daylightSavings.enable', '1'], ['daylightSavings.fixedDayEnable', '0'],
          ...keys.map((k, i) => [`daylightSavings.start.${k}`, start[i]]), ...keys.map((k, i) => [`daylightSavings.stop.${k}`, stop[i]]),
        ]);
      };
      // Berlin: last Sunday of March at 02:00 to last Sunday of October at 03:00 (summer time).
      expect(clock('Europe/Berlin')).to.include({ gmtOffset: '3600', ...rule(['3', '22', '1', '1', '2'], ['10', '22', '1', '1', '3']) });
      // New York: second Sunday of March to first Sunday of November, both at 02:00.
      expect(clock('America/New_York')).to.include({ gmtOffset: '-18000', ...rule(['3', '8', '1', '0', '2'], ['11', '1', '1', '0', '2']) });
      // Sydney: summer from October's first Sunday to April's first Sunday (03:00 summer time).
      expect(clock('Australia/Sydney')).to.include({ gmtOffset: '36000', ...rule(['10', '1', '1', '0', '2'], ['4', '1', '1', '0', '3']) });
      // No summer time (Tokyo), or not by a whole hour (Lord Howe): none, and no rule keys.
      for (const zone of ['Asia/Tokyo', 'Australia/Lord_Howe']) {
        const c = clock(zone);
        expect(c['daylightSavings.enable'], zone).to.equal('0');
        expect(Object.keys(c).filter((k) => k.includes('.start.') || k.includes('.stop.')), zone).to.deep.equal([]);
      }
    });

    it('polycom: the device master lists <mac>-deskprov.cfg, which is served as the device file', () => {
      const v = adapter('polycom');
      const master = renderState(v, v.templates.find((t) => t.name === 'master') ?? expect.fail(), 'owner');
      const app = parseXml(master)['APPLICATION'] as { $: Record<string, string> };
      expect(app.$['CONFIG_FILES']).to.equal('0004f2aabbcc-deskprov.cfg');
      for (const f of (app.$['CONFIG_FILES'] ?? '').split(',')) {
        expect(matchFile(f.trim()).find((m) => m.vendor === 'polycom')).to.deep.include({ kind: 'device', template: 'device' });
      }
    });
  });

  describe('escaping', () => {
    const NASTY = `Al<&"'>ice --> ]]> &amp; \u{1F600}`;

    it('XML parses with display names and labels full of <&"\'>, and gives them back', () => {
      for (const id of ['polycom', 'sangoma-p', 'sangoma-s']) {
        const v = adapter(id);
        for (const t of deviceTemplates(v)) {
          for (const state of STATES) {
            const o = { line: { displayName: NASTY, label: NASTY }, device: { label: NASTY } };
            const text = renderState(v, t, state, o);
            expect(v.lint(text, t), `${id} ${t.name} ${state}`).to.deep.equal([]);
            parseXml(text);
          }
        }
      }
      const polycom = adapter('polycom');
      const device = polycom.templates.find((t) => t.name === 'device') ?? expect.fail();
      const doc = parseXml(renderState(polycom, device, 'owner', { line: { displayName: NASTY } }));
      expect(xmlValues(doc, 'reg.1.displayName')).to.deep.equal([NASTY]);
      const s = adapter('sangoma-s');
      const sdoc = parseXml(renderState(s, s.templates[0] ?? expect.fail(), 'guest', { line: { displayName: NASTY } }));
      expect(xmlValues(sdoc, 'P3')).to.deep.equal([NASTY]);
    });

    it('yealink: a display name with a line break makes buildView throw', () => {
      const v = adapter('yealink');
      for (const bad of ['Alice\naccount.2.enable = 1', 'Alice\r', 'A\0']) {
        expect(() => v.buildView(sampleDeviceView('owner', { line: { displayName: bad } }))).to.throw(UnsafeValueError);
      }
      expect(() => v.buildView(sampleDeviceView('unassigned', { device: { label: 'Desk\n4' } }))).to.throw(UnsafeValueError);
    });

    it('property: no display name or label adds a Yealink line; XML always parses and round-trips', function () {
      this.timeout(30_000);
      const yealink = adapter('yealink');
      const yDevice = yealink.templates.find((t) => t.name === 'device') ?? expect.fail();
      const baseline = STATES.map((s) => renderState(yealink, yDevice, s).split('\n').length);
      const polycom = adapter('polycom');
      const pDevice = polycom.templates.find((t) => t.name === 'device') ?? expect.fail();
      const text = fc.string({ unit: 'binary', maxLength: 40 }).map((s) => s.replace(/[\r\n\0]/g, ''));
      fc.assert(
        fc.property(text, text, text, (displayName, label, deviceLabel) => {
          const o = { line: { displayName, label }, device: { label: deviceLabel } };
          STATES.forEach((state, i) => {
            const y = renderState(yealink, yDevice, state, o);
            expect(y.split('\n').length).to.equal(baseline[i]);
            expect(yealink.lint(y, yDevice)).to.deep.equal([]);
          });
          for (const v of [polycom, adapter('sangoma-p'), adapter('sangoma-s')]) {
            for (const t of deviceTemplates(v)) {
              const x = renderState(v, t, 'owner', o);
              expect(v.lint(x, t)).to.deep.equal([]);
              parseXml(x);
            }
          }
          const names = xmlValues(parseXml(renderState(polycom, pDevice, 'owner', o)), 'reg.1.displayName');
          expect(names).to.deep.equal([displayName.replace(/[^\t\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')]);
        }),
        { numRuns: 100 },
      );
    });
  });
});
