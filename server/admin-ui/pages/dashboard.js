// Dashboard: devices by state, phones not seen lately or stale after a resync, active
// hot-desk sessions, and the resync queue when the server reports it.
import { api, optional } from '../api.js';
import { ago, deviceLink, fmtTime, h, link, section, table } from '../dom.js';

export async function render() {
  // One summary, counted on the server (not every device's description, fetched to be counted here).
  const [summary, sessions, status] = await Promise.all([
    api('GET', '/devices/summary'),
    optional('GET', '/sessions', { query: { active: 'true' } }),
    optional('GET', '/status'),
  ]);
  const count = (state) => summary.byState[state] ?? 0;
  const unseen = summary.notSeen;
  const stale = summary.stale;
  const warned = summary.warnings;
  const active = sessions?.sessions ?? [];
  const depth = outboxDepth(status);

  const stat = (label, value, href, id) =>
    h('a', { class: 'stat', href, id }, h('span', { class: 'stat-value' }, String(value)), h('span', { class: 'stat-label' }, label));

  return [
    h('h1', {}, 'Dashboard'),
    h(
      'div',
      { class: 'stats', role: 'group', 'aria-label': 'Devices by state' },
      stat('Devices', summary.total, '#/devices', 'stat-total'),
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
        `Not seen in 24 hours (${unseen.count})`,
        table(
          [
            { label: 'Device', cell: (d) => deviceLink(d.mac) },
            { label: 'Label', cell: (d) => d.label ?? '' },
            { label: 'Last fetch', cell: (d) => (d.lastFetch ? h('time', { datetime: d.lastFetch.at, title: fmtTime(d.lastFetch.at) }, ago(d.lastFetch.at)) : 'never') },
          ],
          unseen.sample,
          { empty: 'Every phone fetched its config in the last 24 hours.', label: 'Phones not seen recently' },
        ),
        more(unseen),
      ),
      section(
        `Stale after a resync (${stale.count})`,
        table(
          [
            { label: 'Device', cell: (d) => deviceLink(d.mac) },
            { label: 'Label', cell: (d) => d.label ?? '' },
            { label: 'Wanted / fetched', cell: (d) => `v${d.sync.configVersion ?? '?'} / ${d.sync.fetchedVersion ? `v${d.sync.fetchedVersion}` : '—'}` },
          ],
          stale.sample,
          { empty: 'No phone is behind after a resync.', label: 'Stale phones' },
        ),
        more(stale),
      ),
      warned.count === 0
        ? null
        : section(
            `Warnings (${warned.count})`,
            h('ul', { class: 'warnings' }, warned.sample.map((d) => h('li', {}, deviceLink(d.mac, d.label ?? undefined), ': ', d.warnings.join('; ')))),
            more(warned),
          ),
    ),
  ];
}

/** "…and N more." under a sample the summary cut short. */
function more({ count, sample }) {
  return count > sample.length ? h('p', { class: 'muted' }, `…and ${count - sample.length} more.`) : null;
}

/** The resync queue depth from /status, whichever shape it has. */
function outboxDepth(status) {
  if (!status || typeof status !== 'object') return null;
  const o = status.outbox;
  if (typeof o === 'number') return o;
  for (const k of ['depth', 'pending', 'queued', 'size']) if (typeof o?.[k] === 'number') return o[k];
  return typeof status.outboxDepth === 'number' ? status.outboxDepth : null;
}
