/**
 * MAC enumeration: one address scanning for MACs is blocked after 50 failures in 5 minutes, for
 * 15 minutes; fewer never block. Admins list and lift blocks; the block line suits fail2ban.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { createHarness, type Harness } from '../helpers/harness.js';

const SCANNER = '198.51.100.7';
const OFFICE = '203.0.113.20';
const MIN = 60_000;

describe('MAC enumeration defence', () => {
  let h: Harness;
  beforeEach(async () => {
    h = createHarness({ config: { http: { trustProxy: true } } });
    await h.http.post('/api/v1/users').set('Authorization', h.auth).send({ extension: '1001', displayName: 'Alice', sipPassword: 'sip-secret-1001' });
    await h.http.post('/api/v1/devices').set('Authorization', h.auth).send({ mac: '001565aabbcc', vendor: 'yealink', model: 'T46U', ownerExtension: '1001' });
  });
  afterEach(() => h.destroy());

  const probe = (i: number, ip = SCANNER) => h.http.get(`/0015650${i.toString(16).padStart(5, '0')}.cfg`).set('X-Forwarded-For', ip);
  const own = (ip = SCANNER) => h.http.get('/001565aabbcc.cfg').set('X-Forwarded-For', ip);

  it('49 failures never block; the 50th does: 429 with Retry-After for every file, other addresses unaffected', async () => {
    for (let i = 1; i <= 49; i++) expect((await probe(i)).status, `probe ${i}`).to.equal(404);
    expect((await own()).status).to.equal(200);
    expect((await probe(50)).status).to.equal(404);
    const blocked = await own();
    expect(blocked.status).to.equal(429);
    expect(blocked.headers['retry-after']).to.equal('900');
    expect(blocked.text).to.not.include('sip-secret-1001');
    expect((await own(OFFICE)).status).to.equal(200);
  });

  it('behind the proxy, the address is the one the proxy appended: a scanner cannot pick a fresh one per request', async () => {
    // A proxy appends the peer it saw; whatever the client sent comes first and is not believed.
    for (let i = 1; i <= 50; i++) expect((await probe(i, `10.9.${i}.1, ${SCANNER}`)).status, `probe ${i}`).to.equal(404);
    expect((await own(`10.0.0.1, ${SCANNER}`)).status).to.equal(429);
    expect((await own(`${SCANNER}, ${OFFICE}`)).status, 'a client claiming the scanner address is not blocked').to.equal(200);
    // The admin API takes the same address (Express trust proxy: one hop): wrong tokens sent with a
    // fresh made-up first entry each still add up against the address the proxy saw.
    const GUESSER = '192.0.2.66';
    for (let i = 1; i <= 50; i++) await h.http.get('/api/v1/devices').set('Authorization', `Bearer wrong-${i}-xxxxxxxxxxxxxxxxxxxx`).set('X-Forwarded-For', `10.8.${i}.1, ${GUESSER}`);
    const blocks = (await h.http.get('/api/v1/security/blocks').set('Authorization', h.auth)).body.blocks as { ip: string }[];
    expect(blocks.map((b) => b.ip).sort()).to.deep.equal([GUESSER, SCANNER].sort());
  });

  it('the window slides: 49 failures, 5 minutes pass, 49 more — still never blocked', async () => {
    for (let i = 1; i <= 49; i++) await probe(i);
    h.clock.advance(5 * MIN + 1000);
    for (let i = 50; i <= 98; i++) expect((await probe(i)).status).to.equal(404);
    expect((await own()).status).to.equal(200);
  });

  it('a block ends by itself after 15 minutes', async () => {
    for (let i = 1; i <= 50; i++) await probe(i);
    h.clock.advance(15 * MIN - 1000);
    expect((await own()).status).to.equal(429);
    expect((await own()).headers['retry-after']).to.equal('1');
    h.clock.advance(1000);
    expect((await own()).status).to.equal(200);
  });

  it('admins list blocks and lift them (audited); lifting an address that is not blocked is a 404', async () => {
    for (let i = 1; i <= 50; i++) await probe(i);
    const list = await h.http.get('/api/v1/security/blocks').set('Authorization', h.auth);
    expect(list.status).to.equal(200);
    expect(list.body.blocks).to.have.length(1);
    expect(list.body.blocks[0]).to.include({ ip: SCANNER, scope: 'phone', failures: 50 });
    expect(Date.parse(list.body.blocks[0].until) - Date.parse(list.body.blocks[0].since)).to.equal(15 * MIN);

    const lift = await h.http.delete(`/api/v1/security/blocks/${SCANNER}`).set('Authorization', h.auth);
    expect(lift.status).to.equal(204);
    expect((await own()).status).to.equal(200);
    expect((await h.http.get('/api/v1/security/blocks').set('Authorization', h.auth)).body.blocks).to.deep.equal([]);
    expect((await h.http.delete(`/api/v1/security/blocks/${SCANNER}`).set('Authorization', h.auth)).status).to.equal(404);
    expect((await h.http.delete('/api/v1/security/blocks/not-an-ip').set('Authorization', h.auth)).status).to.equal(400);

    const audit = await h.http.get('/api/v1/audit?action=security.unblock').set('Authorization', h.auth);
    expect(audit.body.entries).to.have.length(1);
    expect(audit.body.entries[0]).to.include({ actor: 'admin', target: `ip:${SCANNER}` });
  });

  it('a readonly token may list blocks but not lift them', async () => {
    const t = await h.http.post('/api/v1/tokens').set('Authorization', h.auth).send({ name: 'noc', role: 'readonly' });
    for (let i = 1; i <= 50; i++) await probe(i);
    const ro = `Bearer ${t.body.token as string}`;
    expect((await h.http.get('/api/v1/security/blocks').set('Authorization', ro)).status).to.equal(200);
    expect((await h.http.delete(`/api/v1/security/blocks/${SCANNER}`).set('Authorization', ro)).status).to.equal(403);
    expect((await own()).status).to.equal(429);
  });

  it('writes one block line that the documented fail2ban filter matches, naming the address', async () => {
    for (let i = 1; i <= 50; i++) await probe(i);
    const lines = h.logs.filter((l) => l.kind === 'ip-blocked');
    expect(lines).to.have.length(1);
    const line = JSON.stringify(lines[0]);
    // The filter in docs/security.md, with fail2ban's <HOST> as a named group.
    const doc = readFileSync(new URL('../../docs/security.md', import.meta.url), 'utf8');
    const failregex = /^failregex = (.+)$/m.exec(doc)?.[1];
    expect(failregex, 'failregex in docs/security.md').to.be.a('string');
    const re = new RegExp(failregex!.replace('<HOST>', '(?<host>[0-9A-Fa-f.:]+)'));
    expect(re.exec(line)?.groups?.host).to.equal(SCANNER);
    const datepattern = /^datepattern = (.+)$/m.exec(doc)?.[1];
    expect(datepattern).to.be.a('string');
    // Ordinary failures do not match: fail2ban bans on deskprov's own decision only.
    for (const other of h.logs.filter((l) => l.kind === 'unknown-mac').slice(0, 3)) expect(re.test(JSON.stringify(other))).to.equal(false);
  });
});
