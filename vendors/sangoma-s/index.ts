/**
 * Sangoma S-series (S205–S705; OEM firmware): XML `<hl_provision>` whose parameters are
 * P-code elements (`<P271 para="Account1.Active">1</P271>`). Which name the phone asks for
 * is not documented reliably, so both `cfg<mac>.xml` and `<mac>.xml` are answered.
 *
 * Time zone (P64) is an index into a firmware table deskprov does not have: it is not
 * written, the phone keeps its own (NTP server is written).
 */
import { readFileSync } from 'node:fs';
import type { Mac } from '../../server/domain/mac.js';
import type { CommonView, DeviceView, SipTransport } from '../../server/domain/types.js';
import { emergencyInfo, hotdeskKey, placeLabel, splitHostPort, type HostPort } from '../derive.js';
import { escapeView, xmlEscape } from '../escape.js';
import { deviceMac, fileMatch, MAX_FILE_NAME } from '../file-match.js';
import { parseSangomaUserAgent } from '../user-agent.js';
import type { FileMatch, TemplateInfo, VendorAdapter } from '../vendor.js';
import { lintXml } from '../xml-check.js';
import { projectPath } from '../../server/project.js';

const ID = 'sangoma-s';

const TEMPLATES: readonly TemplateInfo[] = [
  {
    name: 'device',
    view: 'device',
    source: readFileSync(projectPath('vendors', 'sangoma-s', 'templates', 'device.hbs'), 'utf8'),
    format: 'xml',
    rootElement: 'hl_provision',
  },
];

/** P130 Account1.SipTransport. */
const TRANSPORT: Readonly<Record<SipTransport, number>> = { udp: 0, tcp: 1, tls: 2 };
/** P32 Account1.RegisterExpiration is in minutes. */
const REGISTER_MINUTES = 60;

const DEVICE = /^(?:cfg)?([0-9a-f]{12})\.xml$/i;

function matchFile(name: string): FileMatch | null {
  if (name.length > MAX_FILE_NAME) return null;
  const m = DEVICE.exec(name);
  const mac = m ? deviceMac(m[1]) : null;
  return mac ? fileMatch(ID, 'device', { template: 'device', mac }) : null;
}

/** `host:port`, IPv6 literals in brackets, as P47/P48 take it. */
function hostPort(hp: HostPort, defaultPort: number): string {
  const host = hp.host.includes(':') && !hp.host.startsWith('[') ? `[${hp.host}]` : hp.host;
  return `${host}:${hp.port ?? defaultPort}`;
}

function buildView(view: DeviceView): Record<string, unknown> {
  const emergency = emergencyInfo(view);
  const proxy = splitHostPort(view.pbx.outboundProxy);
  const derived = {
    place: placeLabel(view),
    hotdeskKey: hotdeskKey(view),
    emergency,
    sangoma: {
      transport: TRANSPORT[view.pbx.transport],
      server: hostPort({ host: view.pbx.host, port: view.pbx.port }, view.pbx.port),
      outboundProxy: proxy ? hostPort(proxy, 5060) : '',
      registerMinutes: REGISTER_MINUTES,
      /** Dial plan that dials only the emergency numbers (unassigned phones). */
      emergencyDialPlan: emergency ? `{${emergency.numbers.join('|')}}` : '',
    },
  };
  return escapeView({ ...view, ...derived }, xmlEscape);
}

function buildCommonView(view: CommonView): Record<string, unknown> {
  return escapeView({ ...view }, xmlEscape);
}

export const sangomaS: VendorAdapter = {
  id: ID,
  displayName: 'Sangoma S-series',
  ouis: ['000fd3'],
  contentType: 'text/xml; charset=utf-8',
  notifyEvent: 'check-sync;reboot=true',
  templates: TEMPLATES,
  parseUserAgent: (ua: string) => parseSangomaUserAgent(ua, ID, 'S'),
  matchFile,
  deviceFiles: (mac: Mac) => [`cfg${mac}.xml`],
  buildView,
  buildCommonView,
  lint: lintXml,
};
