/**
 * Yealink (T2x–T5x, VP, W-series DECT): plain-text `key = value` files, first line
 * `#!version:1.0.0.1`. Files: `<mac>.cfg` (device), `y0000000000XX.cfg` (common file of
 * firmware family XX), `<mac>.boot` / `y000000000000.boot` (optional, 404 without a template).
 */
import { readFileSync } from 'node:fs';
import { parseMac, type Mac } from '../../server/domain/mac.js';
import type { CommonView, DeviceView, SipTransport } from '../../server/domain/types.js';
import {
  dstRule,
  emergencyInfo,
  formatOffsetHours,
  hotdeskKey,
  placeLabel,
  splitHostPort,
  zoneOffset,
  type DstChange,
} from '../derive.js';
import { escapeView, keyValueValue } from '../escape.js';
import { deviceMac, fileMatch, MAX_FILE_NAME } from '../file-match.js';
import { firmwareToken, modelToken, uaTokens } from '../user-agent.js';
import { projectPath } from '../../server/project.js';
import type { FileMatch, LintProblem, TemplateInfo, UserAgentInfo, VendorAdapter } from '../vendor.js';

const ID = 'yealink';
const VERSION_LINE = '#!version:1.0.0.1';

const load = (name: string): string => readFileSync(projectPath('vendors', ID, 'templates', `${name}.hbs`), 'utf8');

const TEMPLATES: readonly TemplateInfo[] = [
  { name: 'device', view: 'device', source: load('device'), format: 'keyvalue', rootElement: null },
  { name: 'common', view: 'common', source: load('common'), format: 'keyvalue', rootElement: null },
  // Boot files only list include:config lines; none is shipped, so they 404 (harmless).
  { name: 'boot', view: 'device', source: null, format: 'keyvalue', rootElement: null },
  { name: 'common-boot', view: 'common', source: null, format: 'keyvalue', rootElement: null },
];

/** account.X.sip_server.Y.transport_type: 0 UDP, 1 TCP, 2 TLS (3 DNS-NAPTR is not used). */
const TRANSPORT: Readonly<Record<SipTransport, number>> = { udp: 0, tcp: 1, tls: 2 };
/**
 * dialplan.emergency.N slots always written, so numbers removed from a location are cleared: as
 * many as a location may hold (dialableNumbers keeps at most 10).
 */
const EMERGENCY_SLOTS = 10;

const DEVICE_CFG = /^([0-9a-f]{12})\.cfg$/i;
const DEVICE_BOOT = /^([0-9a-f]{12})\.boot$/i;
const COMMON_CFG = /^y([0-9]{12})\.cfg$/i;
const COMMON_BOOT = /^y000000000000\.boot$/i;

function matchFile(name: string): FileMatch | null {
  if (name.length > MAX_FILE_NAME) return null;
  let m = DEVICE_CFG.exec(name);
  if (m) {
    const mac = deviceMac(m[1]);
    return mac ? fileMatch(ID, 'device', { template: 'device', mac }) : null;
  }
  m = COMMON_CFG.exec(name);
  if (m) {
    // y000000000108.cfg → family "108"; y000000000000.cfg (T28P and other old models) → "0".
    const family = (m[1] ?? '').replace(/^0+/, '') || '0';
    return fileMatch(ID, 'common', { template: 'common', family });
  }
  m = DEVICE_BOOT.exec(name);
  if (m) {
    const mac = deviceMac(m[1]);
    return mac ? fileMatch(ID, 'device', { template: 'boot', mac, optional: true }) : null;
  }
  if (COMMON_BOOT.test(name)) return fileMatch(ID, 'common', { template: 'common-boot', optional: true });
  return null;
}

/**
 * `Yealink SIP-T46U 108.86.0.20 00:15:65:aa:bb:cc`, `Yealink SIP VP-T49G ...`,
 * `Yealink W70B ...`, `Yealink-T46G 28.71.0.81 ...`, `VP530 23.70.0.41 ...`; the MAC is the
 * last token, with or without colons, and may be absent or something else entirely.
 */
function parseUserAgent(ua: string): UserAgentInfo | null {
  const t = uaTokens(ua);
  const first = t[0];
  if (first === undefined) return null;
  const lower = first.toLowerCase();
  let model: string | null;
  let next: number;
  if (lower === 'yealink') {
    const second = t[1] ?? '';
    if (second.toLowerCase() === 'sip') {
      model = modelToken(t[2]);
      next = 3;
    } else if (second.toLowerCase().startsWith('sip-')) {
      model = modelToken(second.slice(4));
      next = 2;
    } else if (firmwareToken(second) !== null) {
      model = null;
      next = 1;
    } else {
      model = modelToken(second);
      next = 2;
    }
  } else if (lower.startsWith('yealink-')) {
    model = modelToken(first.slice('yealink-'.length));
    next = 1;
  } else if (/^VP[0-9]{3}[A-Za-z]?$/.test(first) && firmwareToken(t[1]) !== null) {
    model = first;
    next = 1;
  } else {
    return null;
  }
  const firmware = firmwareToken(t[next]);
  const macToken = firmware !== null ? t[next + 1] : undefined;
  return { vendor: ID, model, firmware, mac: macToken === undefined ? null : parseMac(macToken) };
}

