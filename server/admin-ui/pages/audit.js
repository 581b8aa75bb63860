// The audit log: who changed what and when, newest first, with filters and older pages on request.
import { api } from '../api.js';
import { busy, deviceLink, field, fmtTime, formValues, h, input, link, liveFilter, showError, table } from '../dom.js';

const PAGE = 100;

export async function render(ctx) {
  const q = ctx.query;
  const filters = h(
    'form',
    { class: 'filters', role: 'search', 'aria-label': 'Filter the audit log' },
    field('Who', input('actor', { value: q.get('actor') ?? '', placeholder: 'Token name' })),
    field('Action', input('action', { value: q.get('action') ?? '', placeholder: 'e.g. device. or user.update' })),
    field('Target', input('target', { value: q.get('target') ?? '', placeholder: 'e.g. device:001565aabbcc' })),
  );
  const results = h('div', { 'aria-live': 'polite' });
  let entries = [];
  let nextBefore = null;
  let query = {};

  const more = h('button', { type: 'button' }, 'Show older entries');
  more.addEventListener('click', () => busy(more, results, () => page(nextBefore)));

  function show() {
    results.replaceChildren(
      h('p', { class: 'count' }, `${entries.length}${nextBefore ? '+' : ''} entr${entries.length === 1 ? 'y' : 'ies'}`),
      auditTable(entries),
      nextBefore ? h('div', { class: 'actions' }, more) : null,
    );
  }
  async function page(before) {
    const r = await api('GET', '/audit', { query: { ...query, limit: PAGE, before: before ?? undefined } });
    entries = before ? [...entries, ...r.entries] : r.entries;
    nextBefore = r.nextBefore;
    show();
  }
  async function load() {
    query = Object.fromEntries(Object.entries(formValues(filters)).filter(([, v]) => v !== ''));
    history.replaceState(null, '', `#/audit${Object.keys(query).length ? `?${new URLSearchParams(query)}` : ''}`);
    try {
      await page(null);
    } catch (err) {
      showError(results, err);
    }
  }
  liveFilter(filters, load, 300);
  await load();
  return [h('h1', {}, 'Audit log'), filters, results];
}

function target(t) {
  const [kind, id] = String(t ?? '').split(/:(.*)/s);
  if (kind === 'device' && id) return deviceLink(id);
  if (kind === 'user' && id) return link(`#/users/${encodeURIComponent(id)}`, `user ${id}`);
  if (kind === 'template' && id && id.includes('/')) return link(`#/templates/${id}`, `template ${id}`);
  return t ?? '';
}

const show = (v) => (v === null || v === undefined ? '—' : typeof v === 'string' ? (/^\d{4}-\d\d-\d\dT/.test(v) ? fmtTime(v) : v) : typeof v === 'object' ? (Array.isArray(v) ? v.map(show).join(', ') : '…') : String(v));

/** What changed, field by field: "label: Desk 1 → Desk 2"; a creation lists what was set. */
function changes(e) {
  const before = e.before && typeof e.before === 'object' ? e.before : {};
  const after = e.after && typeof e.after === 'object' ? e.after : {};
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((k) => k !== 'createdAt' && k !== 'updatedAt');
  const lines = [];
  for (const k of keys) {
    const a = before[k];
    const b = after[k];
    if (JSON.stringify(a) === JSON.stringify(b)) continue;
    if (!(k in before)) lines.push(`${k}: ${show(b)}`);
    else if (!(k in after)) lines.push(`${k}: ${show(a)} (removed)`);
    else lines.push(`${k}: ${show(a)} → ${show(b)}`);
  }
  return lines.length ? h('ul', { class: 'changes' }, lines.map((l) => h('li', {}, l))) : '';
}

function auditTable(entries) {
  return table(
    [
      { label: 'When', cell: (e) => h('time', { datetime: e.at }, fmtTime(e.at)) },
      { label: 'Who', cell: (e) => `${e.actor}${e.role ? ` (${e.role})` : ''}` },
      { label: 'Action', cell: (e) => h('code', {}, e.action) },
      { label: 'Target', cell: (e) => target(e.target) },
      { label: 'Change', cell: (e) => changes(e) },
    ],
    entries,
    { empty: 'No audit entry matches these filters.', label: 'Audit log' },
  );
}
