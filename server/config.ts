/**
 * Configuration: one zod schema, loaded from an optional JSON file plus DESKPROV_* environment
 * overrides, validated once at start-up and frozen. Unknown keys, wrong types and impossible
 * values stop start-up with a message that names the key.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parseDuration } from './domain/duration.js';
import { isCidr } from './services/network-allowlist.js';
import { isWildcardAddress } from './sip/local-address.js';
import { isSipHost, parseSipUri } from './sip/uri.js';

const duration = (allowZero = true) =>
  z.string().refine((s) => {
    const ms = parseDuration(s);
    return ms !== null && (allowZero || ms > 0);
  }, { message: allowZero ? 'expected a duration like "90s", "15m", "12h" or "0", at most "36500d"' : 'expected a positive duration like "90s", "15m", "12h", at most "36500d"' });

const port = z.number().int().min(0).max(65535);
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected local time "HH:MM"');
const transport = z.enum(['udp', 'tcp', 'tls']);

const vendorEvents = z.strictObject({
  yealink: z.string().min(1).max(100).optional(),
  polycom: z.string().min(1).max(100).optional(),
  'sangoma-p': z.string().min(1).max(100).optional(),
  'sangoma-s': z.string().min(1).max(100).optional(),
}).catchall(z.string().min(1).max(100));

export const configSchema = z.strictObject({
  http: z.strictObject({
    host: z.string().min(1).default('0.0.0.0'),
    port: port.default(8080),
    /** listen(2) backlog: Node's default 511 overflows in a boot storm; see README. */
    backlog: z.number().int().min(1).max(65535).default(4096),
    /**
     * Handles accepting on the listening socket: Node 20 accepts one connection per handle per
     * event-loop turn, so a burst of new connections queues behind busy turns (server/http/acceptors.ts).
     */
    acceptors: z.number().int().min(1).max(1024).default(64),
    /**
     * Extra processes answering phone file requests on the same socket (server/cluster/), for
     * machines with more cores than one: 0 keeps everything in one process.
     */
    phoneWorkers: z.number().int().min(0).max(64).default(0),
    /**
     * Plain-HTTP phone file requests answered straight from the socket (server/http/phone-lane.ts);
     * false sends every request through node:http.
     */
    phoneLane: z.boolean().default(true),
    /**
     * Before taking phones, each phone-serving process answers a few thousand requests of its own
     * for a few devices' files, so the first boot storm after a start meets compiled code
     * (server/http/warm-up.ts; about half a second). Nothing of it is kept, recorded or counted.
     */
    warmUp: z.boolean().default(true),
    /** Upper bound of a phone upload (Polycom PUT) body. */
    maxUploadBytes: z.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024),
    /** Per-device cap of appended Polycom logs; oldest bytes are dropped. */
    maxLogBytesPerDevice: z.number().int().min(1024).max(64 * 1024 * 1024).default(512 * 1024),
    trustProxy: z.boolean().default(false),
    /** HTTPS listener, optionally with mutual TLS against vendor CA bundles (docs/security.md). */
    tls: z.strictObject({
      host: z.string().min(1).optional(),
      port: port.default(8443),
      cert: z.string().min(1),
      key: z.string().min(1),
      clientCa: z.array(z.string().min(1)).max(32).default([]),
      requireClientCert: z.boolean().default(false),
    }).refine((t) => !t.requireClientCert || t.clientCa.length > 0, { message: 'requireClientCert needs clientCa (the vendor CA bundles)' })
      .nullable().default(null),
  }).prefault({}),
  database: z.strictObject({
    path: z.string().min(1).default('./data/deskprov.db'),
    /**
     * WAL checkpoints and stored-render writes on a thread of their own, not on the event loop
     * (server/services/database-thread.ts; 15-25 MB of RSS). With provisioning.fetchLogThread that
     * thread checkpoints and this one only writes renders.
     */
    backgroundThread: z.boolean().default(true),
  }).prefault({}),
  admin: z.strictObject({
    /** Sent as `Authorization: Bearer <token>`: only the characters that header carries (server/http/auth.ts). */
    token: z
      .string()
      .min(16, 'the admin token must be at least 16 characters')
      .max(256)
      .regex(/^[A-Za-z0-9._~+/=-]+$/, 'the admin token may hold only letters, digits and . _ ~ + / = - (what an Authorization: Bearer header carries)')
      .optional(),
  }).prefault({}),
  pbx: z.strictObject({
    host: z.string().min(1).default('pbx.example.com'),
    port: port.default(5060),
    transport: transport.default('udp'),
  }).prefault({}),
  provisioning: z.strictObject({
    baseUrl: z.url({ protocol: /^https?$/ }).optional(),
    autoRegister: z.boolean().default(false),
    timeZone: z.string().default('UTC').refine(isTimeZone, 'unknown IANA time zone'),
    ntpServer: z.string().min(1).default('pool.ntp.org'),
    /** Bytes of rendered phone files kept in memory (LRU), in MB; see docs/operations.md. */
    renderCacheMb: z.number().int().min(1).max(4096).default(32),
    /** Render device files ahead of fetches (start-up catch-up, after changes); see docs/operations.md. */
    prerender: z.boolean().default(true),
    /**
     * Write fetch records on a worker thread with its own database connection (off: a slice per
     * event-loop turn on the main thread). Takes the writes off the event loop, for a lower p99
     * under heavy load; costs about 25 MB of memory at 100,000 devices. See docs/operations.md.
     */
    fetchLogThread: z.boolean().default(false),
    /**
     * A phone asking for the same file again with the same answer within this long of the first
     * such fetch adds no fetch-log row: that row counts it (server/services/fetch-folds.ts).
     * "0": a row for every fetch.
     */
    fetchLogRepeatWindow: duration().default('60s'),
  }).prefault({}),
  sip: z.strictObject({
    bindHost: z.string().min(1).default('0.0.0.0'),
    /**
     * The host NOTIFYs name as theirs (Via, From, Contact), e.g. the public address behind NAT.
     * null: bindHost, or when that is a wildcard the local address that reaches each phone.
     */
    advertiseHost: z.string().refine((s) => isSipHost(s) && !isWildcardAddress(s), { message: 'expected the IP address or hostname phones reach deskprov at (not a wildcard like 0.0.0.0)' })
      .nullable().default(null),
    port: port.default(5070),
    phonePort: port.default(5060),
    maxNotifiesPerSecond: z.number().positive().max(10_000).default(20),
    outboundProxy: z.string().min(1).refine((s) => parseSipUri(s) !== null, { message: 'expected a SIP URI like "sip:pbx.example.com:5060;transport=tcp"' })
      .nullable().default(null),
    /** Tries of one queued resync that gets no answer (408) or cannot connect (503) before it is given up. */
    maxAttempts: z.number().int().min(1).max(100).default(10),
    /** A phone that answered a NOTIFY but did not fetch within this time is flagged stale. */
    staleAfter: duration(false).default('5m'),
    events: vendorEvents.default({}),
  }).prefault({}),
  hotdesk: z.strictObject({
    sessionTimeout: duration().default('12h'),
    dailyLogoutAt: hhmm.nullable().default(null),
    sweepCron: z.string().min(1).default('* * * * *'),
    multipleLogin: z.enum(['logout-previous', 'deny', 'allow']).default('logout-previous'),
    maxDevicesPerUser: z.number().int().min(1).max(1000).default(4),
    pinMinLength: z.number().int().min(4).max(12).default(4),
    pinMaxAttempts: z.number().int().min(1).max(100).default(5),
    pinLockout: duration(false).default('15m'),
    requireLocation: z.boolean().default(false),
  }).prefault({}),
  security: z.strictObject({
    enumeration: z.strictObject({
      maxFailures: z.number().int().min(1).default(50),
      window: duration(false).default('5m'),
      blockFor: duration(false).default('15m'),
    }).prefault({}),
    /** Per-device download credentials (docs/security.md: off → provision → enforce). */
    downloadAuth: z.strictObject({
      defaultMode: z.enum(['off', 'provision', 'enforce']).default('off'),
      realm: z.string().regex(/^[A-Za-z0-9 ._@-]{1,64}$/, 'expected 1–64 letters, digits, space or . _ @ -').default('deskprov'),
      nonceLifetime: duration(false).default('5m'),
      allowBasic: z.boolean().default(true),
      newDeviceGrace: duration().default('1h'),
    }).prefault({}),
    /** CIDRs phones may download from; empty: anywhere. */
    allowlist: z.array(z.string().refine(isCidr, { message: 'expected a CIDR like "10.0.0.0/8" or an IP address' })).max(1000).default([]),
    /** Failed admin API tokens per IP before 429 (same shape as enumeration). */
    adminAuth: z.strictObject({
      maxFailures: z.number().int().min(1).default(20),
      window: duration(false).default('5m'),
      blockFor: duration(false).default('15m'),
    }).prefault({}),
  }).prefault({}),
  /** Prometheus scrape endpoint GET /metrics (docs/operations.md). */
  metrics: z.strictObject({
    /** When set, /metrics wants `Authorization: Bearer <token>`; null: open (bind to a private interface). */
    token: z
      .string()
      .min(16, 'the metrics token must be at least 16 characters')
      .max(256)
      .regex(/^[\x21-\x7e]+$/, 'the metrics token may hold only visible ASCII characters, no spaces (it is sent in an HTTP header)')
      .nullable()
      .default(null),
  }).prefault({}),
  log: z.strictObject({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  }).prefault({}),
});