/**
 * A summer-time change as Yealink's local_time.start_time and end_time take it by week
 * (dst_time_type 1): month/week of month (5: the last)/day of week (1 Monday ... 7 Sunday)/hour.
 */
const yealinkChange = (c: DstChange) => `${c.month}/${c.last ? 5 : c.week}/${c.weekday === 0 ? 7 : c.weekday}/${c.hour}`;

/**
 * The phone's clock: the standard offset, and the zone's summer-time rule written out
 * (summer_time 1). Automatic summer time (2) picks a rule from the phone's own table by
 * local_time.time_zone_name, a name for each offset that deskprov does not write; it is kept
 * only for a zone whose year is not one start and one stop (0: no summer time).
 */
function yealinkTime(zoneName: string) {
  const zone = zoneOffset(zoneName);
  const rule = dstRule(zoneName);
  return {
    timeZone: formatOffsetHours(zone.standardMinutes),
    summerTime: rule ? 1 : zone.observesDst ? 2 : 0,
    dst: rule && { start: yealinkChange(rule.start), stop: yealinkChange(rule.stop), minutes: rule.savingMinutes },
  };
}

function derived(view: DeviceView) {
  const emergency = emergencyInfo(view);
  const proxy = splitHostPort(view.pbx.outboundProxy);
  const slots = Math.max(EMERGENCY_SLOTS, emergency?.numbers.length ?? 0);
  return {
    place: placeLabel(view),
    hotdeskKey: hotdeskKey(view),
    emergency: emergency && {
      ...emergency,
      slots: Array.from({ length: slots }, (_, i) => ({ index: i + 1, value: emergency.numbers[i] ?? '%NULL%' })),
      assertedId: yealinkAssertedId(emergency.callback),
    },
    yealink: {
      transport: TRANSPORT[view.pbx.transport],
      ...yealinkTime(view.time.zone),
      proxy: proxy && { host: proxy.host, port: proxy.port ?? 5060 },
    },
  };
}

/**
 * The callback number as `dialplan.emergency.custom_asserted_id`, which takes 10-25 digits, a SIP
 * URI or a TEL URI: `+15551230000` becomes `tel:+15551230000`; anything else (short numbers,
 * `*` or `#`) is null, and the phone falls back to its LLDP-MED ELIN.
 */
export function yealinkAssertedId(callback: string | null): string | null {
  if (callback === null) return null;
  if (/^[0-9]{10,25}$/.test(callback)) return callback;
  if (/^\+[0-9]{7,15}$/.test(callback)) return `tel:${callback}`;
  return null;
}

function buildView(view: DeviceView): Record<string, unknown> {
  return escapeView({ ...view, ...derived(view) }, keyValueValue);
}

function buildCommonView(view: CommonView): Record<string, unknown> {
  return escapeView(
    {
      ...view,
      yealink: {
        transport: TRANSPORT[view.pbx.transport],
        ...yealinkTime(view.time.zone),
      },
    },
    keyValueValue,
  );
}

const KEY_LINE = /^([A-Za-z0-9_.]+) *= */;
/** Boot files list the files to load: `include:config "http://srv/y000000000108.cfg"`. */
const INCLUDE_LINE = /^include:config +\S/;

/**
 * First line `#!version:1.0.0.1`; then blank lines, `#` comments, `key = value` lines (a key
 * set twice is reported: the second silently wins on the phone) or boot-file include lines.
 */
export function lintKeyValue(rendered: string): LintProblem[] {
  const problems: LintProblem[] = [];
  const lines = rendered.split('\n');
  const strip = (l: string): string => (l.endsWith('\r') ? l.slice(0, -1) : l);
  if (strip(lines[0] ?? '') !== VERSION_LINE) problems.push({ line: 1, reason: `first line must be exactly "${VERSION_LINE}"` });
  const seen = new Map<string, number>();
  for (let i = 1; i < lines.length && problems.length < 50; i++) {
    const line = strip(lines[i] ?? '');
    const n = i + 1;
    if (line.includes('\r')) {
      problems.push({ line: n, reason: 'carriage return inside a line' });
      continue;
    }
    if (line.trim() === '' || line.startsWith('#') || INCLUDE_LINE.test(line)) continue;
    const m = KEY_LINE.exec(line);
    if (!m) {
      problems.push({ line: n, reason: 'expected "key = value" (key of letters, digits, "_" and "."), a "#" comment or a blank line' });
      continue;
    }
    const key = m[1] ?? '';
    const before = seen.get(key);
    if (before !== undefined) problems.push({ line: n, reason: `"${key}" is already set on line ${before}` });
    else seen.set(key, n);
  }
  return problems;
}

export const yealink: VendorAdapter = {
  id: ID,
  displayName: 'Yealink',
  ouis: ['001565', '805ec0', '805e0c', '249ad8', '44dbd2'],
  contentType: 'text/plain; charset=utf-8',
  notifyEvent: 'check-sync;reboot=true',
  templates: TEMPLATES,
  parseUserAgent,
  matchFile,
  deviceFiles: (mac: Mac) => [`${mac}.cfg`],
  buildView,
  buildCommonView,
  lint: (rendered: string, _template: TemplateInfo) => lintKeyValue(rendered),
};
