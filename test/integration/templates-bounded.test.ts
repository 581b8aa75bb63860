/**
 * A template cannot take the server down. The real process, started with the heap limits of
 * `npm start`, on a temp database and port: a readonly token previews (and an admin saves) the
 * security review's template, 11 nested loops over the emergency slots (about 500 bytes; it used
 * to block the event loop, then kill the process out of memory). Each answers a 400 at once,
 * and a phone is served straight after.
 */
import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import { startDeskprovProcess, startScript, type DeskprovProcess } from '../helpers/process.js';

const TOKEN = 'bounded-test-admin-token-0123456789';
const MAC = '001565aabbcc';
const YEALINK_UA = 'Yealink SIP-T46U 108.86.0.90 00:15:65:aa:bb:cc';

/** The V8 flags `npm start` runs with (the heap cap the crash was seen under). */
function startFlags(): string[] {
  const flags = startScript().flags.filter((a) => /^--max-(old|semi)-space-size=\d+$/.test(a));
  expect(flags, 'heap flags in the start script').to.have.length(2);
  return flags;
}

const nestedLoops = (depth: number) => '{{#each @root.emergency.slots}}x'.repeat(depth) + '{{/each}}'.repeat(depth);
/** The reproduction from the review. */
const REVIEW_TEMPLATE = `#!version:1.0.0.1\n# ${nestedLoops(11)}\n`;
/** Nested only 4 deep (allowed), but 13 times over: 13 × 780 iterations per render. */
const MANY_LOOPS = `#!version:1.0.0.1\n${Array.from({ length: 13 }, () => `# ${nestedLoops(4)}\n`).join('')}`;


describe('templates: bounded rendering (real process, production heap limits)', function () {
  this.timeout(90_000);
  let server: DeskprovProcess | undefined;
  let child: ChildProcess;
  let port: number;
  let readonly = '';

  const url = (path: string) => `http://127.0.0.1:${port}${path}`;
  const api = async (method: string, path: string, body: unknown, token = TOKEN) => {
    const r = await fetch(url(`/api/v1${path}`), {
      method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(r.status, `${method} ${path}`).to.be.oneOf([200, 201]);
    return (await r.json()) as Record<string, unknown>;
  };
  /** Template text to the API. Time-limited so a hanging server fails the test instead of mocha. */
  const sendTemplate = (method: 'POST' | 'PUT', path: string, text: string, token: string) =>
    fetch(url(`/api/v1/templates/${path}`), {
      method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'text/plain' },
      body: text,
      signal: AbortSignal.timeout(30_000),
    }).catch((e: unknown) => {
      throw new Error(`no answer from deskprov (${String(e)}; exit code ${child.exitCode}): ${/FATAL ERROR[^\n]*/.exec(server?.stderr() ?? '')?.[0] ?? server?.stderr().slice(-300)}`);
    });
  const phoneConfig = () => fetch(url(`/${MAC}.cfg`), { headers: { 'User-Agent': YEALINK_UA }, signal: AbortSignal.timeout(10_000) });

  before(async () => {
    server = await startDeskprovProcess({ prefix: 'deskprov-bounded-', token: TOKEN, nodeArgs: startFlags() });
    ({ child, port } = server);

    await api('POST', '/locations', { name: 'HQ', emergencyNumbers: ['911'] });
    await api('POST', '/users', { extension: '1001', displayName: 'Alice', sipPassword: 's3cret-alice' });
    await api('POST', '/devices', { mac: MAC, vendor: 'yealink', model: 'T46U', ownerExtension: '1001', locationId: 1 });
    readonly = String((await api('POST', '/tokens', { name: 'noc', role: 'readonly' })).token);
  });

  after(() => server?.destroy());

  it('a readonly preview of 11 nested loops answers 400 at once, and the phone is served right after', async () => {
    const before = await phoneConfig();
    expect(before.status).to.equal(200);
    const config = await before.text();

    const started = Date.now();
    const r = await sendTemplate('POST', 'yealink/device/preview', REVIEW_TEMPLATE, readonly);
    expect(r.status).to.equal(400);
    expect(Date.now() - started, 'preview answered within seconds').to.be.below(5000);
    const body = (await r.json()) as { error: { code: string; details: { line: number; reason: string } } };
    expect(body.error.code).to.equal('invalid_template');
    expect(body.error.details).to.include({ line: 2, reason: 'loops nested more than 4 deep' });

    const after = await phoneConfig();
    expect(after.status).to.equal(200);
    expect(await after.text()).to.equal(config);
    expect(child.exitCode, server?.stderr()).to.equal(null);
  });

  it('an admin save of it answers 400 and keeps the phone\'s config; loops past the budget are refused too', async () => {
    const config = await (await phoneConfig()).text();
    const saved = await sendTemplate('PUT', 'yealink/device', REVIEW_TEMPLATE, TOKEN);
    expect(saved.status).to.equal(400);
    expect(((await saved.json()) as { error: { code: string } }).error.code).to.equal('invalid_template');

    // Allowed nesting, but more iterations than one render may run: refused when rendered.
    for (const [method, path, token] of [['POST', 'yealink/device/preview', readonly], ['PUT', 'yealink/device', TOKEN]] as const) {
      const r = await sendTemplate(method, path, MANY_LOOPS, token);
      expect(r.status, `${method} ${path}`).to.equal(400);
      const body = (await r.json()) as { error: { code: string; details: { reason: string } } };
      expect(body.error.code).to.equal('invalid_template');
      expect(body.error.details.reason).to.match(/^loops ran more than 10000 times in one render/);
    }

    const after = await phoneConfig();
    expect(after.status).to.equal(200);
    expect(await after.text()).to.equal(config);
    expect((await fetch(url('/healthz'))).status).to.equal(200);
    expect(child.exitCode, server?.stderr()).to.equal(null);
  });
});
