// API tokens: who may call the API (the PBX, scripts, readonly viewers). A new or rotated token
// is shown once, right here; the server keeps only its hash.
import { api, canChange } from '../api.js';
import { busy, field, fmtTime, formValues, h, input, section, select, table, toast } from '../dom.js';

let justIssued = null;

const ROLES = [['readonly', 'readonly'], ['pbx', 'pbx'], ['admin', 'admin']];

export async function render(ctx) {
  const { tokens } = await api('GET', '/tokens');
  // A token just created or rotated, shown on this render only (the page re-renders after the change).
  const issued = justIssued;
  justIssued = null;
  const shown = h(
    'div',
    { 'aria-live': 'polite' },
    issued
      ? h(
          'div',
          { class: 'notice secret-once' },
          h('p', {}, `${issued.verb} token ${issued.name} (${issued.role}). Copy it now: it is not shown again.`),
          field(`Token for ${issued.name}`, input('token', { value: issued.token, readonly: true, spellcheck: 'false', autocomplete: 'off', class: 'code' })),
        )
      : null,
  );
  const once = async (verb, t) => {
    justIssued = { verb, name: t.name, role: t.role, token: t.token };
    await ctx.reload();
  };
  const status = h('div');

  const columns = [
    { label: 'Name', cell: (t) => t.name },
    { label: 'Role', cell: (t) => t.role },
    { label: 'Created', cell: (t) => fmtTime(t.createdAt) },
    { label: 'Rotated', cell: (t) => (t.rotatedAt ? fmtTime(t.rotatedAt) : 'never') },
    { label: 'Last used', cell: (t) => (t.lastUsedAt ? fmtTime(t.lastUsedAt) : 'never') },
  ];
  if (canChange()) {
    columns.push({
      label: 'Actions',
      cell: (t) => {
        const rotate = h('button', { type: 'button' }, 'Rotate', h('span', { class: 'sr-only' }, ` ${t.name}`));
        rotate.addEventListener('click', () =>
          busy(rotate, status, async () => {
            if (!confirm(`Rotate token ${t.name}? The old token stops working at once: whatever uses it needs the new one.`)) return;
            await once('Rotated', await api('POST', `/tokens/${encodeURIComponent(t.name)}/rotate`));
          }),
        );
        const revoke = h('button', { type: 'button', class: 'danger subtle' }, 'Revoke', h('span', { class: 'sr-only' }, ` ${t.name}`));
        revoke.addEventListener('click', () =>
          busy(revoke, status, async () => {
            if (!confirm(`Revoke token ${t.name}? Whatever uses it can no longer call deskprov.`)) return;
            await api('DELETE', `/tokens/${encodeURIComponent(t.name)}`);
            await ctx.reload();
            toast(`Token ${t.name} revoked`);
          }),
        );
        return h('div', { class: 'actions' }, rotate, revoke);
      },
    });
  }

  return [
    h('h1', {}, 'API tokens'),
    h('p', { class: 'muted' }, 'Named tokens for the API. The admin token from the configuration is not listed here.'),
    shown,
    status,
    table(columns, tokens, { empty: 'No named tokens yet.', label: 'API tokens' }),
    canChange() ? section('Create a token', createForm(ctx, once)) : null,
  ];
}

function createForm(ctx, once) {
  const status = h('div');
  const form = h(
    'form',
    { class: 'form-grid' },
    field('Name', input('name', { required: true, maxlength: '64', pattern: '[A-Za-z0-9._\\-]{1,64}', autocomplete: 'off' }), 'Letters, digits, . _ -'),
    field('Role', select('role', ROLES, 'readonly'), 'readonly looks; pbx signs users in and out from the PBX; admin does everything'),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Create token')),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(form.querySelector('button[type=submit]'), status, async () => {
      await once('Created', await api('POST', '/tokens', { json: formValues(form) }));
    });
  });
  return [status, form];
}
