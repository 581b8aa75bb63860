// Small DOM helpers. Text always goes in as text (never as HTML), so API data cannot inject markup.
import { ApiError, serverNow } from './api.js';

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'value') el.value = v;
    else if (k === 'checked' || k === 'selected') el[k] = Boolean(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

let uid = 0;
/** A labelled form field: every input gets a <label for>. */
export function field(label, input, hint) {
  if (!input.id) input.id = `f${++uid}`;
  const hintEl = hint ? h('small', { id: `${input.id}-hint`, class: 'hint' }, hint) : null;
  if (hintEl) input.setAttribute('aria-describedby', hintEl.id);
  if (input.type === 'checkbox') return h('div', { class: 'field check' }, input, h('label', { for: input.id }, label), hintEl);
  return h('div', { class: 'field' }, h('label', { for: input.id }, label), input, hintEl);
}

export const input = (name, attrs = {}) => h('input', { name, type: 'text', ...attrs });
export const checkbox = (name, checked, attrs = {}) => h('input', { name, type: 'checkbox', checked, ...attrs });

/** <select> from [value, text] pairs; `value` is selected. */
export function select(name, options, value, attrs = {}) {
  return h('select', { name, ...attrs }, options.map(([v, t]) => h('option', { value: v, selected: String(v) === String(value ?? '') }, t)));
}

/** columns: [{ label, cell(row) → node|string }] */
export function table(columns, rows, { caption, empty = 'Nothing to show.', label } = {}) {
  if (rows.length === 0) return h('p', { class: 'empty' }, empty);
  return h(
    'div',
    { class: 'table-wrap', role: 'region', 'aria-label': label ?? caption ?? 'table', tabindex: '0' },
    h(
      'table',
      {},
      caption ? h('caption', {}, caption) : null,
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col' }, c.label)))),
      h('tbody', {}, rows.map((r) => h('tr', {}, columns.map((c) => h('td', { 'data-label': c.label }, c.cell(r) ?? ''))))),
    ),
  );
}

export function section(title, ...children) {
  const id = `s${++uid}`;
  return h('section', { class: 'card', 'aria-labelledby': id }, h('h2', { id }, title), ...children);
}

export const badge = (text, kind = text) => h('span', { class: `badge badge-${kind}` }, text);
export const link = (href, text) => h('a', { href }, text);
export const deviceLink = (mac, text) => link(`#/devices/${mac}`, text ?? formatMac(mac));
export const formatMac = (mac) => (mac ?? '').match(/.{2}/g)?.join(':') ?? mac;

export function fmtTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function ago(iso) {
  if (!iso) return 'never';
  const s = Math.round((serverNow() - Date.parse(iso)) / 1000);
  if (s < 0) return `in ${duration(-s)}`;
  return s < 60 ? 'just now' : `${duration(s)} ago`;
}

function duration(s) {
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} days`;
}

/** The API's error, with what its details say: fields, CSV rows, template line. */
export function errorBox(err) {
  const box = h('div', { class: 'error', role: 'alert' });
  if (!(err instanceof ApiError)) {
    box.append(h('p', {}, `Something went wrong: ${err?.message ?? err}`));
    return box;
  }
  box.append(h('p', { class: 'error-message' }, err.message));
  const d = err.details;
  if (d?.rows) {
    box.append(
      table(
        [
          { label: 'Line', cell: (r) => String(r.line) },
          { label: 'MAC', cell: (r) => r.mac ?? '' },
          { label: 'Problems', cell: (r) => h('ul', {}, r.errors.map((e) => h('li', {}, e))) },
        ],
        d.rows,
        { label: 'Rows with problems' },
      ),
    );
  } else if (d?.fields) {
    // The message usually is the first field's problem already: list only what it does not say.
    const more = d.fields.map((f) => `${f.field}: ${f.message}`).filter((line) => line !== err.message);
    if (more.length) box.append(h('ul', {}, more.map((line) => h('li', {}, line))));
  } else if (d && typeof d === 'object' && 'reason' in d) {
    box.append(h('p', { class: 'error-line' }, d.line ? `Line ${d.line}: ${d.reason}` : d.reason));
  } else if (d !== undefined && d !== null) {
    box.append(h('pre', {}, JSON.stringify(d, null, 2)));
  }
  return box;
}

/** Shows `err` in `slot` (replacing what was there); returns it for callers that want to rethrow. */
export function showError(slot, err) {
  slot.replaceChildren(errorBox(err));
  return err;
}

let toastTimer;
export function toast(message) {
  const el = document.getElementById('toast');
  if (!el) return;
  el.textContent = message;
  el.classList.add('show');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el.classList.remove('show'), 4000);
}

/** Runs `fn` with `button` disabled; errors land in `slot`. */
export async function busy(button, slot, fn) {
  button.disabled = true;
  slot?.replaceChildren();
  try {
    return await fn();
  } catch (err) {
    if (slot) showError(slot, err);
    else toast(err.message);
    return undefined;
  } finally {
    button.disabled = false;
  }
}

/** Values of a form's named controls (checkboxes as booleans). */
export function formValues(form) {
  const out = {};
  for (const el of form.elements) {
    if (!el.name) continue;
    out[el.name] = el.type === 'checkbox' ? el.checked : el.value.trim();
  }
  return out;
}

/** A filter form that reloads as the admin types (after `delayMs` of quiet) and at once on Enter. */
export function liveFilter(form, load, delayMs, onInput = () => {}) {
  let timer;
  form.addEventListener('input', () => {
    clearTimeout(timer);
    onInput();
    timer = setTimeout(load, delayMs);
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    load();
  });
}
