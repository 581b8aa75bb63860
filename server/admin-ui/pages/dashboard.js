// Dashboard: devices by state, phones not seen lately or stale after a resync, active
// hot-desk sessions, and the resync queue when the server reports it.
import { allDevices, optional, serverNow } from '../api.js';
import { ago, deviceLink, fmtTime, h, link, section, table } from '../dom.js';

const DAY_MS = 24 * 60 * 60 * 1000;

export async function render() {
  const [devices, sessions, status] = await Promise.all([
    allDevices(),
    optional('GET', '/sessions', { query: { active: 'true' } }),
    optional('GET', '/status'),
  ]);
  const count = (state) => devices.filter((d) => d.state === state).length;
  const unseen = devices.filter((d) => !d.lastFetch || serverNow() - Date.parse(d.lastFetch.at) > DAY_MS);
  const stale = devices.filter((d) => d.sync && d.sync.stale === true);
  const warned = devices.filter((d) => (d.warnings ?? []).length > 0);
  const active = sessions?.sessions ?? devices.filter((d) => d.session).map((d) => ({ ...d.session, mac: d.mac }));
  const depth = outboxDepth(status);

  const stat = (label, value, href, id) =>
    h('a', { class: 'stat', href, id }, h('span', { class: 'stat-value' }, String(value)), h('span', { class: 'stat-label' }, label));

  return [
    h('h1', {}, 'Dashboard'),
    h(
      'div',
      { class: 'stats', role: 'group', 'aria-label': 'Devices by state' },
      stat('Devices', devices.length, '#/devices', 'stat-total'),
      stat('With an owner', count('owner'), '#/devices?state=owner', 'stat-owner'),
      stat('Guest signed in', count('guest'), '#/devices?state=guest', 'stat-guest'),
      stat('Unassigned', count('unassigned'), '#/devices?state=unassigned', 'stat-unassigned'),
      depth === null ? null : stat('Resyncs queued', depth, '#/devices', 'stat-outbox'),
    ),
    h(
      'div',
      { class: 'grid' },
      section(
        `Active hot-desk sessions (${active.length})`,
        table(
          [
            { label: 'User', cell: (s) => link(`#/users/${encodeURIComponent(s.extension)}`, s.extension) },
            { label: 'Device', cell: (s) => deviceLink(s.mac) },
            { label: 'Since', cell: (s) => fmtTime(s.startedAt) },
            { label: 'Ends', cell: (s) => (s.endsAt ? fmtTime(s.endsAt) : 'no timeout') },
          ],
          active,
          { empty: 'Nobody is signed in at a hot desk.', label: 'Active sessions' },
        ),
        sessions === null ? null : h('p', {}, link('#/sessions', 'All sessions →')),
      ),
      section(
        `Not seen in 24 hours (${unseen.length})`,
        table(
          [
            { label: 'Device', cell: (d) => deviceLink(d.mac) },
            { label: 'Label', cell: (d) => d.label ?? '' },
            { label: 'Last fetch', cell: (d) => (d.lastFetch ? h('time', { datetime: d.lastFetch.at, title: fmtTime(d.lastFetch.at) }, ago(d.lastFetch.at)) : 'never') },
          ],
          unseen.slice(0, 50),
          { empty: 'Every phone fetched its config in the last 24 hours.', label: 'Phones not seen recently' },
        ),
        unseen.length > 50 ? h('p', { class: 'muted' }, `…and ${unseen.length - 50} more.`) : null,
      ),
      section(
        `Stale after a resync (${stale.length})`,
        table(
          [
            { label: 'Device', cell: (d) => deviceLink(d.mac) },
            { label: 'Label', cell: (d) => d.label ?? '' },
            { label: 'Wanted / fetched', cell: (d) => `v${d.sync.configVersion ?? '?'} / ${d.sync.fetchedVersion ? `v${d.sync.fetchedVersion}` : '—'}` },
          ],
          stale,
          { empty: 'No phone is behind after a resync.', label: 'Stale phones' },
        ),
      ),
      warned.length === 0
        ? null
        : section(
            `Warnings (${warned.length})`,
            h('ul', { class: 'warnings' }, warned.slice(0, 50).map((d) => h('li', {}, deviceLink(d.mac, d.label ?? undefined), ': ', d.warnings.join('; ')))),
            warned.length > 50 ? h('p', { class: 'muted' }, `…and ${warned.length - 50} more.`) : null,
          ),
    ),
  ];
}

/** The resync queue depth from /status, whichever shape it has. */
function outboxDepth(status) {
  if (!status || typeof status !== 'object') return null;
  const o = status.outbox;
  if (typeof o === 'number') return o;
  for (const k of ['depth', 'pending', 'queued', 'size']) if (typeof o?.[k] === 'number') return o[k];
  return typeof status.outboxDepth === 'number' ? status.outboxDepth : null;
}
