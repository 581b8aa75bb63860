/**
 * Sangoma P-series (P310–P370; Digium D-series lineage): XML `<config>` with
 * `<setting id=... value=.../>` and `<account .../>`. Files: `<mac>.cfg` and the global
 * `000000000000.cfg` (optional: no default, 404 is fine; the same name is Polycom's default
 * master, so the server tells them apart by User-Agent or OUI).
 *
 * No login soft key: the P-series has no XML browser deskprov can drive (its apps need
 * DPMA), so guests log in and out with the PBX feature codes.
 */
import { readFileSync } from 'node:fs';
import type { Mac } from '../../server/domain/mac.js';
import type { CommonView, DeviceView } from '../../server/domain/types.js';
import { emergencyInfo, placeLabel, urlWithCredentials } from '../derive.js';
import { escapeView, xmlEscape } from '../escape.js';
import { deviceMac, fileMatch, MAX_FILE_NAME } from '../file-match.js';
import { parseSangomaUserAgent } from '../user-agent.js';
import type { FileMatch, TemplateInfo, VendorAdapter } from '../vendor.js';
import { lintXml } from '../xml-check.js';
import { projectPath } from '../../server/project.js';

const ID = 'sangoma-p';

const TEMPLATES: readonly TemplateInfo[] = [
  {
    name: 'device',
    view: 'device',
    source: readFileSync(projectPath('vendors', 'sangoma-p', 'templates', 'device.hbs'), 'utf8'),
    format: 'xml',
    rootElement: 'config',
  },
  { name: 'common', view: 'common', source: null, format: 'xml', rootElement: 'config' },
];

const CFG = /^([0-9a-f]{12})\.cfg$/i;

function matchFile(name: string): FileMatch | null {
  if (name.length > MAX_FILE_NAME) return null;
  const m = CFG.exec(name);
  if (!m) return null;
  const mac = deviceMac(m[1]);
  return mac ? fileMatch(ID, 'device', { template: 'device', mac }) : fileMatch(ID, 'common', { template: 'common', optional: true });
}

function buildView(view: DeviceView): Record<string, unknown> {
  const emergency = emergencyInfo(view);
  const derived = {
    place: placeLabel(view),
    emergency,
    sangoma: {
      configServerUrl: urlWithCredentials(view.provisioning.baseUrl, view.provisioning.username, view.provisioning.password),
      /** Digit map that dials only the emergency numbers (unassigned phones). */
      emergencyDialPlan: emergency ? emergency.numbers.join('|') : '',
    },
  };
  return escapeView({ ...view, ...derived }, xmlEscape);
}

function buildCommonView(view: CommonView): Record<string, unknown> {
  return escapeView({ ...view }, xmlEscape);
}

export const sangomaP: VendorAdapter = {
  id: ID,
  displayName: 'Sangoma P-series',
  ouis: ['000fd3'],
  contentType: 'text/xml; charset=utf-8',
  notifyEvent: 'check-sync',
  templates: TEMPLATES,
  parseUserAgent: (ua: string) => parseSangomaUserAgent(ua, ID, 'P'),
  matchFile,
  deviceFiles: (mac: Mac) => [`${mac}.cfg`],
  buildView,
  buildCommonView,
  lint: lintXml,
};
