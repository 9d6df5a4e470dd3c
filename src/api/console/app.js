// Console entry: sign-in, hash routing, role-aware views and a refresh loop every 2 seconds.
import { api, ApiError, token } from './api.js';
import { h, tick } from './dom.js';
import { activeView, approvalsView } from './view-lists.js';
import { alertView, deviceView } from './view-device.js';
import { modeView } from './view-mode.js';

const REFRESH_MS = 2000;
const roles = ['viewer', 'approver', 'admin'];
const $ = (id) => document.getElementById(id);

let me = null;
let view = null;
let timer = null;
let refreshing = null;

const ctx = {
  get me() { return me; },
  can: (role) => me !== null && roles.indexOf(me.role) >= roles.indexOf(role),
  flash,
  refresh: () => refresh(),
};

function flash(text, kind = 'ok') {
  const el = h(`p.flash.${kind}`, text);
  $('flash').replaceChildren(el);
  setTimeout(() => el.remove(), kind === 'error' ? 10_000 : 4000);
}

function route() {
  const decode = (s) => { try { return decodeURIComponent(s); } catch { return ''; } }; // a hand-typed '%' must not break the page
  const [name, arg] = location.hash.replace(/^#\/?/, '').split('/').map(decode);
  switch (name) {
    case 'active': return ['active', activeView()];
    case 'device': return ['device', deviceView(arg || null)];
    case 'alert': return ['device', alertView(arg)];
    case 'mode': return ['mode', modeView()];
    default: return ['approvals', approvalsView()];
  }
}

function show() {
  const [section, v] = route();
  view = v;
  document.title = `${v.title} · sheriff`;
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('current', a.dataset.view === section);
  view.mount($('view'));
  void refresh();
}

/** One refresh at a time; header (mode, pending count) and the current view. */
function refresh() {
  if (!me) return Promise.resolve();
  // A view switched or a button pressed mid-refresh gets a fresh round once the running one ends.
  if (refreshing) return refreshing.then(() => refresh());
  refreshing = (async () => {
    try {
      const current = view;
      const [mode, pending] = await Promise.all([
        api('GET', '/v1/mode'),
        api('GET', '/v1/actions?state=pending_approval&limit=1000'),
        current.refresh(ctx),
      ]);
      $('mode-badge').textContent = mode.mode;
      $('mode-badge').className = `badge mode-${mode.mode}`;
      $('pending-count').textContent = pending.items.length ? String(pending.items.length) : '';
      $('status').textContent = `updated ${new Date().toLocaleTimeString()}`;
      $('status').classList.remove('error');
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return signOut('Your token is no longer accepted; sign in again.');
      $('status').textContent = `not updated: ${err.message}`;
      $('status').classList.add('error');
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

function schedule() {
  clearTimeout(timer);
  timer = setTimeout(async () => {
    if (!document.hidden) await refresh();
    if (me) schedule();
  }, REFRESH_MS);
}

function signedIn(who) {
  me = who;
  $('sign-in').hidden = true;
  $('nav').hidden = false;
  $('who').hidden = false;
  $('who-name').textContent = `${who.name} (${who.role})`;
  document.body.dataset.role = who.role;
  show();
  schedule();
}

function signOut(message) {
  token.clear();
  me = null;
  clearTimeout(timer);
  $('nav').hidden = true;
  $('who').hidden = true;
  $('view').replaceChildren();
  $('sign-in').hidden = false;
  $('sign-in-error').textContent = message ?? '';
  delete document.body.dataset.role;
}

async function signIn(e) {
  e.preventDefault();
  const t = $('token').value.trim();
  $('sign-in-error').textContent = '';
  try {
    const who = await api('GET', '/v1/whoami', undefined, t);
    token.set(t);
    $('token').value = '';
    signedIn(who);
  } catch (err) {
    $('sign-in-error').textContent = err.status === 401 ? 'That token is not valid.' : `Sign-in failed: ${err.message}`;
  }
}

async function start() {
  $('sign-in-form').addEventListener('submit', signIn);
  $('sign-out').addEventListener('click', () => signOut('Signed out.'));
  window.addEventListener('hashchange', () => { if (me) show(); });
  setInterval(tick, 1000);
  if (!token.get()) return signOut();
  try {
    signedIn(await api('GET', '/v1/whoami'));
  } catch (err) {
    signOut(err.status === 401 ? '' : `Could not reach sheriff: ${err.message}`);
  }
}

void start();
