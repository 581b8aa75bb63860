// The console shell: loads the session, then routes #/page/arg?query to a page module.
import { loadSession, signOut } from './api.js';
import { errorBox, h } from './dom.js';

const PAGES = {
  '': () => import('./pages/dashboard.js'),
  devices: () => import('./pages/devices.js'),
  users: () => import('./pages/users.js'),
  locations: () => import('./pages/locations.js'),
  sessions: () => import('./pages/sessions.js'),
  templates: () => import('./pages/templates.js'),
  audit: () => import('./pages/audit.js'),
  tokens: () => import('./pages/tokens.js'),
};

const main = document.getElementById('main');
let generation = 0;

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, qs] = raw.split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { page: parts[0] ?? '', args: parts.slice(1), query: new URLSearchParams(qs ?? '') };
}

async function route() {
  const { page, args, query } = parseHash();
  const mine = ++generation;
  for (const a of document.querySelectorAll('nav a[data-route]')) {
    if (a.dataset.route === page) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const load = PAGES[page];
  if (!load) {
    main.replaceChildren(h('h1', {}, 'Not found'), h('p', {}, 'There is no such page. '), h('a', { href: '#/' }, 'Back to the dashboard'));
    return;
  }
  try {
    const mod = await load();
    const view = await mod.render({ args, query, reload: route });
    if (mine !== generation) return;
    main.replaceChildren(...[view].flat().filter((n) => n !== null && n !== undefined && n !== false));
    const title = main.querySelector('h1');
    document.title = `${title ? title.textContent : 'Admin'} · deskprov`;
    main.focus({ preventScroll: true });
  } catch (err) {
    if (mine !== generation) return;
    main.replaceChildren(h('h1', {}, 'Could not load this page'), errorBox(err));
  }
}

const session = await loadSession();
document.getElementById('actor').textContent = `${session.actor.name} (${session.actor.role})`;
if (session.actor.role !== 'admin') {
  main.before(h('p', { class: 'readonly-banner', id: 'readonly-banner' }, 'Read-only access: you can look at everything but change nothing. Sign in with an admin token to make changes.'));
}
document.getElementById('sign-out').addEventListener('click', () => signOut());
window.addEventListener('hashchange', route);
route();