export type ConfigInput = z.input<typeof configSchema>;
export type Config = z.output<typeof configSchema> & {
  provisioning: z.output<typeof configSchema>['provisioning'] & { baseUrl: string };
};

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Environment overrides from CONTRACT §1; each maps onto one config key. */
const ENV_KEYS: ReadonlyArray<[string, string[], 'string' | 'port']> = [
  ['DESKPROV_HTTP_PORT', ['http', 'port'], 'port'],
  ['DESKPROV_HTTP_HOST', ['http', 'host'], 'string'],
  ['DESKPROV_DB', ['database', 'path'], 'string'],
  ['DESKPROV_ADMIN_TOKEN', ['admin', 'token'], 'string'],
  ['DESKPROV_SIP_PORT', ['sip', 'port'], 'port'],
];

function applyEnv(raw: Record<string, unknown>, env: NodeJS.ProcessEnv): void {
  for (const [name, path, kind] of ENV_KEYS) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    let parsed: unknown = value;
    if (kind === 'port') {
      if (!/^\d{1,5}$/.test(value)) throw new ConfigError(`${name}: expected a port number, got "${value}"`);
      parsed = Number(value);
    }
    let node = raw;
    for (const key of path.slice(0, -1)) {
      const child = node[key];
      if (child === undefined) node[key] = {};
      else if (typeof child !== 'object' || child === null || Array.isArray(child)) {
        throw new ConfigError(`${path.slice(0, -1).join('.')}: expected an object`);
      }
      node = node[key] as Record<string, unknown>;
    }
    node[path[path.length - 1]!] = parsed;
  }
}

