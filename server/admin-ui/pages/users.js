// Users: list and add; one user's page to edit, set or remove the PIN, and see where they sit.
import { api, canChange } from '../api.js';
import { badge, busy, checkbox, deviceLink, field, fmtTime, formValues, h, input, link, section, table, toast } from '../dom.js';

export async function render(ctx) {
  if (ctx.args[0]) return renderOne(ctx, ctx.args[0]);
  const { users } = await api('GET', '/users');
  const search = input('q', { type: 'search', placeholder: 'Extension or name' });
  const results = h('div', { 'aria-live': 'polite' });
  const show = () => {
    const q = search.value.trim().toLowerCase();
    const list = users.filter((u) => !q || u.extension.toLowerCase().includes(q) || u.displayName.toLowerCase().includes(q));
    results.replaceChildren(h('p', { class: 'count' }, `${list.length} user${list.length === 1 ? '' : 's'}`), usersTable(list));
  };
  search.addEventListener('input', show);
  show();
  return [
    h('h1', {}, 'Users'),
    h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter users', onsubmit: (e) => e.preventDefault() }, field('Search', search)),
    results,
    canChange() ? section('Add a user', addForm(ctx)) : null,
  ];
}

function usersTable(users) {
  return table(
    [
      { label: 'Extension', cell: (u) => link(`#/users/${encodeURIComponent(u.extension)}`, u.extension) },
      { label: 'Name', cell: (u) => u.displayName },
      { label: 'SIP user', cell: (u) => u.sipUsername },
      { label: 'Hot desking', cell: (u) => (u.hotdeskAllowed ? 'allowed' : 'not allowed') },
      { label: 'PIN', cell: (u) => (u.lockedUntil ? badge('locked', 'warn') : u.hasPin ? 'set' : 'none') },
      { label: 'Email', cell: (u) => u.email ?? '' },
    ],
    users,
    { empty: 'No users yet.', label: 'Users' },
  );
}

function addForm(ctx) {
  const status = h('div');
  const form = h(
    'form',
    { class: 'form-grid' },
    field('Extension', input('extension', { required: true, maxlength: '32', autocomplete: 'off' })),
    field('Display name', input('displayName', { required: true, maxlength: '64' })),
    field('SIP password', input('sipPassword', { type: 'password', required: true, autocomplete: 'new-password' })),
    field('PIN', input('pin', { type: 'password', inputmode: 'numeric', autocomplete: 'new-password' }), 'Digits; used to sign in at a hot desk.'),
    field('Email', input('email', { type: 'email' })),
    field('Allowed to hot desk', checkbox('hotdeskAllowed', true)),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Add user')),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(form.querySelector('button[type=submit]'), status, async () => {
      const v = formValues(form);
      const body = { extension: v.extension, displayName: v.displayName, sipPassword: v.sipPassword, hotdeskAllowed: v.hotdeskAllowed };
      if (v.pin) body.pin = v.pin;
      if (v.email) body.email = v.email;
      const u = await api('POST', '/users', { json: body });
      await ctx.reload();
      toast(`Added user ${u.extension}`);
    });
  });
  return [status, form];
}

async function renderOne(ctx, ext) {
  const u = await api('GET', `/users/${encodeURIComponent(ext)}`);
  const path = `/users/${encodeURIComponent(u.extension)}`;
  return [
    h('p', { class: 'crumbs' }, link('#/users', '← Users')),
    h('h1', {}, `${u.displayName} (${u.extension})`),
    h(
      'div',
      { class: 'grid' },
      section(
        'Where they are sitting now',
        u.sittingAt?.length
          ? h('ul', {}, u.sittingAt.map((s) => h('li', {}, deviceLink(s.mac), ` since ${fmtTime(s.startedAt)}`)))
          : h('p', { class: 'empty' }, 'Not signed in at any hot desk.'),
        h('h3', {}, 'Phones they own'),
        u.devices?.length ? h('ul', {}, u.devices.map((m) => h('li', {}, deviceLink(m)))) : h('p', { class: 'empty' }, 'None.'),
      ),
      section('PIN', canChange() ? pinForm(u, path, ctx) : h('p', {}, pinState(u))),
    ),
    canChange() ? section('Edit user', editForm(u, path, ctx)) : null,
  ];
}

const pinState = (u) => `${u.hasPin ? 'A PIN is set.' : 'No PIN is set: this user cannot sign in at a hot desk.'}${u.lockedUntil ? ` Locked until ${fmtTime(u.lockedUntil)}.` : ''}`;

function pinForm(u, path, ctx) {
  const status = h('div');
  const pin = input('pin', { type: 'password', inputmode: 'numeric', autocomplete: 'new-password', required: true });
  const clear = h('button', { type: 'button', class: 'danger subtle' }, 'Remove PIN');
  const form = h(
    'form',
    {},
    h('p', {}, pinState(u)),
    field(u.hasPin ? 'New PIN' : 'PIN', pin),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, u.hasPin ? 'Reset PIN' : 'Set PIN'), u.hasPin ? clear : null),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(form.querySelector('button[type=submit]'), status, async () => {
      await api('PATCH', path, { json: { pin: pin.value.trim() } });
      await ctx.reload();
      toast('PIN saved');
    });
  });
  clear.addEventListener('click', () =>
    busy(clear, status, async () => {
      if (!confirm(`Remove the PIN of ${u.extension}? They can no longer sign in at a hot desk until a new PIN is set.`)) return;
      await api('PATCH', path, { json: { pin: null } });
      await ctx.reload();
      toast('PIN removed');
    }),
  );
  return [status, form];
}

function editForm(u, path, ctx) {
  const status = h('div');
  const form = h(
    'form',
    { class: 'form-grid' },
    field('Display name', input('displayName', { required: true, value: u.displayName, maxlength: '64' })),
    field('SIP user name', input('sipUsername', { required: true, value: u.sipUsername, maxlength: '64' })),
    field('New SIP password', input('sipPassword', { type: 'password', autocomplete: 'new-password' }), 'Leave empty to keep the current one.'),
    field('Email', input('email', { type: 'email', value: u.email ?? '' })),
    field('Allowed to hot desk', checkbox('hotdeskAllowed', u.hotdeskAllowed)),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Save changes')),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(form.querySelector('button[type=submit]'), status, async () => {
      const v = formValues(form);
      const body = { displayName: v.displayName, sipUsername: v.sipUsername, email: v.email || null, hotdeskAllowed: v.hotdeskAllowed };
      if (v.sipPassword) body.sipPassword = v.sipPassword;
      await api('PATCH', path, { json: body });
      await ctx.reload();
      toast('User saved');
    });
  });
  const del = h('button', { type: 'button', class: 'danger subtle' }, 'Delete user');
  del.addEventListener('click', () =>
    busy(del, status, async () => {
      if (!confirm(`Delete ${u.extension}? Their sessions end and phones they own become unassigned.`)) return;
      await api('DELETE', path);
      toast('User deleted');
      location.hash = '#/users';
    }),
  );
  return [status, form, h('div', { class: 'actions' }, del)];
}
