// Templates: pick one, edit, validate, preview for a device, diff against what phones get now,
// save with a comment, history and rollback. A refused save shows its line and reason.
import { ApiError, api, canChange, optional } from '../api.js';
import { badge, busy, errorBox, field, fmtTime, h, input, link, section, select, table, toast } from '../dom.js';

export async function render(ctx) {
  const list = await optional('GET', '/templates');
  if (list === null) return [h('h1', {}, 'Templates'), h('p', { class: 'notice' }, 'Template editing is not available on this server yet.')];
  const [vendor, name] = ctx.args;
  if (vendor && name) return renderEditor(ctx, vendor, name, list.templates);
  return [
    h('h1', {}, 'Templates'),
    h('p', { class: 'muted' }, 'Each vendor ships default templates; a saved template overrides the default for every phone of that vendor (or model).'),
    table(
      [
        { label: 'Vendor', cell: (t) => t.vendor },
        { label: 'Template', cell: (t) => link(`#/templates/${t.vendor}/${t.name}`, t.name) },
        { label: 'Kind', cell: (t) => `${t.view ?? ''} ${t.format ?? ''}`.trim() },
        { label: 'Source', cell: (t) => badge(t.origin, t.origin === 'override' ? 'owner' : 'neutral') },
        { label: 'Version', cell: (t) => (t.version ? `v${t.version}` : '—') },
        { label: 'Changed', cell: (t) => (t.updatedAt ? `${fmtTime(t.updatedAt)}${t.author ? ` by ${t.author}` : ''}` : '') },
      ],
      list.templates,
      { empty: 'No templates.', label: 'Templates' },
    ),
  ];
}

async function renderEditor(ctx, vendor, name, all) {
  const path = `/templates/${encodeURIComponent(vendor)}/${encodeURIComponent(name)}`;
  const [current, { versions }, { devices }] = await Promise.all([
    api('GET', path, { raw: true }).catch((err) => {
      // No text anywhere yet (e.g. an optional boot file): start from an empty editor.
      if (err instanceof ApiError && err.status === 404 && !err.noRoute) return { body: '', headers: new Headers({ 'X-Template-Origin': 'none' }) };
      throw err;
    }),
    api('GET', `${path}/history`),
    api('GET', '/devices', { query: { vendor } }),
  ]);
  const entry = all.find((t) => t.vendor === vendor && t.name === name);
  const origin = current.headers.get('X-Template-Origin') ?? entry?.origin ?? '';
  const version = Number(current.headers.get('X-Template-Version') ?? 0);

  const editor = h('textarea', { name: 'source', class: 'code', rows: '22', spellcheck: 'false', autocomplete: 'off', wrap: 'off' });
  editor.value = current.body;
  const device = select('mac', [['', 'Sample device (no real phone)'], ...devices.map((d) => [d.mac, `${d.mac}${d.label ? ` ${d.label}` : ''} (${d.state})`])], devices[0]?.mac ?? '');
  const state = select('state', [['owner', 'owner'], ['guest', 'guest'], ['unassigned', 'unassigned']], 'owner');
  const comment = input('comment', { maxlength: '500', placeholder: 'What changed and why' });
  const problems = h('div', { class: 'problems', 'aria-live': 'assertive' });
  const output = h('div', { class: 'output', 'aria-live': 'polite' });

  const candidate = () => ({ text: editor.value, type: 'text/plain' });
  const macQuery = () => (device.value ? { mac: device.value } : { state: state.value });
  const showProblem = (err) => {
    problems.replaceChildren(problemBox(err, editor));
    editor.setAttribute('aria-invalid', 'true');
  };
  const ok = () => {
    problems.replaceChildren();
    editor.removeAttribute('aria-invalid');
  };
  const act = (label, cls, fn) => {
    const b = h('button', { type: 'button', class: cls }, label);
    b.addEventListener('click', () =>
      busy(b, null, async () => {
        try {
          await fn();
        } catch (err) {
          showProblem(err);
        }
      }),
    );
    return b;
  };

  const validate = act('Validate', '', async () => {
    await api('POST', `${path}/preview`, candidate());
    ok();
    output.replaceChildren(h('p', { class: 'notice' }, 'Valid: the template compiles and renders for a phone with an owner, a guest and no one.'));
  });
  const preview = act('Preview', '', async () => {
    const text = await api('POST', `${path}/preview`, { ...candidate(), query: macQuery() });
    ok();
    output.replaceChildren(h('h3', {}, `Preview for ${device.value || `a sample ${state.value} device`}`), h('pre', { class: 'code' }, text));
  });
  const diff = act('Diff with what phones get now', '', async () => {
    const r = await api('POST', `${path}/diff`, { ...candidate(), query: device.value ? { mac: device.value } : {} });
    ok();
    output.replaceChildren(...diffView(r, device.value));
  });
  const save = act('Save', 'primary', async () => {
    const r = await api('PUT', path, { ...candidate(), query: { comment: comment.value.trim() } });
    ok();
    await ctx.reload();
    toast(`Saved as v${r.version}; ${r.devicesChanged} phone(s) will resync.`);
  });

  return [
    h('p', { class: 'crumbs' }, link('#/templates', '← Templates')),
    h('div', { class: 'page-head' }, h('h1', {}, `${vendor} / ${name}`), badge(origin === 'override' ? `override v${version}` : origin, origin === 'override' ? 'owner' : 'neutral')),
    h(
      'div',
      { class: 'editor-layout' },
      h(
        'div',
        { class: 'editor-main' },
        field('Template source', editor),
        problems,
        h('div', { class: 'form-grid' }, field('Preview device', device), field('…or sample state', state), canChange() ? field('Comment for this version', comment) : null),
        h('div', { class: 'actions' }, validate, preview, diff, canChange() ? save : null),
        output,
      ),
      section('History', historyTable(versions, version, path, editor, ctx), origin === 'override' && canChange() ? resetButton(path, ctx) : null),
    ),
  ];
}

