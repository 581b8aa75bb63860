/**
 * What `npm start` runs: the build (`npm run build`, TypeScript compiled into dist/) with the
 * start script's Node flags. The compiled process finds its own files from dist/ (migrations,
 * vendor templates, the console's pages), starts a phone worker and the fetch-log thread from
 * their compiled modules, serves a phone, records its fetch and stops cleanly on SIGTERM.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDeskprovProcess, startScript, type DeskprovProcess } from '../helpers/process.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TOKEN = 'start-build-admin-token-0123456789';
const MAC = '001565aabb01';
const YEALINK_UA = 'Yealink SIP-T46U 108.86.0.90 00:15:65:aa:bb:01';

describe('npm start: the compiled build', function () {
  this.timeout(120_000);
  let server: DeskprovProcess | undefined;
  const url = (path: string) => `http://127.0.0.1:${server!.port}${path}`;
  const api = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(url(`/api/v1${path}`), {
      method,
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    expect(r.status, `${method} ${path}`).to.be.oneOf([200, 201]);
    return (await r.json()) as Record<string, unknown>;
  };

  before(async () => {
    execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'pipe' });
    const { program, flags, entry } = startScript();
    expect(program).to.equal('node');
    expect(entry).to.deep.equal(['dist/server/main.js']);
    expect(existsSync(join(ROOT, entry[0]!)), 'the build wrote the entry').to.equal(true);
    server = await startDeskprovProcess({
      prefix: 'deskprov-build-',
      token: TOKEN,
      nodeArgs: flags,
      entry,
      config: { http: { phoneWorkers: 1 }, provisioning: { fetchLogThread: true } },
    });
  });

  after(() => server?.destroy());

  it('runs from dist/ with the phone worker up, applies the migrations and serves the console', async () => {
    const ready = async () => ((await (await fetch(url('/healthz'))).json()) as { phoneWorkers?: { accepting: number } }).phoneWorkers?.accepting === 1;
    for (let i = 0; i < 600 && !(await ready()); i++) await new Promise((r) => setTimeout(r, 100));
    expect(await ready(), 'the phone worker accepts phones').to.equal(true);
    const admin = await fetch(url('/admin/'), { redirect: 'manual' });
    const page = admin.status === 200 ? admin : await fetch(url('/admin/login'));
    expect(page.status).to.equal(200);
    expect(await page.text()).to.match(/<html/i);
    // Tables from the migrations: a location, a user and a device can be added.
    await api('POST', '/locations', { name: 'HQ', emergencyNumbers: ['911'] });
    await api('POST', '/users', { extension: '1001', displayName: 'Alice', sipPassword: 's3cret-alice' });
    await api('POST', '/devices', { mac: MAC, vendor: 'yealink', model: 'T46U', ownerExtension: '1001', locationId: 1 });
  });

  it('renders the phone its config from the shipped vendor template and records the fetch', async () => {
    const res = await fetch(url(`/${MAC}.cfg`), { headers: { 'User-Agent': YEALINK_UA } });
    expect(res.status).to.equal(200);
    const config = await res.text();
    expect(config.startsWith('#!version:1.0.0.1')).to.equal(true);
    expect(config).to.include('account.1.user_name = 1001');
    let fetches: unknown[] = [];
    for (let i = 0; i < 100 && fetches.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      fetches = (await api('GET', `/devices/${MAC}`)).fetches as unknown[];
    }
    expect(fetches, 'the fetch reached the log through the writer thread').to.have.length(1);
  });

  it('stops on SIGTERM with exit code 0', async () => {
    const child = server!.child;
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).to.equal(0);
    expect(server!.stderr()).to.not.match(/Error|Cannot find/);
  });
});
