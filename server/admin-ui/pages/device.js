// One device: who is on it, what it fetched, its sync and NOTIFY history, the SIP settings of
// its current line (revealed on request), and what an admin does to it.
import { api, canChange, optional } from '../api.js';
import { ago, badge, busy, fmtTime, formatMac, h, link, section, table, toast } from '../dom.js';
import { deviceBody, deviceForm } from './device-form.js';

export async function render(ctx) {
  const mac = ctx.args[0];
  const [d, { users }, { locations }, uploads] = await Promise.all([
    api('GET', `/devices/${encodeURIComponent(mac)}`),
    api('GET', '/users'),
    api('GET', '/locations'),
    optional('GET', `/devices/${encodeURIComponent(mac)}/files`),
  ]);
  const location = locations.find((l) => l.id === d.locationId);
  const userLink = (ext) => (ext ? link(`#/users/${encodeURIComponent(ext)}`, ext) : '—');

  return [
    h('p', { class: 'crumbs' }, link('#/devices', '← Devices')),
    h('div', { class: 'page-head' }, h('h1', {}, d.label ? `${d.label} (${formatMac(d.mac)})` : formatMac(d.mac)), badge(d.state)),
    d.warnings?.length ? h('div', { class: 'warning', role: 'note' }, d.warnings.join('; ')) : null,
    h(
      'div',
      { class: 'grid' },
      section(
        'Who is on it',
        dl([
          ['State', d.state],
          ['Owner', userLink(d.ownerExtension)],
          ['Guest', userLink(d.guestExtension)],
          ['Signed in since', d.session ? fmtTime(d.session.startedAt) : '—'],
          ['Session ends', d.session ? (d.session.endsAt ? fmtTime(d.session.endsAt) : 'no timeout') : '—'],
          ['Hot desking', d.hotdeskEnabled ? 'enabled' : 'off'],
          ['Location', location ? link('#/locations', location.name) : 'none'],
          ['Vendor / model', [d.vendor, d.model].filter(Boolean).join(' ')],
          ['Template', d.template ?? '—'],
        ]),
        canChange() ? actions(d, ctx) : null,
      ),
      section(
        'Last fetch',
        d.lastFetch
          ? dl([
              ['When', `${fmtTime(d.lastFetch.at)} (${ago(d.lastFetch.at)})`],
              ['IP address', d.lastFetch.ip],
              ['User-Agent', d.lastFetch.userAgent ?? '—'],
              ['Model', d.lastFetch.model ?? '—'],
              ['Firmware', d.lastFetch.firmware ?? '—'],
              ['File', d.lastFetch.file],
            ])
          : h('p', { class: 'empty' }, 'This phone has never fetched its configuration.'),
      ),
      section('Sync status', syncView(d.sync), notifications(d.notifications)),
      canChange() ? sipSection(d) : null,
    ),
    canChange() ? section('Edit device', editForm(d, users, locations, ctx)) : null,
    filesSection(d, uploads?.files),
    section(
      'Recent fetches',
      table(
        [
          // A row counts the same fetch repeated within the repeat window (fetchLogRepeatWindow).
          { label: 'When', cell: (f) => (f.repeats > 0 ? `${fmtTime(f.at)}, then ${f.repeats} more until ${fmtTime(f.lastAt)}` : fmtTime(f.at)) },
          { label: 'File', cell: (f) => f.file },
          { label: 'Status', cell: (f) => String(f.status ?? '') },
          { label: 'IP', cell: (f) => f.ip },
          { label: 'Version', cell: (f) => (f.configVersion ? `v${f.configVersion}` : '') },
        ],
        d.fetches ?? [],
        { empty: 'No fetches recorded.', label: 'Recent fetches' },
      ),
    ),
  ];
}

const dl = (pairs) => h('dl', { class: 'facts' }, pairs.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v ?? '—')]));

/** What a NOTIFY's answer means, in words (the outcome the resync dispatcher recorded). */
const OUTCOMES = {
  ok: 'accepted',
  retry: 'no answer yet: will try again',
  'gave-up': 'gave up',
  answered: 'refused by the phone',
  'no-target': 'not sent: no address for the phone',
  invalid: 'not sent: invalid',
};

/** "408 Request Timeout", or only the reason when nothing answered (status 0). */
const answer = (n) => (n.status ? `${n.status} ${n.reason ?? ''}`.trim() : n.reason ?? '—');
const version = (v) => (v === null || v === undefined ? '—' : `v${v}`);
const when = (iso) => h('time', { datetime: iso, title: ago(iso) }, fmtTime(iso));

function syncView(sync) {
  if (!sync || typeof sync !== 'object') return h('p', { class: 'empty' }, 'No sync information.');
  const last = sync.lastNotify;
  const rows = [
    ['Configuration version', version(sync.configVersion)],
    ['Version the phone fetched', sync.fetchedVersion === null || sync.fetchedVersion === undefined ? 'not fetched yet' : version(sync.fetchedVersion)],
    ['Last NOTIFY', last ? [when(last.at), ` · ${answer(last)}`] : 'none sent'],
    ['Fetched after it', last ? (sync.fetchedAfterNotify ? 'yes' : 'no') : '—'],
    ['Resync queued', sync.pending ? `yes${sync.attempts ? `, ${sync.attempts} attempt${sync.attempts === 1 ? '' : 's'} so far` : ''}${sync.nextAttemptAt ? `; next ${fmtTime(sync.nextAttemptAt)}` : ''}` : 'no'],
  ];
  return [sync.stale ? h('div', { class: 'warning' }, 'The phone did not come back to fetch after the last resync.') : null, dl(rows)];
}

