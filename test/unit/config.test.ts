import { expect } from 'chai';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { ConfigError, configSchema, loadConfig, parseConfig } from '../../server/config.js';

const example = JSON.parse(readFileSync(new URL('../../config.example.json', import.meta.url), 'utf8')) as Record<string, unknown>;

function leafKeys(o: unknown, prefix = ''): string[] {
  if (!o || typeof o !== 'object' || Array.isArray(o)) return [prefix];
  return Object.entries(o).flatMap(([k, v]) => (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0 ? leafKeys(v, `${prefix}${k}.`) : [`${prefix}${k}`]));
}

/** The object schema under default/prefault/optional/nullable wrappers, or null when it is no object. */
function objectShape(schema: unknown): Record<string, unknown> | null {
  let s = schema as { _zod: { def: { type: string; innerType?: unknown } }; shape?: Record<string, unknown> };
  while (s._zod.def.innerType !== undefined) s = s._zod.def.innerType as typeof s;
  return s._zod.def.type === 'object' && s.shape ? s.shape : null;
}

/**
 * Schema keys missing from the example, read from the schema itself (so optional keys without a
 * default, such as admin.token, count too). Recurses where the example holds an object; a section
 * the example sets to null (http.tls: off by default) is documented by that null.
 */
function undocumented(shape: Record<string, unknown>, doc: unknown, prefix = ''): string[] {
  const here = doc && typeof doc === 'object' && !Array.isArray(doc) ? (doc as Record<string, unknown>) : {};
  return Object.entries(shape).flatMap(([key, sub]) => {
    if (!(key in here)) return [`${prefix}${key}`];
    const inner = objectShape(sub);
    const value = here[key];
    return inner && value && typeof value === 'object' && !Array.isArray(value) ? undocumented(inner, value, `${prefix}${key}.`) : [];
  });
}

