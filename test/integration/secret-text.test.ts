/**
 * What the admin types is what every phone gets: a SIP password (or a name) that some vendor's
 * output escaping would drop characters from is refused at the API, and a valid one reaches
 * every vendor's config exactly, fetched over HTTP the way phones fetch it.
 */
import { expect } from 'chai';
import { parseStringPromise } from 'xml2js';
import { createHarness, type Harness } from '../helpers/harness.js';

const UA = {
  yealink: 'Yealink SIP-T46U 108.86.0.90 00:15:65:aa:bb:cc',
  polycom: 'FileTransport PolycomVVX-VVX_450-UA/6.4.3.5017 (SN:0004f2aabbcc) Type/Application',
  sangomaP: 'Sangoma P330 4_27_8 000FD3AABBCC',
};
const PASSWORD = 's3cret-alice';

async function seed(h: Harness) {
  const ok = (r: { status: number; body: unknown }) => expect(r.status, JSON.stringify(r.body)).to.equal(201);
  const post = (path: string, body: object) => h.http.post(`/api/v1${path}`).set('Authorization', h.auth).send(body);
  ok(await post('/locations', { name: 'HQ', emergencyNumbers: ['911'] }));
  ok(await post('/users', { extension: '1001', displayName: 'Alice', sipPassword: PASSWORD }));
  for (const [mac, vendor] of [['001565aabbcc', 'yealink'], ['0004f2aabbcc', 'polycom'], ['000fd3aabbcc', 'sangoma-p'], ['000fd3aabbdd', 'sangoma-s']]) {
    ok(await post('/devices', { mac, vendor, ownerExtension: '1001', locationId: 1, label: 'Desk 12' }));
  }
}

/** Every attribute value and element text of an XML file, as [attribute or element name, value]. */
function xmlStrings(node: unknown, name = ''): Array<[string, string]> {
  if (typeof node === 'string') return [[name, node]];
  if (Array.isArray(node)) return node.flatMap((n) => xmlStrings(n, name));
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node as Record<string, unknown>).flatMap(([k, v]): Array<[string, string]> => {
    if (k === '$') return Object.entries(v as Record<string, string>);
    if (k === '_') return [[name, v as string]];
    return xmlStrings(v, k);
  });
}

/** The SIP password each vendor's config carries for the owner's line, fetched as the phone does. */
async function passwordsServed(h: Harness): Promise<Record<string, string[]>> {
  const get = async (path: string, ua?: string) => {
    const req = h.http.get(path);
    const r = await (ua ? req.set('User-Agent', ua) : req);
    expect(r.status, path).to.equal(200);
    return r.text;
  };
  const yealink = await get('/001565aabbcc.cfg', UA.yealink);
  const master = await get('/0004f2aabbcc.cfg', UA.polycom);
  const files = String((await parseStringPromise(master)).APPLICATION.$.CONFIG_FILES).split(',').map((s) => s.trim()).filter(Boolean);
  const polycom: Array<[string, string]> = [];
  for (const f of files) polycom.push(...xmlStrings(await parseStringPromise(await get(`/${f.replace('[PHONE_MAC_ADDRESS]', '0004f2aabbcc')}`, UA.polycom))));
  const sangomaP = xmlStrings(await parseStringPromise(await get('/000fd3aabbcc.cfg', UA.sangomaP)));
  const sangomaS = xmlStrings(await parseStringPromise(await get('/cfg000fd3aabbdd.xml')));
  return {
    yealink: [...yealink.matchAll(/^account\.1\.password = (.*)$/gm)].map((m) => m[1]!),
    polycom: polycom.filter(([k, v]) => k === 'reg.1.auth.password' && v !== '').map(([, v]) => v),
    'sangoma-p': sangomaP.filter(([k]) => k === 'password').map(([, v]) => v),
    'sangoma-s': sangomaS.filter(([k]) => k === 'P34').map(([, v]) => v),
  };
}

const everywhere = (password: string) => ({ yealink: [password], polycom: [password], 'sangoma-p': [password], 'sangoma-s': [password] });

