/**
 * What an operator sees: Prometheus metrics at GET /metrics, JSON access logs with request ids,
 * phone requests only at debug, and no secret (PIN, SIP password, token) in any log line.
 */
import { expect } from 'chai';
import { ADMIN_TOKEN, createHarness, type Harness } from '../helpers/harness.js';
import { login, MAC, ok, PIN, SIP_PASSWORD, seedOffice } from '../helpers/hotdesk.js';

const YEALINK_UA = 'Yealink SIP-T46U 108.86.0.20 00:15:65:aa:bb:01';
/** The same phone model without a MAC in its User-Agent (asks for MACs deskprov does not know). */
const NO_MAC_UA = 'Yealink SIP-T46U 108.86.0.20';

/** The value of one sample line (`name{labels} value`) in an exposition text. */
function sample(text: string, name: string, labels = ''): number | null {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    const key = line.slice(0, at);
    if (key === `${name}${labels ? `{${labels}}` : ''}`) return Number(line.slice(at + 1));
  }
  return null;
}

describe('observability', () => {
  let h: Harness;
  beforeEach(async () => {
    h = createHarness();
    await seedOffice(h);
  });
  afterEach(() => h.destroy());

  describe('GET /metrics', () => {
    it('counts phone requests by vendor, kind and status, cache hits and misses, render time', async () => {
      const fetch = () => h.http.get(`/${MAC.A}.cfg`).set('User-Agent', YEALINK_UA);
      expect((await fetch()).status).to.equal(200);
      expect((await fetch()).status).to.equal(200);
      expect((await h.http.get('/001565ffffff.cfg').set('User-Agent', NO_MAC_UA)).status).to.equal(404);
      expect((await h.http.get(`/${MAC.A}.boot`).set('User-Agent', YEALINK_UA)).status).to.equal(404);
      // A vendor file no template renders (Yealink's common boot file) is no cache miss.
      expect((await h.http.get('/y000000000000.boot').set('User-Agent', YEALINK_UA)).status).to.equal(404);

      const r = await h.http.get('/metrics');
      expect(r.status).to.equal(200);
      expect(r.headers['content-type']).to.match(/^text\/plain; version=0\.0\.4/);
      const text = r.text;
      expect(sample(text, 'deskprov_phone_requests_total', 'vendor="yealink",kind="device",status="200"')).to.equal(2);
      expect(sample(text, 'deskprov_phone_requests_total', 'vendor="none",kind="none",status="404"')).to.equal(1);
      expect(sample(text, 'deskprov_phone_requests_total', 'vendor="yealink",kind="device",status="404"')).to.equal(1);
      expect(sample(text, 'deskprov_phone_requests_total', 'vendor="yealink",kind="common",status="404"')).to.equal(1);
      expect(sample(text, 'deskprov_render_cache_hits_total')).to.equal(1);
      expect(sample(text, 'deskprov_render_cache_misses_total')).to.equal(1);
      expect(sample(text, 'deskprov_render_duration_seconds_count', 'vendor="yealink"')).to.equal(1);
      expect(sample(text, 'deskprov_phone_request_duration_seconds_count')).to.equal(5);
      expect(sample(text, 'deskprov_render_cache_entries')).to.equal(1);
      // The fetch records of those requests, written to the fetch log or still waiting.
      expect(sample(text, 'deskprov_fetch_records_pending')).to.be.within(0, 5);
      // Process metrics come along (own registry, prefixed).
      expect(sample(text, 'deskprov_process_resident_memory_bytes')).to.be.greaterThan(0);
    });

    it('shows outbox depth, active sessions, blocked IPs and the NOTIFY counter others increment', async () => {
      ok(await login(h, MAC.B, '200', PIN['200']));
      h.ctx.metrics.notifies.inc({ result: 'ok' });
      h.ctx.metrics.notifies.inc({ result: 'timeout' });
      h.ctx.metrics.notifies.inc({ result: 'ok' });
      for (let i = 0; i < 50; i++) await h.http.get(`/001565ff${String(i).padStart(4, '0')}.cfg`).set('User-Agent', NO_MAC_UA);

      const text = (await h.http.get('/metrics')).text;
      expect(sample(text, 'deskprov_active_sessions')).to.equal(1);
      expect(sample(text, 'deskprov_outbox_depth')).to.equal(h.ctx.stores.outbox.depth()).and.to.be.greaterThan(0);
      expect(sample(text, 'deskprov_blocked_ips')).to.equal(1);
      expect(sample(text, 'deskprov_notifies_total', 'result="ok"')).to.equal(2);
      expect(sample(text, 'deskprov_notifies_total', 'result="timeout"')).to.equal(1);
    });

    it('wants the bearer token when metrics.token is set, and each app has its own registry', async () => {
      const token = 'metrics-token-0123456789';
      const other = createHarness({ config: { metrics: { token } } });
      try {
        expect((await other.http.get('/metrics')).status).to.equal(401);
        expect((await other.http.get('/metrics').set('Authorization', 'Bearer wrong-token-0123456789')).status).to.equal(401);
        // The admin token is not the metrics token.
        expect((await other.http.get('/metrics').set('Authorization', other.auth)).status).to.equal(401);
        const r = await other.http.get('/metrics').set('Authorization', `Bearer ${token}`);
        expect(r.status).to.equal(200);
        // A fresh app: none of the first app's phone requests show up here.
        expect(sample(r.text, 'deskprov_render_cache_misses_total')).to.equal(0);
      } finally {
        other.destroy();
      }
    });
  });

  describe('logs', () => {
    it('logs admin requests at info with a request id, method, path, status and time', async () => {
      const r = await h.http.get('/api/v1/users?extension=100').set('Authorization', h.auth);
      ok(r);
      const id = r.headers['x-request-id'];
      const line = h.logs.find((l) => l.msg === 'request' && l.reqId === id);
      expect(line, 'access log line').to.not.equal(undefined);
      expect(line).to.include({ level: 30, method: 'GET', path: '/api/v1/users', status: 200 });
      expect(line?.ms).to.be.a('number');
    });

    it('logs phone requests at debug only', async () => {
      h.logs.length = 0;
      await h.http.get(`/${MAC.A}.cfg`).set('User-Agent', YEALINK_UA);
      const phone = h.logs.filter((l) => l.msg === 'phone request');
      expect(phone).to.have.length(1);
      expect(phone[0]).to.include({ level: 20, method: 'GET', path: `/${MAC.A}.cfg`, status: 200, vendor: 'yealink', kind: 'device' });
      expect(h.logs.filter((l) => l.msg === 'request')).to.have.length(0);
    });

    it('never writes a PIN, SIP password or token, whichever way it came in', async () => {
      const secrets = {
        adminToken: ADMIN_TOKEN,
        pin: '864209',
        sipPassword: 'Zq7-sip-password-never-logged',
        wrongToken: 'wrong-token-that-is-also-secret-1234',
        loginPin: PIN['200'],
        ownerSip: SIP_PASSWORD('100'),
      };
      const post = (path: string, body: object) => h.http.post(path).set('Authorization', h.auth).send(body);
      ok(await post('/api/v1/users', { extension: '555', displayName: 'Sam Secret', sipPassword: secrets.sipPassword, pin: secrets.pin }), 201);
      ok(await login(h, MAC.B, '200', secrets.loginPin));
      expect((await login(h, MAC.D, '300', '000000')).status).to.equal(401);
      expect((await h.http.get('/api/v1/users').set('Authorization', `Bearer ${secrets.wrongToken}`)).status).to.equal(401);
      // The phone login screen: Yealink sends the PIN in the query string.
      await h.http.get(`/phone/yealink/${MAC.D}/login?extension=555&pin=${secrets.pin}`);
      // A phone fetching its config (which holds a SIP password) at debug level.
      await h.http.get(`/${MAC.A}.cfg`).set('User-Agent', YEALINK_UA).set('Authorization', `Bearer ${secrets.wrongToken}`);
      // An error line with an object that carries secrets by key.
      h.ctx.log.error({ user: { pin: secrets.pin, sipPassword: secrets.sipPassword }, headers: { authorization: `Bearer ${secrets.adminToken}` } }, 'something failed');

      expect(h.logs.length).to.be.greaterThan(5);
      const text = h.logs.map((l) => JSON.stringify(l)).join('\n');
      for (const [name, value] of Object.entries(secrets)) expect(text.includes(value), `${name} in the logs`).to.equal(false);
      expect(text).to.include('[redacted]');
    });
  });
});
