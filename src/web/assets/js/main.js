// ATM Maintenance pages: one small app for technicians, supervisors and hosts. No framework and no
// build step: the server embeds these modules. Routes live in the URL hash (#/devices, …); this
// module signs people in and out, draws the menu of their role and dispatches routes.

import { S, api, cachedGet, ensureSession, errorBox, field, forgetKept, h, keepUser, keptUser, page, put, showFieldErrors, toast } from './core.js';
import { deviceDetailPage, devicesPage, sendWaiting, visitPage } from './technician.js';
import { submissionPage, submissionsPage, supervisorDashboard } from './supervisor.js';
import { auditPage, excelPage, insightsPage, hostDashboard, newTechnicianPage, technicianFilesPage, techniciansPage } from './host.js';
import { storagePage } from './storage.js';
import { clearPending } from './pending.js';
import { refreshCount, showsNotifications } from './notifications.js';

const HOME = { technician: '#/devices', supervisor: '#/dashboard', host: '#/host' };
const NAV = {
  technician: [['#/devices', 'My devices']],
  supervisor: [['#/dashboard', 'Dashboard'], ['#/submissions', 'Submissions'], ['#/storage', 'Storage']],
  host: [['#/host', 'Dashboard'], ['#/technicians', 'Technicians'], ['#/technicians/new', 'New technician'],
    ['#/excel', 'Import Excel'], ['#/insights', 'Insight'], ['#/audit', 'Audit'], ['#/storage', 'Storage'], ['/docs', 'API']],
};

function renderNav() {
  const nav = document.getElementById('nav');
  if (!S.user) { put(nav); return; }
  const here = location.hash.split('?')[0];
  const links = NAV[S.user.role].map(([href, text]) =>
    h('a', { href, 'aria-current': here === href ? 'page' : null }, text));
  const count = showsNotifications() ? h('a', { id: 'notif-count', href: '#/devices' }, 'Notifications') : null;
  put(nav, ...links, count, h('span', { class: 'who' }, `${S.user.username} (${S.user.role})`),
    h('button', { type: 'button', onclick: signOut }, 'Sign out'));
  if (count) refreshCount();
}

async function signOut() {
  try { await api('DELETE', '/api/auth/session/', { quiet: true }); } catch (e) { /* signed out locally anyway */ }
  await clearPending();
  forgetKept();
  S.user = null; S.csrf = null;
  location.hash = '#/login';
}

const ROUTES = [
  [/^#\/login$/, null, loginPage],
  [/^#\/devices$/, 'technician', devicesPage],
  [/^#\/device\/(\d+)$/, 'technician', deviceDetailPage],
  [/^#\/visit\/(\d+)$/, 'technician', visitPage],
  [/^#\/dashboard$/, 'supervisor', supervisorDashboard],
  [/^#\/submissions$/, 'supervisor', submissionsPage],
  [/^#\/submission\/(\d+)$/, 'supervisor', submissionPage],
  [/^#\/host$/, 'host', hostDashboard],
  [/^#\/technicians$/, 'host', techniciansPage],
  [/^#\/technicians\/new$/, 'host', newTechnicianPage],
  [/^#\/technician\/(\d+)$/, 'host', technicianFilesPage],
  [/^#\/excel$/, 'host', excelPage],
  [/^#\/audit$/, 'host', auditPage],
  [/^#\/insights$/, 'host', insightsPage],
  [/^#\/storage$/, ['host', 'supervisor'], storagePage],
];

async function route() {
  const path = location.hash.split('?')[0] || '#/';
  if (S.leaveGuard && !S.leaveGuard()) { history.replaceState(null, '', lastHash); return; }
  S.leaveGuard = null;
  S.openVisit = null;
  if (S.onUnload) { window.removeEventListener('beforeunload', S.onUnload); S.onUnload = null; }
  lastHash = location.hash;
  if (!S.user && path !== '#/login') { location.hash = '#/login'; return; }
  for (const [re, roles, fn] of ROUTES) {
    const m = path.match(re);
    if (!m) continue;
    if (roles && !(Array.isArray(roles) ? roles : [roles]).includes(S.user.role)) break;
    renderNav();
    try { await fn(...m.slice(1)); } catch (e) { page('Something went wrong', errorBox(e)); }
    return;
  }
  location.hash = S.user ? HOME[S.user.role] : '#/login';
}
let lastHash = location.hash;

async function start() {
  window.addEventListener('online', () => { document.getElementById('offline').hidden = true; });
  window.addEventListener('offline', () => { document.getElementById('offline').hidden = false; });
  document.getElementById('offline').hidden = navigator.onLine;
  window.addEventListener('online', () => refreshSession().then(() => setTimeout(sendWaiting, 1000)));
  setInterval(sendWaiting, 30000);
  startServiceWorker();
  try {
    S.config = (await cachedGet('/api/ui/config')).data;
    document.getElementById('brand-name').textContent = S.config.brand;
  } catch (e) { S.config = { brand: 'ATM Maintenance', cities: [], device_types: [], plans: {} }; }
  try {
    const s = await api('GET', '/api/auth/session/', { quiet: true });
    S.user = s.user; S.csrf = s.csrf_token;
    keepUser(s.user);
  } catch (e) {
    // With no connection the app opens as whoever was signed in here; online, the server decides.
    S.user = e.status === 0 ? keptUser() : null;
    if (e.status !== 0) forgetKept();
  }
  window.addEventListener('hashchange', route);
  await route();
  sendWaiting();
}

// Back online after opening offline: the session's CSRF token, so changes can be sent.
async function refreshSession() {
  try {
    await ensureSession();
  } catch (e) {
    if (e.status === 401) { S.user = null; forgetKept(); location.hash = '#/login'; }
  }
}

// The service worker keeps the app's files so it opens offline; when a new version takes over
// (a new binary, picked up on this load), the page says so.
function startServiceWorker() {
  if (!('serviceWorker' in navigator)) return;
  const before = navigator.serviceWorker.controller;
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    if (!before) return; // the first install: nothing was running before
    const box = document.getElementById('updated');
    box.hidden = false;
    toast('The app was updated to a new version.');
  });
  navigator.serviceWorker.register('/sw.js').catch(() => { /* the app still works online */ });
}

function loginPage() {
  if (S.user) { location.hash = HOME[S.user.role]; return; }
  renderNav();
  const form = h('form', { class: 'card', novalidate: true },
    field('Username', h('input', { name: 'username', autocomplete: 'username', required: true, autocapitalize: 'none' })),
    field('Password', h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true })),
    h('div', { id: 'login-error', role: 'alert' }),
    h('button', { class: 'btn', type: 'submit' }, 'Sign in'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const fd = new FormData(form);
    const out = form.querySelector('#login-error');
    put(out);
    try {
      const s = await api('POST', '/api/auth/session/', { json: Object.fromEntries(fd), quiet: true });
      S.user = s.user; S.csrf = s.csrf_token;
      keepUser(s.user);
      // Back to where an ended session interrupted, else the role's home page.
      const back = S.returnTo && S.returnTo !== '#/login' ? S.returnTo : null;
      S.returnTo = null;
      location.hash = back || HOME[S.user.role];
    } catch (e) {
      if (!showFieldErrors(form, e.body)) put(out, errorBox(e));
      else if (e.body && e.body.non_field_errors) put(out, errorBox(e));
    }
  });
  page('Sign in', form);
  form.querySelector('input').focus();
}

start();