describe('secrets and names reach every phone exactly as typed', () => {
  let h: Harness;
  beforeEach(async () => {
    h = createHarness();
    await seed(h);
  });
  afterEach(() => h.destroy());

  const BAD_PASSWORDS: Array<[string, string]> = [
    ['ab\u0085cd\u2028ef\u200bgh', 'NEL, line separator and zero-width space (Yealink dropped two of them)'],
    ['pass\u0085word', 'C1 control U+0085'],
    ['pass\u009bword', 'C1 control U+009B'],
    ['pass\u2028word', 'line separator U+2028'],
    ['pass\u2029word', 'paragraph separator U+2029'],
    ['pass\u200bword', 'zero-width space U+200B'],
    ['pass\u200dword', 'zero-width joiner U+200D'],
    ['\ufeffpassword', 'byte order mark U+FEFF'],
    ['pass\u202eword', 'right-to-left override U+202E'],
    ['pass\tword', 'TAB'],
    ['pass\u007fword', 'DEL'],
    ['pass\u0001word', 'C0 control U+0001'],
    ['pass\nword', 'LF'],
    ['pass\ud800word', 'unpaired surrogate'],
    ['pass\uffffword', 'U+FFFF'],
    [' password', 'leading space'],
    ['password ', 'trailing space'],
    ['\u00a0password', 'leading no-break space'],
    ['password\u3000', 'trailing ideographic space'],
  ];

  for (const [bad, what] of BAD_PASSWORDS) {
    it(`refuses a SIP password with ${what}: 400 naming sipPassword, and the phones keep the old one`, async () => {
      const patch = await h.http.patch('/api/v1/users/1001').set('Authorization', h.auth).send({ sipPassword: bad });
      expect(patch.status, JSON.stringify(patch.body)).to.equal(400);
      expect(patch.body.error.message).to.match(/^sipPassword: /);
      expect(patch.body.error.details.fields[0].field).to.equal('sipPassword');
      expect(JSON.stringify(patch.body)).not.to.include(JSON.stringify(bad).slice(1, -1));

      const create = await h.http.post('/api/v1/users').set('Authorization', h.auth).send({ extension: '1002', displayName: 'Bob', sipPassword: bad });
      expect(create.status).to.equal(400);
      expect(create.body.error.message).to.match(/^sipPassword: /);
      expect((await h.http.get('/api/v1/users/1002').set('Authorization', h.auth)).status).to.equal(404);

      expect(await passwordsServed(h)).to.deep.equal(everywhere(PASSWORD));
    });
  }

  for (const good of [`s3cret!#&<>"'`, 'a = b; c # d % e', 'Pässwörd-€-日本-😀', 'in side  spaces']) {
    it(`a SIP password ${JSON.stringify(good)} reaches every vendor's config intact`, async () => {
      const patch = await h.http.patch('/api/v1/users/1001').set('Authorization', h.auth).send({ sipPassword: good });
      expect(patch.status, JSON.stringify(patch.body)).to.equal(200);
      expect(await passwordsServed(h)).to.deep.equal(everywhere(good));
    });
  }

  it('names that escaping would alter are refused naming the field; nothing changes', async () => {
    const before = (await h.http.get('/001565aabbcc.cfg').set('User-Agent', UA.yealink)).text;
    const cases: Array<[string, object, string]> = [
      ['/users/1001', { displayName: 'Alice\u0085Smith' }, 'displayName'],
      ['/users/1001', { displayName: 'Alice\u2028Smith' }, 'displayName'],
      ['/devices/001565aabbcc', { label: 'Desk\u2029 12' }, 'label'],
      ['/devices/001565aabbcc', { label: 'Desk\u0090 12' }, 'label'],
      ['/locations/1', { name: 'HQ\u2028' }, 'name'],
      ['/locations/1', { address: '1 Main St\u0085' }, 'address'],
      ['/locations/1', { address: '1 Main St\ud800' }, 'address'],
    ];
    for (const [path, body, field] of cases) {
      const r = await h.http.patch(`/api/v1${path}`).set('Authorization', h.auth).send(body);
      expect(r.status, `${path} ${JSON.stringify(body)}`).to.equal(400);
      expect(r.body.error.details.fields[0].field).to.equal(field);
    }
    expect((await h.http.get('/001565aabbcc.cfg').set('User-Agent', UA.yealink)).text).to.equal(before);
  });

  it('a name with an emoji sequence (zero-width joiners) is still accepted and served unchanged', async () => {
    const name = 'Ana \u{1F469}\u200D\u{1F4BB} Ruiz';
    const r = await h.http.patch('/api/v1/users/1001').set('Authorization', h.auth).send({ displayName: name });
    expect(r.status, JSON.stringify(r.body)).to.equal(200);
    const cfg = await h.http.get('/001565aabbcc.cfg').set('User-Agent', UA.yealink);
    expect(cfg.text).to.include(`account.1.display_name = ${name}`);
  });
});
