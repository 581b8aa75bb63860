// Devices: search and filter, add one, bulk add from CSV (checked first, then all or nothing).
import { api, canChange } from '../api.js';
import { ago, badge, busy, checkbox, deviceLink, field, formValues, h, input, liveFilter, section, select, showError, table, toast } from '../dom.js';
import { VENDORS, deviceForm, deviceBody } from './device-form.js';

export async function render(ctx) {
  if (ctx.args[0]) return (await import('./device.js')).render(ctx);
  const [{ locations }, { users }] = await Promise.all([api('GET', '/locations'), api('GET', '/users')]);
  const locName = new Map(locations.map((l) => [l.id, l.name]));
  const q = ctx.query;

  const filters = h(
    'form',
    { class: 'filters', role: 'search', 'aria-label': 'Filter devices' },
    field('Search', input('q', { type: 'search', value: q.get('q') ?? '', placeholder: 'MAC, label, model, owner' })),
    field('Vendor', select('vendor', [['', 'Any vendor'], ...VENDORS.map((v) => [v, v])], q.get('vendor'))),
    field('Model', input('model', { value: q.get('model') ?? '' })),
    field('State', select('state', [['', 'Any state'], ['owner', 'Owner'], ['guest', 'Guest'], ['unassigned', 'Unassigned']], q.get('state'))),
    field('Location', select('locationId', [['', 'Any location'], ...locations.map((l) => [l.id, l.name])], q.get('locationId'))),
    field('Signed-in hot desk phones only', checkbox('signedIn', q.get('state') === 'guest')),
  );
  const results = h('div', { class: 'results', 'aria-live': 'polite' });
  // One page of PAGE_SIZE devices at a time: a fleet of thousands stays quick to show, and none is out of reach.
  let pageNo = Math.max(1, Number.parseInt(q.get('page') ?? '1', 10) || 1);

  async function load() {
    const f = formValues(filters);
    if (f.signedIn) f.state = 'guest';
    filters.elements.state.disabled = f.signedIn;
    delete f.signedIn;
    const query = Object.fromEntries(Object.entries(f).filter(([, v]) => v !== ''));
    const shown = pageNo > 1 ? { ...query, page: String(pageNo) } : query;
    history.replaceState(null, '', `#/devices${Object.keys(shown).length ? `?${new URLSearchParams(shown)}` : ''}`);
    try {
      const { devices, total = devices.length } = await api('GET', '/devices', { query: { ...query, limit: PAGE_SIZE, offset: (pageNo - 1) * PAGE_SIZE } });
      const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
      if (pageNo > pages) {
        pageNo = pages;
        return load();
      }
      results.replaceChildren(
        h('p', { class: 'count' }, `${total} device${total === 1 ? '' : 's'}`),
        deviceTable(devices, locName),
        pages > 1 ? pager(pageNo, pages, total, (n) => {
          pageNo = n;
          load().then(() => results.querySelector('.count')?.scrollIntoView({ block: 'nearest' }));
        }) : null,
      );
    } catch (err) {
      showError(results, err);
    }
  }
  liveFilter(filters, load, 200, () => {
    pageNo = 1;
  });
  await load();

  return [
    h('div', { class: 'page-head' }, h('h1', {}, 'Devices'), h('a', { class: 'button', href: '/api/v1/devices/export', download: 'devices.csv' }, 'Export CSV')),
    filters,
    results,
    canChange() ? h('div', { class: 'grid' }, addSection(users, locations, ctx), importSection(ctx)) : null,
  ];
}

const PAGE_SIZE = 100;

