// Hot-desk sessions: active and past, with why they ended; filters; CSV export of what is shown.
import { api, optional } from '../api.js';
import { badge, deviceLink, field, fmtTime, formValues, h, input, link, liveFilter, select, showError, table } from '../dom.js';

const REASONS = {
  logout: 'signed out',
  timeout: 'timed out',
  daily: 'daily sign-out',
  displaced: 'signed in elsewhere',
  admin: 'signed out by an admin',
  owner: 'owner change',
  'user-deleted': 'user deleted',
  'device-deleted': 'device deleted',
};

const LIMIT = 1000;

export async function render(ctx) {
  const q = ctx.query;
  const filters = h(
    'form',
    { class: 'filters', role: 'search', 'aria-label': 'Filter sessions' },
    field('Show', select('show', [['active', 'Active now'], ['ended', 'History (ended)'], ['all', 'All']], q.get('show') ?? 'active')),
    field('User (extension)', input('extension', { value: q.get('extension') ?? '' })),
    field('Device (MAC)', input('mac', { value: q.get('mac') ?? '' })),
    field('Started from', input('from', { type: 'date', value: q.get('from') ?? '' })),
    field('Started until', input('to', { type: 'date', value: q.get('to') ?? '' })),
  );
  const exportButton = h('button', { type: 'button', disabled: true }, 'Export CSV');
  const results = h('div', { 'aria-live': 'polite' });
  let shown = [];

  async function load() {
    const f = formValues(filters);
    // A MAC still being typed narrows what is shown; only a whole one goes to the API (which refuses a part).
    const mac = f.mac.replace(/[^0-9a-fA-F]/g, '').toLowerCase();
    const from = f.from ? Date.parse(`${f.from}T00:00:00`) : -Infinity;
    const to = f.to ? Date.parse(`${f.to}T00:00:00`) + 86_400_000 : Infinity;
    // Filters go to the API, so the newest LIMIT sessions are the newest that match, not a cut of all.
    const query = { extension: f.extension, limit: LIMIT };
    if (mac.length === 12) query.mac = mac;
    if (f.show === 'active') query.active = 'true';
    if (f.show === 'ended') query.active = 'false';
    if (Number.isFinite(from)) query.from = new Date(from).toISOString();
    if (Number.isFinite(to)) query.to = new Date(to).toISOString();
    try {
      let body = await optional('GET', '/sessions', { query });
      let note = null;
      if (body === null) {
        note = h('p', { class: 'notice' }, 'The sessions API is not on this server yet: showing the sessions active now, from the devices.');
        const { devices } = await api('GET', '/devices', { query: { state: 'guest' } });
        body = { sessions: devices.map((d) => ({ ...d.session, mac: d.mac, endedAt: null, endReason: null })) };
      }
      shown = body.sessions.filter((s) => {
        const t = Date.parse(s.startedAt);
        if (t < from || t >= to) return false;
        if (f.show === 'ended' && !s.endedAt) return false;
        if (f.show === 'active' && s.endedAt) return false;
        if (query.extension && s.extension !== query.extension) return false;
        return !mac || s.mac.includes(mac);
      });
      exportButton.disabled = shown.length === 0;
      const cut = body.sessions.length >= LIMIT ? h('p', { class: 'muted' }, `Showing the newest ${LIMIT} sessions that match: narrow the dates to see older ones.`) : null;
      results.replaceChildren(note ?? '', h('p', { class: 'count' }, `${shown.length} session${shown.length === 1 ? '' : 's'}`), cut ?? '', sessionTable(shown));
    } catch (err) {
      showError(results, err);
    }
  }
  liveFilter(filters, load, 250);
  exportButton.addEventListener('click', () => download(`sessions-${new Date().toISOString().slice(0, 10)}.csv`, toCsv(shown)));
  await load();
  return [h('div', { class: 'page-head' }, h('h1', {}, 'Sessions'), exportButton), filters, results];
}

function sessionTable(list) {
  return table(
    [
      { label: 'User', cell: (s) => link(`#/users/${encodeURIComponent(s.extension)}`, s.extension) },
      { label: 'Device', cell: (s) => deviceLink(s.mac) },
      { label: 'Started', cell: (s) => fmtTime(s.startedAt) },
      { label: 'Ends', cell: (s) => (s.endedAt ? '' : s.endsAt ? fmtTime(s.endsAt) : 'no timeout') },
      { label: 'Ended', cell: (s) => (s.endedAt ? fmtTime(s.endedAt) : badge('active', 'guest')) },
      { label: 'Why it ended', cell: (s) => (s.endReason ? REASONS[s.endReason] ?? s.endReason : '') },
    ],
    list,
    { empty: 'No session matches these filters.', label: 'Sessions' },
  );
}

const CSV_COLUMNS = ['extension', 'mac', 'startedAt', 'endsAt', 'endedAt', 'endReason'];

/** RFC 4180 quoting; a leading = + - @ is defused so a spreadsheet never runs it as a formula. */
function cell(v) {
  let s = v === null || v === undefined ? '' : String(v);
  if (/^[=+\-@]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const toCsv = (list) => [CSV_COLUMNS.join(','), ...list.map((s) => CSV_COLUMNS.map((c) => cell(s[c])).join(','))].join('\r\n') + '\r\n';

function download(name, text) {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv' }));
  const a = h('a', { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
