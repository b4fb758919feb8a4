// ATM Maintenance pages: one small app for technicians, supervisors and hosts. No framework and no
// build step: the server embeds these modules. Routes live in the URL hash (#/devices, …); this
// module signs people in and out, draws the menu of their role and dispatches routes.

import { S, api, errorBox, field, h, page, put, showFieldErrors } from './core.js';
import { deviceDetailPage, devicesPage, visitPage } from './technician.js';
import { submissionPage, submissionsPage, supervisorDashboard } from './supervisor.js';
import { auditPage, excelPage, insightsPage, hostDashboard, newTechnicianPage, technicianFilesPage, techniciansPage } from './host.js';
import { storagePage } from './storage.js';
import { clearPending } from './pending.js';

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
  put(nav, ...links, h('span', { class: 'who' }, `${S.user.username} (${S.user.role})`),
    h('button', { type: 'button', onclick: signOut }, 'Sign out'));
}

async function signOut() {
  try { await api('DELETE', '/api/auth/session/', { quiet: true }); } catch (e) { /* signed out locally anyway */ }
  await clearPending();
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
  try {
    S.config = await api('GET', '/api/ui/config', { quiet: true });
    document.getElementById('brand-name').textContent = S.config.brand;
  } catch (e) { S.config = { brand: 'ATM Maintenance', cities: [], device_types: [], plans: {} }; }
  try {
    const s = await api('GET', '/api/auth/session/', { quiet: true });
    S.user = s.user; S.csrf = s.csrf_token;
  } catch (e) { S.user = null; }
  window.addEventListener('hashchange', route);
  route();
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
