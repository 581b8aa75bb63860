import { expect } from 'chai';
import { matchFile, vendors } from '../../../vendors/registry.js';
import type { FileMatch } from '../../../vendors/vendor.js';
import type { Mac } from '../../../server/domain/mac.js';

type Expect = Partial<FileMatch> & { vendor: string };

/** The one match of `vendor` for `name`, checked field by field. */
function expectMatch(name: string, want: Expect): void {
  const found = matchFile(name).filter((m) => m.vendor === want.vendor);
  expect(found, `${name} for ${want.vendor}`).to.have.length(1);
  expect(found[0]).to.deep.include(want);
}

function vendorsOf(name: string): string[] {
  return matchFile(name).map((m) => m.vendor);
}

const NONE = { mac: null, slot: null, family: null };

describe('file names phones ask for', () => {
  for (const upper of [false, true]) {
    const c = (mac: string): string => (upper ? mac.toUpperCase() : mac);
    describe(upper ? 'upper-case MACs' : 'lower-case MACs', () => {
      it('Yealink boot sequence', () => {
        expectMatch(`${c('001565aabbcc')}.boot`, { vendor: 'yealink', kind: 'device', template: 'boot', mac: '001565aabbcc' as Mac, optional: true });
        expectMatch('y000000000000.boot', { vendor: 'yealink', kind: 'common', template: 'common-boot', optional: true, ...NONE });
        expectMatch('y000000000108.cfg', { vendor: 'yealink', kind: 'common', template: 'common', family: '108', mac: null, optional: false });
        expectMatch(`${c('001565aabbcc')}.cfg`, { vendor: 'yealink', kind: 'device', template: 'device', mac: '001565aabbcc' as Mac, optional: false });
      });

      it('Polycom boot sequence', () => {
        const mac = '0004f2aabbcc' as Mac;
        expectMatch(`${c(mac)}.cfg`, { vendor: 'polycom', kind: 'device', template: 'master', mac });
        expectMatch('000000000000.cfg', { vendor: 'polycom', kind: 'common', template: 'master-default', ...NONE });
        expectMatch(`${c(mac)}-deskprov.cfg`, { vendor: 'polycom', kind: 'device', template: 'device', mac });
        expectMatch(`${c(mac)}-phone.cfg`, { vendor: 'polycom', kind: 'upload', slot: 'phone.cfg', mac, template: null });
        expectMatch(`${c(mac)}-web.cfg`, { vendor: 'polycom', kind: 'upload', slot: 'web.cfg', mac });
        expectMatch(`${c(mac)}-license.cfg`, { vendor: 'polycom', kind: 'upload', slot: 'license.cfg', mac });
        expectMatch(`${c(mac)}-directory.xml`, { vendor: 'polycom', kind: 'upload', slot: 'directory.xml', mac });
        expectMatch(`${c(mac)}-calls.xml`, { vendor: 'polycom', kind: 'upload', slot: 'calls.xml', mac });
        expectMatch(`${c(mac)}-boot.log`, { vendor: 'polycom', kind: 'log', slot: 'boot.log', mac });
        expectMatch(`${c(mac)}-app.log`, { vendor: 'polycom', kind: 'log', slot: 'app.log', mac });
        expectMatch('000000000000-directory.xml', { vendor: 'polycom', kind: 'common', template: 'directory-default', optional: true, ...NONE });
      });

      it('Sangoma P boot sequence', () => {
        expectMatch('000000000000.cfg', { vendor: 'sangoma-p', kind: 'common', template: 'common', optional: true, ...NONE });
        expectMatch(`${c('000fd3aabbcc')}.cfg`, { vendor: 'sangoma-p', kind: 'device', template: 'device', mac: '000fd3aabbcc' as Mac });
      });

      it('Sangoma S: both names', () => {
        expectMatch(`cfg${c('000fd3aabbcc')}.xml`, { vendor: 'sangoma-s', kind: 'device', template: 'device', mac: '000fd3aabbcc' as Mac });
        expectMatch(`${c('000fd3aabbcc')}.xml`, { vendor: 'sangoma-s', kind: 'device', template: 'device', mac: '000fd3aabbcc' as Mac });
      });
    });
  }

  it('<mac>.cfg is claimed by Yealink, Polycom and Sangoma P; the caller decides', () => {
    expect(vendorsOf('001565aabbcc.cfg')).to.deep.equal(['yealink', 'polycom', 'sangoma-p']);
    expect(vendorsOf('000000000000.cfg')).to.deep.equal(['polycom', 'sangoma-p']);
    expect(vendorsOf('0004f2aabbcc-deskprov.cfg')).to.deep.equal(['polycom']);
  });

  it('Yealink families: the 12 digits after y, without leading zeros', () => {
    expect(matchFile('y000000000028.cfg')[0]?.family).to.equal('28');
    expect(matchFile('y000000000096.cfg')[0]?.family).to.equal('96');
    expect(matchFile('y000000000180.cfg')[0]?.family).to.equal('180');
    expect(matchFile('y000000000000.cfg')[0]?.family).to.equal('0');
  });

  it('rejects everything else', () => {
    for (const name of [
      '',
      '.cfg',
      '../001565aabbcc.cfg',
      '..%2f001565aabbcc.cfg',
      'templates/001565aabbcc.cfg',
      '/001565aabbcc.cfg',
      '001565aabbcc.cfg/',
      '001565aabbcc.cfg\0',
      '001565aabbcc.cfg.bak',
      ' 001565aabbcc.cfg',
      '001565aabbc.cfg', // 11 hex
      '001565aabbccd.cfg', // 13 hex
      '001565aabbcg.cfg', // not hex
      '00:15:65:aa:bb:cc.cfg',
      'y00000000010.cfg', // 11 digits
      'y0000000000108.cfg', // 13 digits
      'y00000000010a.cfg',
      'y000000000108.boot',
      'x000000000108.cfg',
      '001565aabbcc-deskprov.xml',
      '001565aabbcc-other.cfg',
      '001565aabbcc-phone.cfg.bak',
      '000000000000-phone.cfg',
      '000000000000-app.log',
      '000000000000-deskprov.cfg',
      'cfg000000000000.xml',
      '000000000000.xml',
      '000000000000.boot',
      'cfg001565aabbcc',
      'sip.ld',
      '3111-46157-001.sip.ld',
      'a'.repeat(300) + '.cfg',
      '001565aabbcc.cfg' + ' '.repeat(100),
    ]) {
      expect(matchFile(name), JSON.stringify(name)).to.deep.equal([]);
    }
  });

  it('deviceFiles: the names each vendor fetches, all matched back to the device', () => {
    const mac = '001565aabbcc' as Mac;
    const files = Object.fromEntries(vendors.map((v) => [v.id, v.deviceFiles(mac)]));
    expect(files).to.deep.equal({
      yealink: ['001565aabbcc.cfg'],
      polycom: ['001565aabbcc.cfg', '001565aabbcc-deskprov.cfg'],
      'sangoma-p': ['001565aabbcc.cfg'],
      'sangoma-s': ['cfg001565aabbcc.xml'],
    });
    for (const v of vendors) {
      for (const name of v.deviceFiles(mac)) {
        const m = v.matchFile(name);
        expect(m?.kind, name).to.equal('device');
        expect(m?.mac).to.equal(mac);
        expect(v.templates.some((t) => t.name === m?.template)).to.equal(true);
      }
    }
  });

  it('every template a match names exists in its adapter, with the right view', () => {
    const names = [
      '001565aabbcc.cfg', '001565aabbcc.boot', 'y000000000000.boot', 'y000000000108.cfg', '000000000000.cfg',
      '0004f2aabbcc-deskprov.cfg', '000000000000-directory.xml', 'cfg000fd3aabbcc.xml',
    ];
    for (const name of names) {
      for (const m of matchFile(name)) {
        const info = vendors.find((v) => v.id === m.vendor)?.templates.find((t) => t.name === m.template);
        expect(info, `${m.vendor} ${name}`).to.not.equal(undefined);
        expect(info?.view).to.equal(m.kind === 'device' ? 'device' : 'common');
        // A template without a shipped default must be optional (404 until an operator adds one).
        if (info?.source === null) expect(m.optional, `${m.vendor} ${name}`).to.equal(true);
      }
    }
  });
});
