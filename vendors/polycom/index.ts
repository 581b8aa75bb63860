/**
 * Polycom / Poly UC Software (VVX, SoundStation IP, CCX, Edge E). XML files whose parameters
 * are attributes. The phone reads a master file (`<mac>.cfg`, else `000000000000.cfg`), then
 * every file in its CONFIG_FILES: deskprov lists one, `<mac>-deskprov.cfg`, with the line.
 * The phone also PUTs logs and overrides and GETs them back (upload/log kinds).
 */
import { readFileSync } from 'node:fs';
import type { Mac } from '../../server/domain/mac.js';
import type { CommonView, DeviceView, SipTransport } from '../../server/domain/types.js';
import { dstRule, emergencyInfo, hotdeskKey, placeLabel, splitHostPort, urlParts, zoneOffset, type DstChange } from '../derive.js';
import { escapeView, xmlEscape } from '../escape.js';
import { deviceMac, fileMatch, MAX_FILE_NAME } from '../file-match.js';
import { modelToken, uaTokens } from '../user-agent.js';
import type { FileMatch, TemplateInfo, UserAgentInfo, VendorAdapter } from '../vendor.js';
import { lintXml } from '../xml-check.js';
import { projectPath } from '../../server/project.js';

const ID = 'polycom';

const load = (name: string): string => readFileSync(projectPath('vendors', ID, 'templates', `${name}.hbs`), 'utf8');

const TEMPLATES: readonly TemplateInfo[] = [
  { name: 'master', view: 'device', source: load('master'), format: 'xml', rootElement: 'APPLICATION' },
  { name: 'master-default', view: 'common', source: load('master-default'), format: 'xml', rootElement: 'APPLICATION' },
  { name: 'device', view: 'device', source: load('device'), format: 'xml', rootElement: 'polycomConfig' },
  // A factory-fresh phone without <mac>-directory.xml asks for this one; 404 unless an operator adds it.
  { name: 'directory-default', view: 'common', source: null, format: 'xml', rootElement: 'directory' },
];

/** reg.x.server.y.transport values. */
const TRANSPORT: Readonly<Record<SipTransport, string>> = { udp: 'UDPOnly', tcp: 'TCPOnly', tls: 'TLS' };

const MASTER = /^([0-9a-f]{12})\.cfg$/i;
const DESKPROV = /^([0-9a-f]{12})-deskprov\.cfg$/i;
/** Files the phone uploads with PUT: overrides, license, contacts, call lists (read back) and logs. */
const UPLOAD_SLOTS: Readonly<Record<string, 'upload' | 'log'>> = {
  'phone.cfg': 'upload', 'web.cfg': 'upload', 'license.cfg': 'upload', 'directory.xml': 'upload', 'calls.xml': 'upload',
  'app.log': 'log', 'boot.log': 'log',
};
const slotPattern = (kind: 'upload' | 'log') =>
  new RegExp(`^([0-9a-f]{12})-(${Object.keys(UPLOAD_SLOTS).filter((s) => UPLOAD_SLOTS[s] === kind).map((s) => s.replace('.', '\\.')).join('|')})$`, 'i');
const UPLOAD = slotPattern('upload');
const LOG = slotPattern('log');
const DEFAULT_DIRECTORY = /^000000000000-directory\.xml$/i;

function matchFile(name: string): FileMatch | null {
  if (name.length > MAX_FILE_NAME) return null;
  let m = MASTER.exec(name);
  if (m) {
    const mac = deviceMac(m[1]);
    // 000000000000.cfg: the default master, asked when <mac>.cfg is missing.
    return mac ? fileMatch(ID, 'device', { template: 'master', mac }) : fileMatch(ID, 'common', { template: 'master-default' });
  }
  if (DEFAULT_DIRECTORY.test(name)) return fileMatch(ID, 'common', { template: 'directory-default', optional: true });
  m = DESKPROV.exec(name);
  if (m) {
    const mac = deviceMac(m[1]);
    return mac ? fileMatch(ID, 'device', { template: 'device', mac }) : null;
  }
  m = UPLOAD.exec(name);
  if (m) {
    const mac = deviceMac(m[1]);
    return mac ? fileMatch(ID, 'upload', { mac, slot: (m[2] ?? '').toLowerCase() }) : null;
  }
  m = LOG.exec(name);
  if (m) {
    const mac = deviceMac(m[1]);
    return mac ? fileMatch(ID, 'log', { mac, slot: (m[2] ?? '').toLowerCase() }) : null;
  }
  return null;
}