function problemBox(err, editor) {
  const d = err.details;
  if (!(d && typeof d === 'object' && typeof d.line === 'number')) return errorBox(err);
  const box = h(
    'div',
    { class: 'error', role: 'alert' },
    h('p', { class: 'error-message' }, `Refused: line ${d.line}${d.state ? ` (${d.state})` : ''}`),
    h('pre', { class: 'error-reason' }, d.reason),
  );
  for (const p of d.problems ?? []) if (p.line !== d.line || p.reason !== d.reason) box.append(h('p', {}, `Line ${p.line}: ${p.reason ?? p.message ?? ''}`));
  const go = h('button', { type: 'button' }, `Go to line ${d.line}`);
  go.addEventListener('click', () => selectLine(editor, d.line));
  box.append(go);
  return box;
}

function selectLine(editor, line) {
  const lines = editor.value.split('\n');
  const start = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
  editor.focus();
  editor.setSelectionRange(start, start + (lines[line - 1]?.length ?? 0));
}

function diffView(r, mac) {
  if (typeof r === 'string') return [h('h3', {}, `Changes for ${mac}`), r ? diffPre(r) : h('p', { class: 'notice' }, 'No change for this phone.')];
  const out = [h('h3', {}, `${r.affected} of ${r.considered} phone(s) would get a different configuration`)];
  if (r.partial) out.push(h('p', { class: 'notice' }, `Stopped after ${r.considered} of ${r.total} phones to keep serving phones; saving checks them all.`));
  if (r.common) out.push(r.common.changed ? diffPre(r.common.diff) : h('p', { class: 'notice' }, 'The common file would not change.'));
  for (const d of r.devices ?? []) if (d.changed) out.push(h('h4', {}, d.mac), diffPre(d.diff));
  return out;
}

function diffPre(text) {
  return h('pre', { class: 'code diff' }, text.split('\n').map((l) => h('span', { class: /^\+(?!\+\+)/.test(l) ? 'add' : /^-(?!--)/.test(l) ? 'del' : '' }, `${l}\n`)));
}

function historyTable(versions, current, path, editor, ctx) {
  if (versions.length === 0) return h('p', { class: 'empty' }, 'No saved versions: phones get the shipped default.');
  return h(
    'ol',
    { class: 'history', 'aria-label': 'Template history' },
    versions.map((v) => {
      const buttons = [];
      if (!v.restoresDefault) {
        const load = h('button', { type: 'button' }, 'Load', h('span', { class: 'sr-only' }, ` v${v.version} into the editor`));
        load.addEventListener('click', () => busy(load, null, async () => (editor.value = await api('GET', path, { query: { version: v.version } }))));
        buttons.push(load);
      }
      if (v.version !== current && canChange()) {
        const back = h('button', { type: 'button' }, `Roll back to v${v.version}`);
        back.addEventListener('click', () =>
          busy(back, null, async () => {
            if (!confirm(`Roll back to version ${v.version}? Phones whose configuration changes will resync.`)) return;
            const r = await api('POST', `${path}/rollback`, { json: { version: v.version } });
            await ctx.reload();
            toast(`Rolled back: now v${r.version}; ${r.devicesChanged} phone(s) will resync.`);
          }),
        );
        buttons.push(back);
      }
      return h(
        'li',
        {},
        h('p', { class: 'history-head' }, h('strong', {}, `v${v.version}`), v.version === current ? badge('current', 'owner') : null, h('span', { class: 'muted' }, ` ${fmtTime(v.createdAt)}${v.author ? ` · ${v.author}` : ''}`)),
        h('p', { class: 'history-comment' }, v.restoresDefault ? `${v.comment ?? ''} (default restored)`.trim() : v.comment || h('em', { class: 'muted' }, 'no comment')),
        h('div', { class: 'actions' }, buttons),
      );
    }),
  );
}

function resetButton(path, ctx) {
  const b = h('button', { type: 'button', class: 'danger subtle' }, 'Restore the default');
  b.addEventListener('click', () =>
    busy(b, null, async () => {
      if (!confirm('Go back to the shipped default template? Phones whose configuration changes will resync.')) return;
      await api('DELETE', path);
      await ctx.reload();
      toast('Default restored');
    }),
  );
  return h('div', { class: 'actions' }, b);
}
