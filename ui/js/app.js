// The dashboard: a hash router over page modules. Each page's render() resolves once its
// data is on screen; then <body> gets data-loaded="1" (the UI tests wait for it). When the
// API answers 401 the login page takes the route's place (<body data-auth="login">); after
// logging in the same route is shown again.
import { h, errorBox } from './dom.js';
import { ApiError, whoami, logout } from './api.js';
import * as loginPage from './pages/login.js';
import * as runs from './pages/runs.js';
import * as run from './pages/run.js';
import * as deployments from './pages/deployments.js';
import * as deployment from './pages/deployment.js';
import * as workQueues from './pages/work_queues.js';
import * as workQueue from './pages/work_queue.js';
import * as flows from './pages/flows.js';
import * as storage from './pages/storage.js';
import * as notifications from './pages/notifications.js';
import * as concurrencyLimits from './pages/concurrency_limits.js';
import * as placeholder from './pages/placeholder.js';

const routes = [
  [/^\/runs\/([0-9a-fA-F-]+)$/, 'runs', run],
  [/^\/runs$/, 'runs', runs],
  [/^\/deployments\/([0-9a-fA-F-]+)$/, 'deployments', deployment],
  [/^\/deployments$/, 'deployments', deployments],
  [/^\/work-queues\/([A-Za-z0-9_.-]+)$/, 'work-queues', workQueue],
  [/^\/work-queues$/, 'work-queues', workQueues],
  [/^\/flows$/, 'flows', flows],
  [/^\/storage$/, 'storage', storage],
  [/^\/notifications$/, 'notifications', notifications],
  [/^\/concurrency-limits$/, 'concurrency-limits', concurrencyLimits],
  [/^\/(logs)$/, null, placeholder],
];

let generation = 0;
let user = null;  // {name, scope} of the session, once known

// The header's "name (scope)" and its Log out button.
function showUser() {
  const box = document.getElementById('user');
  if (!box) return;
  box.hidden = !user;
  document.getElementById('whoami').textContent = user ? `${user.name} (${user.scope})` : '';
}

async function logOut() {
  try { await logout(); } catch (_) { /* the cookie is cleared or already gone */ }
  user = null;
  route();
}

export function parseHash() {
  const raw = window.location.hash.replace(/^#/, '') || '/runs';
  const [path, qs] = raw.split('?');
  return { path, query: new URLSearchParams(qs || '') };
}

// Changes the hash's query (filters, cursors) and re-renders.
export function setQuery(values) {
  const { path, query } = parseHash();
  for (const [k, v] of Object.entries(values)) {
    if (v === undefined || v === null || v === '') query.delete(k);
    else query.set(k, v);
  }
  const qs = query.toString();
  window.location.hash = '#' + path + (qs ? '?' + qs : '');
}

async function route() {
  const gen = ++generation;
  const { path, query } = parseHash();
  const main = document.getElementById('main');
  document.body.dataset.loaded = '0';
  let found = routes.find(([re]) => re.test(path));
  if (!found) found = [/^/, null, null];
  const [re, nav, page] = found;
  const match = path.match(re);
  const navKey = nav || (match && match[1]) || '';
  for (const a of document.querySelectorAll('#nav a')) {
    a.classList.toggle('active', a.dataset.nav === navKey);
  }
  const view = h('div', {});
  let needLogin = false;
  try {
    if (!page) {
      view.append(h('h1', {}, 'Not found'), h('p', {}, 'No page at ', h('span', { class: 'mono' }, path), '. ',
        h('a', { href: '#/runs' }, 'Back to flow runs')));
    } else {
      await page.render(view, match.slice(1), query);
    }
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      needLogin = true;
      view.replaceChildren();
      loginPage.render(view, /^not logged in/.test(err.message) ? '' : err.message);
    } else {
      view.prepend(errorBox(err));
    }
  }
  if (!needLogin && !user) {
    try { user = await whoami(); } catch (_) { user = null; }
  }
  if (gen !== generation) return;  // a newer navigation won
  if (needLogin) user = null;
  showUser();
  main.replaceChildren(view);
  document.body.dataset.auth = needLogin ? 'login' : 'in';
  document.body.dataset.page = needLogin ? 'login' : navKey;
  document.body.dataset.route = path;
  document.body.dataset.loaded = '1';
}

window.addEventListener('hashchange', route);
window.addEventListener('weft:refresh', route);
window.addEventListener('weft:login', () => { user = null; route(); });
document.getElementById('logout').addEventListener('click', logOut);
route();