/**
 * `FileTransport PolycomVVX-VVX_400-UA/4.1.4.7430 (SN:0004f2e765da) Type/Application`, also
 * `PolyCCX-CCX_500-UA/...`, `PolyEdge-Edge_E450-UA/...` and the SIP form without
 * FileTransport. Model: the middle part without underscores (`VVX400`, `EdgeE450`).
 */
function parseUserAgent(ua: string): UserAgentInfo | null {
  let found = false;
  let model: string | null = null;
  let firmware: string | null = null;
  let mac: Mac | null = null;
  for (const token of uaTokens(ua)) {
    const sn = /^\(SN:([0-9A-Fa-f]{12})\)$/.exec(token);
    if (sn) {
      mac = deviceMac(sn[1]);
      continue;
    }
    if (found || !/^poly/i.test(token)) continue;
    const uaAt = token.indexOf('-UA/');
    const dash = token.indexOf('-');
    if (uaAt < 0 || dash >= uaAt) continue;
    found = true;
    model = modelToken(token.slice(dash + 1, uaAt).replace(/_/g, ''));
    firmware = /^[0-9][0-9.]{0,30}[0-9]/.exec(token.slice(uaAt + 4))?.[0] ?? null;
  }
  return found ? { vendor: ID, model, firmware, mac } : null;
}

/** A summer-time change in Polycom's fields (tcpIpApp.sntp.daylightSavings.start.* / .stop.*). */
const polycomChange = (c: DstChange) => ({
  month: c.month,
  /** With fixedDayEnable 0: the weekday on or after this date (1, 8, 15, 22); ignored when last. */
  date: Math.min(c.week, 4) * 7 - 6,
  /** 1 = Sunday ... 7 = Saturday. */
  dayOfWeek: c.weekday + 1,
  lastInMonth: c.last ? 1 : 0,
  time: c.hour,
});

/**
 * The phone's clock: a fixed standard offset, and the zone's summer-time rule written out. Left
 * to itself the phone applies United States rules (March's second Sunday to November's first),
 * wrong for a European desk by weeks and for a southern one by a season. Polycom shifts by a whole
 * hour, so a zone that shifts by another amount (Lord Howe) gets no summer time.
 */
function polycomTime(zoneName: string) {
  const rule = dstRule(zoneName);
  const dst = rule && rule.savingMinutes === 60 ? { start: polycomChange(rule.start), stop: polycomChange(rule.stop) } : null;
  return { gmtOffset: zoneOffset(zoneName).standardMinutes * 60, dst: dst ? 1 : 0, dstRule: dst };
}

function buildView(view: DeviceView): Record<string, unknown> {
  const prov = urlParts(view.provisioning.baseUrl);
  const emergency = emergencyInfo(view);
  const proxy = splitHostPort(view.pbx.outboundProxy);
  const derived = {
    place: placeLabel(view),
    hotdeskKey: hotdeskKey(view),
    emergency,
    polycom: {
      transport: TRANSPORT[view.pbx.transport],
      ...polycomTime(view.time.zone),
      provServerType: prov.scheme === 'https' ? 'HTTPS' : 'HTTP',
      provServerName: prov.hostAndPath,
      proxy: proxy && { host: proxy.host, port: proxy.port ?? 5060 },
      /** Digit map that dials only the emergency numbers (unassigned phones). */
      emergencyDigitMap: emergency ? emergency.numbers.join('|') : '',
    },
  };
  return escapeView({ ...view, ...derived }, xmlEscape);
}

function buildCommonView(view: CommonView): Record<string, unknown> {
  const prov = urlParts(view.provisioning.baseUrl);
  const polycom = {
    transport: TRANSPORT[view.pbx.transport],
    ...polycomTime(view.time.zone),
    provServerType: prov.scheme === 'https' ? 'HTTPS' : 'HTTP',
    provServerName: prov.hostAndPath,
  };
  return escapeView({ ...view, polycom }, xmlEscape);
}

export const polycom: VendorAdapter = {
  id: ID,
  displayName: 'Polycom / Poly',
  ouis: ['0004f2', '64167f'],
  contentType: 'text/xml; charset=utf-8',
  notifyEvent: 'check-sync',
  templates: TEMPLATES,
  uploadSlots: UPLOAD_SLOTS,
  parseUserAgent,
  matchFile,
  deviceFiles: (mac: Mac) => [`${mac}.cfg`, `${mac}-deskprov.cfg`],
  buildView,
  buildCommonView,
  lint: lintXml,
};
