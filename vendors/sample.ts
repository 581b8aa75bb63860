/**
 * Fixed sample views: one device per vendor in each state, and a common view. Used to check
 * that an operator's template compiles and renders for every state before it is saved, for
 * previews without a real device, and by the golden-file tests.
 *
 * Every field is filled (location, callback number, download credentials, outbound proxy
 * off) so a template that reads any documented field renders. Passwords here are samples.
 */
import type { Mac } from '../server/domain/mac.js';
import type { CommonView, DeviceState, DeviceView } from '../server/domain/types.js';

const SAMPLE_DEVICES: Readonly<Record<string, { mac: string; model: string }>> = {
  yealink: { mac: '001565aabbcc', model: 'T46U' },
  polycom: { mac: '0004f2aabbcc', model: 'VVX450' },
  'sangoma-p': { mac: '000fd3aabbcc', model: 'P330' },
  'sangoma-s': { mac: '000fd3aabbdd', model: 'S505' },
};
const FALLBACK_DEVICE = { mac: '0000000000aa', model: null };

export const SAMPLE_BASE_URL = 'https://prov.example.com/';

export const SAMPLE_LINES = {
  owner: { extension: '1001', displayName: 'Alice Owner', authUser: 'alice1001', password: 'owner-S3cret!', label: '1001 Alice' },
  guest: { extension: '2002', displayName: 'Bob Guest', authUser: 'bob2002', password: 'guest-S3cret!', label: '2002 Bob' },
} as const;

export const SAMPLE_GUEST_ENDS_AT = '2030-01-15T20:00:00.000Z';

function sampleView(vendorId: string, state: DeviceState): DeviceView {
  const d = SAMPLE_DEVICES[vendorId] ?? FALLBACK_DEVICE;
  const mac = d.mac as Mac;
  const line = state === 'unassigned' ? null : { ...SAMPLE_LINES[state] };
  return {
    device: { mac, vendor: vendorId, model: d.model, label: 'Desk 4.12' },
    location: {
      name: 'HQ 4th floor',
      emergencyNumbers: ['911', '112'],
      callbackNumber: '+15551230000',
      address: '1 Main Street, Springfield',
    },
    state,
    line,
    pbx: { host: 'pbx.example.com', port: 5060, transport: 'udp', outboundProxy: null },
    provisioning: { baseUrl: SAMPLE_BASE_URL, username: `prov-${mac}`, password: 'prov-S3cret!' },
    hotdesk: {
      enabled: true,
      loginUrl: `${SAMPLE_BASE_URL}phone/${vendorId}/${mac}/login`,
      logoutUrl: `${SAMPLE_BASE_URL}phone/${vendorId}/${mac}/logout`,
      sessionEndsAt: state === 'guest' ? SAMPLE_GUEST_ENDS_AT : null,
    },
    time: { zone: 'America/New_York', ntpServer: 'pool.ntp.org' },
  };
}

/** A fresh sample device view of `vendorId` for each state (callers may mutate them). */
export function sampleViews(vendorId: string): Record<DeviceState, DeviceView> {
  return {
    owner: sampleView(vendorId, 'owner'),
    guest: sampleView(vendorId, 'guest'),
    unassigned: sampleView(vendorId, 'unassigned'),
  };
}

/** A fresh sample view for files that belong to no device; `family` as a Yealink common file has it. */
export function sampleCommonView(family: string | null = '108'): CommonView {
  return {
    pbx: { host: 'pbx.example.com', port: 5060, transport: 'udp', outboundProxy: null },
    provisioning: { baseUrl: SAMPLE_BASE_URL },
    time: { zone: 'America/New_York', ntpServer: 'pool.ntp.org' },
    family,
  };
}