/** Previous / next and where this page is, e.g. "101–200 of 3000 (page 2 of 30)". */
function pager(pageNo, pages, total, goTo) {
  const first = (pageNo - 1) * PAGE_SIZE + 1;
  const last = Math.min(pageNo * PAGE_SIZE, total);
  const prev = h('button', { type: 'button', disabled: pageNo <= 1, onclick: () => goTo(pageNo - 1) }, 'Previous page');
  const next = h('button', { type: 'button', disabled: pageNo >= pages, onclick: () => goTo(pageNo + 1) }, 'Next page');
  return h('nav', { class: 'pager actions', 'aria-label': 'Pages of devices' }, prev, h('span', { class: 'pager-where' }, `${first}–${last} of ${total} (page ${pageNo} of ${pages})`), next);
}

function deviceTable(devices, locName) {
  return table(
    [
      { label: 'MAC', cell: (d) => deviceLink(d.mac) },
      { label: 'Label', cell: (d) => d.label ?? '' },
      { label: 'Vendor / model', cell: (d) => [d.vendor, d.model].filter(Boolean).join(' ') },
      { label: 'State', cell: (d) => badge(d.state) },
      { label: 'Owner', cell: (d) => d.ownerExtension ?? '' },
      { label: 'Guest', cell: (d) => d.guestExtension ?? '' },
      { label: 'Location', cell: (d) => (d.locationId ? locName.get(d.locationId) ?? String(d.locationId) : d.hotdeskEnabled ? badge('no location', 'warn') : '') },
      { label: 'Last seen', cell: (d) => (d.lastFetch ? ago(d.lastFetch.at) : 'never') },
    ],
    devices,
    { empty: 'No device matches these filters.', label: 'Devices' },
  );
}

function addSection(users, locations, ctx) {
  const status = h('div');
  const form = deviceForm({ users, locations, submitText: 'Add device', withMac: true });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(form.querySelector('button[type=submit]'), status, async () => {
      const d = await api('POST', '/devices', { json: deviceBody(form, true) });
      await ctx.reload();
      toast(`Added device ${d.mac}`);
    });
  });
  return section('Add a device', status, form);
}

const CSV_HEADER = 'mac,vendor,model,label,ownerExtension,hotdeskEnabled,location';

function importSection(ctx) {
  const text = h('textarea', { name: 'csv', rows: '8', spellcheck: 'false', placeholder: `${CSV_HEADER}\n001565aabbcc,yealink,T46U,Reception,,true,HQ` });
  const file = h('input', { type: 'file', name: 'file', accept: '.csv,text/csv' });
  const check = h('button', { type: 'button' }, 'Check');
  const go = h('button', { type: 'button', class: 'primary', disabled: true }, 'Import');
  const status = h('div', { class: 'import-status', 'aria-live': 'polite' });
  let checked = null;

  file.addEventListener('change', async () => {
    const f = file.files?.[0];
    if (f) text.value = await f.text();
    text.dispatchEvent(new Event('input'));
  });
  text.addEventListener('input', () => {
    checked = null;
    go.disabled = true;
  });
  check.addEventListener('click', () =>
    busy(check, status, async () => {
      const body = text.value;
      const r = await api('POST', '/devices/import', { text: body, type: 'text/csv', query: { dryRun: 'true' } });
      checked = body;
      go.disabled = false;
      status.replaceChildren(h('p', { class: 'notice' }, `All rows are valid: ${r.created} device(s) will be added${r.updated ? `, ${r.updated} updated` : ''}. Press Import to save them.`));
    }),
  );
  go.addEventListener('click', () =>
    busy(go, status, async () => {
      if (checked !== text.value) throw new Error('the CSV changed since it was checked; press Check again');
      const r = await api('POST', '/devices/import', { text: checked, type: 'text/csv' });
      await ctx.reload();
      toast(`Imported ${r.created} device(s)`);
    }),
  );
  return section(
    'Bulk add from CSV',
    h('p', { class: 'muted' }, 'Paste or upload a CSV with the header ', h('code', {}, CSV_HEADER), '. Nothing is saved unless every row is valid.'),
    field('CSV rows', text),
    field('Or upload a CSV file', file),
    h('div', { class: 'actions' }, check, go),
    status,
  );
}