describe('config', () => {
  it('starts with no config file at all, on the CONTRACT defaults', () => {
    const c = parseConfig({});
    expect(c.http).to.include({ host: '0.0.0.0', port: 8080 });
    expect(c.database.path).to.equal('./data/deskprov.db');
    expect(c.sip).to.include({ bindHost: '0.0.0.0', port: 5070, phonePort: 5060, maxNotifiesPerSecond: 20 });
    expect(c.hotdesk).to.include({ sessionTimeout: '12h', multipleLogin: 'logout-previous', maxDevicesPerUser: 4, pinMinLength: 4, pinMaxAttempts: 5, pinLockout: '15m' });
    expect(c.provisioning.baseUrl).to.equal('http://127.0.0.1:8080/');
    expect(Object.isFrozen(c.http)).to.equal(true);
  });

  it('config.example.json is valid and documents every key the server knows', () => {
    const parsed = parseConfig(example);
    const known = leafKeys(parseConfig({})).filter((k) => !k.startsWith('provisioning.baseUrl'));
    const documented = new Set(leafKeys(example));
    const missing = known.filter((k) => ![...documented].some((d) => d === k || d.startsWith(`${k}.`)));
    expect(missing, 'keys missing from config.example.json').to.deep.equal([]);
    expect(parsed.pbx.host).to.equal('pbx.example.com');
  });

  it('config.example.json has every section and key of the schema, and nothing else', () => {
    // parseConfig is strict: a key in the example that the schema lacks fails here.
    expect(() => parseConfig(example)).not.to.throw();
    expect(Object.keys(example).sort(), 'top-level sections').to.deep.equal(Object.keys(configSchema.shape).sort());
    expect(undocumented(configSchema.shape, example), 'schema keys missing from config.example.json').to.deep.equal([]);
  });

  it('config.example.json shows the schema defaults, except where it shows a site value', () => {
    // Values an example has to make up (a URL, a token, a time zone) differ on purpose.
    const siteValues = new Set(['admin.token', 'provisioning.baseUrl', 'provisioning.timeZone', 'sip.events']);
    const defaults = parseConfig({}) as unknown as Record<string, Record<string, unknown>>;
    const diffs: string[] = [];
    for (const [section, keys] of Object.entries(example as Record<string, Record<string, unknown>>)) {
      for (const [key, value] of Object.entries(keys)) {
        if (siteValues.has(`${section}.${key}`)) continue;
        if (JSON.stringify(defaults[section]?.[key]) !== JSON.stringify(value)) diffs.push(`${section}.${key}`);
      }
    }
    expect(diffs, 'example values that are not the default').to.deep.equal([]);
  });

  for (const [raw, key] of [
    [{ htp: {} }, 'htp: unknown key'],
    [{ http: { port: '8080' } }, 'http.port'],
    [{ http: { port: 70000 } }, 'http.port'],
    [{ hotdesk: { sessionTimeout: '12 hours' } }, 'hotdesk.sessionTimeout'],
    [{ hotdesk: { pinLockout: '0' } }, 'hotdesk.pinLockout'],
    // Past what a Date can hold once added to the clock: every login (or lock) would fail.
    [{ hotdesk: { sessionTimeout: '99999999d' } }, 'hotdesk.sessionTimeout'],
    [{ hotdesk: { pinLockout: '999999999h' } }, 'hotdesk.pinLockout'],
    [{ hotdesk: { dailyLogoutAt: '25:00' } }, 'hotdesk.dailyLogoutAt'],
    [{ hotdesk: { multipleLogin: 'sometimes' } }, 'hotdesk.multipleLogin'],
    [{ pbx: { transport: 'sctp' } }, 'pbx.transport'],
    [{ provisioning: { timeZone: 'Mars/Olympus' } }, 'provisioning.timeZone'],
    [{ sip: { events: { yealink: '' } } }, 'sip.events.yealink'],
    [{ sip: { advertiseHost: 'prov.example.com\r\nX-Evil: 1' } }, 'sip.advertiseHost'],
    [{ sip: { advertiseHost: '0.0.0.0' } }, 'sip.advertiseHost'],
    // Tokens travel in an Authorization header: one the API's Bearer parsing cannot carry would never work.
    [{ admin: { token: 'a token with spaces in it' } }, 'admin.token'],
    [{ admin: { token: 'not-a-bearer-token!!!!' } }, 'admin.token'],
    [{ admin: { token: 'admin-token-with-\u200b-zero-width' } }, 'admin.token'],
    [{ metrics: { token: 'metrics token with spaces' } }, 'metrics.token'],
    [{ metrics: { token: 'metrics-token-\u00e4\u00f6\u00fc-umlauts' } }, 'metrics.token'],
  ] as const) {
    it(`refuses ${JSON.stringify(raw)} naming ${key}`, () => {
      expect(() => parseConfig(raw)).to.throw(ConfigError, key);
    });
  }

  it('environment overrides win over the file and are validated', () => {
    const c = parseConfig({ http: { port: 1 } }, { DESKPROV_HTTP_PORT: '9090', DESKPROV_DB: '/tmp/x.db', DESKPROV_SIP_PORT: '5080', DESKPROV_ADMIN_TOKEN: 'a-long-enough-admin-token' });
    expect(c.http.port).to.equal(9090);
    expect(c.database.path).to.equal('/tmp/x.db');
    expect(c.sip.port).to.equal(5080);
    expect(c.admin.token).to.equal('a-long-enough-admin-token');
    expect(() => parseConfig({}, { DESKPROV_HTTP_PORT: 'eighty' })).to.throw(ConfigError, 'DESKPROV_HTTP_PORT');
    expect(() => parseConfig({}, { DESKPROV_ADMIN_TOKEN: 'an admin token with spaces' })).to.throw(ConfigError, 'admin.token');
  });

  for (const [raw, env, key] of [
    [{ http: { port: 'eighty' } }, { DESKPROV_HTTP_PORT: '18101' }, 'http.port'],
    [{ database: { path: 5 } }, { DESKPROV_DB: '/tmp/x.db' }, 'database.path'],
    [{ sip: { port: 'x' } }, { DESKPROV_SIP_PORT: '5080' }, 'sip.port'],
    [{ http: { host: '' } }, { DESKPROV_HTTP_HOST: '127.0.0.1' }, 'http.host'],
    [{ admin: { token: 'short' } }, { DESKPROV_ADMIN_TOKEN: 'a-long-enough-admin-token' }, 'admin.token'],
    [{ http: 5 }, { DESKPROV_HTTP_PORT: '18101' }, 'http'],
  ] as const) {
    it(`refuses ${JSON.stringify(raw)} even when ${Object.keys(env)[0]} overrides that key`, () => {
      expect(() => parseConfig(raw, env)).to.throw(ConfigError, `${key}: `);
    });
  }

  it('loadConfig refuses a wrong type in the file although the environment overrides it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'deskprov-cfg-'));
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ http: { port: 'eighty' } }));
    expect(() => loadConfig(file, { DESKPROV_HTTP_PORT: '18101' })).to.throw(ConfigError, 'http.port');
    writeFileSync(file, JSON.stringify({ http: { port: 1 } }));
    expect(loadConfig(file, { DESKPROV_HTTP_PORT: '18101' }).http.port).to.equal(18101);
  });

  it('names the file when it is not JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'deskprov-cfg-'));
    const file = join(dir, 'bad.json');
    writeFileSync(file, '{ "http": ');
    expect(() => loadConfig(file, {})).to.throw(ConfigError, 'not valid JSON');
    expect(() => loadConfig(join(dir, 'missing.json'), {})).to.throw(ConfigError, 'ENOENT');
  });

  it('a bad config stops `npm start` with a message naming the key and a non-zero exit', function () {
    this.timeout(30000);
    const dir = mkdtempSync(join(tmpdir(), 'deskprov-cfg-'));
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ hotdesk: { sessionTimeout: 'forever' }, database: { path: join(dir, 'db.sqlite') } }));
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'server/main.ts', '--config', file], { encoding: 'utf8', timeout: 25000 });
    expect(r.status).to.equal(2);
    expect(r.stderr).to.include('hotdesk.sessionTimeout');
  });

  it('a wrong type in the file stops `npm start` with exit 2 even when an env var overrides that key', function () {
    this.timeout(30000);
    const dir = mkdtempSync(join(tmpdir(), 'deskprov-cfg-'));
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ http: { port: 'eighty' }, database: { path: join(dir, 'db.sqlite') } }));
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'server/main.ts', '--config', file], {
      encoding: 'utf8',
      timeout: 25000,
      killSignal: 'SIGKILL', // a server that started (the bug) is stopped, not left to shut down gracefully
      env: { ...process.env, DESKPROV_HTTP_PORT: '0', DESKPROV_SIP_PORT: '0', DESKPROV_ADMIN_TOKEN: 'a-long-enough-admin-token' },
    });
    expect(r.status, r.stderr).to.equal(2);
    expect(r.stderr).to.include('http.port');
  });
});