function notifications(list) {
  if (!Array.isArray(list)) return null;
  return [
    h('h3', {}, 'NOTIFY history'),
    table(
      [
        { label: 'When', cell: (n) => when(n.at) },
        { label: 'Event', cell: (n) => n.event ?? '' },
        { label: 'Target', cell: (n) => n.target || '—' },
        { label: 'Answer', cell: (n) => answer(n) },
        { label: 'Outcome', cell: (n) => OUTCOMES[n.outcome] ?? n.outcome ?? '' },
      ],
      list,
      { empty: 'No NOTIFY sent yet.', label: 'NOTIFY history' },
    ),
  ];
}

function actions(d, ctx) {
  const status = h('div', { 'aria-live': 'polite' });
  const resync = h('button', { type: 'button' }, 'Resync phone');
  resync.addEventListener('click', () =>
    busy(resync, status, async () => {
      const r = await optional('POST', `/devices/${d.mac}/resync`, {}, 'missing');
      if (r === 'missing') status.replaceChildren(h('p', { class: 'notice' }, 'Resync is not available on this server yet.'));
      else {
        // The sync status on this page changes (a resync queued): show it, then say so.
        await ctx.reload();
        toast('Resync queued: the phone will be told to fetch its configuration.');
      }
    }),
  );
  const logout = d.guestExtension ? h('button', { type: 'button', class: 'danger' }, `Sign ${d.guestExtension} out`) : null;
  logout?.addEventListener('click', () =>
    busy(logout, status, async () => {
      if (!confirm(`Sign ${d.guestExtension} out of this phone?`)) return;
      const r = await optional('POST', `/devices/${d.mac}/logout`, {}, 'missing');
      if (r === 'missing') status.replaceChildren(h('p', { class: 'notice' }, 'Signing a guest out is not available on this server yet.'));
      else {
        // The page shows the new state first, then says so: whoever reads the notice reads a
        // page that is already up to date.
        await ctx.reload();
        toast(`${d.guestExtension} signed out`);
      }
    }),
  );
  const del = h('button', { type: 'button', class: 'danger subtle' }, 'Delete device');
  del.addEventListener('click', () =>
    busy(del, status, async () => {
      if (!confirm(`Delete device ${formatMac(d.mac)}? Its session ends and it gets no configuration any more.`)) return;
      await api('DELETE', `/devices/${d.mac}`);
      toast('Device deleted');
      location.hash = '#/devices';
    }),
  );
  return [h('div', { class: 'actions' }, resync, logout, del), status];
}

function editForm(d, users, locations, ctx) {
  const status = h('div');
  const form = deviceForm({ users, locations, submitText: 'Save changes', withMac: false, device: d });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(form.querySelector('button[type=submit]'), status, async () => {
      await api('PATCH', `/devices/${d.mac}`, { json: deviceBody(form, false) });
      await ctx.reload();
      toast('Device saved');
    });
  });
  return [status, form];
}

const SLOT_WHAT = {
  'app.log': 'application log',
  'boot.log': 'boot log',
  'phone.cfg': 'settings changed on the phone',
  'web.cfg': 'settings changed in its web UI',
  'license.cfg': 'licence',
  'directory.xml': 'contact directory',
  'calls.xml': 'call lists',
};

function size(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** Files the phone uploaded (Polycom logs, overrides, directory, call lists), each a download. */
function filesSection(d, files) {
  if (!Array.isArray(files) || (files.length === 0 && d.vendor !== 'polycom')) return null;
  const href = (f) => `/api/v1/devices/${encodeURIComponent(d.mac)}/files/${encodeURIComponent(f.slot)}`;
  return section(
    'Files the phone uploaded',
    table(
      [
        { label: 'File', cell: (f) => h('a', { href: href(f), download: `${d.mac}-${f.slot}` }, f.slot, h('span', { class: 'sr-only' }, ' (download)')) },
        { label: 'What', cell: (f) => SLOT_WHAT[f.slot] ?? (f.kind === 'log' ? 'log' : 'upload') },
        { label: 'Size', cell: (f) => size(f.size) },
        { label: 'Updated', cell: (f) => when(f.updatedAt) },
      ],
      files,
      { empty: 'The phone has uploaded no files.', label: 'Uploaded files' },
    ),
    files.length ? h('p', { class: 'muted' }, 'Downloads are recorded in the audit log: directories and call lists are personal data.') : null,
  );
}

function sipSection(d) {
  const slot = h('div', { 'aria-live': 'polite' });
  const reveal = h('button', { type: 'button' }, 'Reveal SIP settings');
  reveal.addEventListener('click', () =>
    busy(reveal, slot, async () => {
      const line = await api('GET', `/devices/${d.mac}/line`);
      slot.replaceChildren(
        dl([
          ['Server', line.server],
          ['Port', String(line.port)],
          ['Transport', line.transport.toUpperCase()],
          ['Outbound proxy', line.outboundProxy ?? '—'],
          ['User ID', line.userId],
          ['Password', h('code', { class: 'secret' }, line.password)],
          ['Extension', line.extension],
          ['Display name', line.displayName],
        ]),
      );
      reveal.remove();
    }),
  );
  const body =
    d.state === 'unassigned'
      ? h('p', { class: 'empty' }, 'The device has no line: assign an owner or sign a user in first.')
      : [h('p', { class: 'muted' }, `To set up a third-party SIP phone by hand for the ${d.state === 'guest' ? 'guest' : 'owner'}'s line. The password is shown only when you ask; the reveal is audited.`), reveal, slot];
  return section('SIP settings', body);
}