/**
 * Validate raw input into a frozen Config. The input is validated as written first, so a wrong
 * value in the file stops start-up even when an environment variable would override that key;
 * then the DESKPROV_* overrides are applied and the result is validated again.
 */
export function parseConfig(raw: unknown, env: NodeJS.ProcessEnv = {}): Config {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError('config: expected a JSON object');
  validate(raw, 'invalid configuration');
  const merged = structuredClone(raw) as Record<string, unknown>;
  applyEnv(merged, env);
  const cfg = validate(merged, 'invalid configuration after environment overrides');
  const publicHost = cfg.http.host === '0.0.0.0' || cfg.http.host === '::' ? '127.0.0.1' : cfg.http.host;
  const baseUrl = ensureSlash(cfg.provisioning.baseUrl ?? `http://${publicHost}:${cfg.http.port}/`);
  return deepFreeze({ ...cfg, provisioning: { ...cfg.provisioning, baseUrl } });
}

function validate(raw: unknown, heading: string): z.output<typeof configSchema> {
  const result = configSchema.safeParse(raw);
  if (result.success) return result.data;
  const lines = result.error.issues.map((i) => {
    const key = i.path.join('.') || '(root)';
    if (i.code === 'unrecognized_keys') return `${[...i.path, ...i.keys].join('.') || '(root)'}: unknown key`;
    return `${key}: ${i.message}`;
  });
  throw new ConfigError(`${heading}:\n  ${lines.join('\n  ')}`);
}

/** Read the config file (if any) and the environment. */
export function loadConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): Config {
  let raw: unknown = {};
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read config file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new ConfigError(`config file ${file} is not valid JSON: ${(err as Error).message}`);
    }
  }
  return parseConfig(raw, env);
}

function ensureSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
