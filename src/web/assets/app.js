// ATM Maintenance pages: one small app for technicians, supervisors and hosts. No framework and
// no build step: the server embeds this file. Routes live in the URL hash (#/devices, …).
'use strict';

const S = { user: null, csrf: null, config: null };
const main = () => document.getElementById('main');

// ---------- small helpers ----------

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// Replaces an element's children, skipping the null/false of conditional parts.
function put(el, ...kids) {
  el.replaceChildren(...kids.flat().filter((k) => k !== null && k !== undefined && k !== false));
}

function toast(text) {
  const box = document.getElementById('toast');
  put(box, h('div', {}, text));
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => put(box), 6000);
}

const FIELD_NAMES = { non_field_errors: '', details: '', error: '', detail: '' };

// The server's own sentence for a refusal, whatever shape the body has.
function describe(body, status) {
  if (body && typeof body === 'object') {
    for (const k of ['error', 'detail']) {
      if (typeof body[k] === 'string' && !(k === 'error' && body.details)) return body[k];
    }
    const parts = [];
    for (const [k, v] of Object.entries(body)) {
      let text = Array.isArray(v) ? v.join(' ') : typeof v === 'string' ? v : v && typeof v === 'object' ? describe(v) : '';
      if (!text || k === 'status' || k === 'error') continue;
      const name = k in FIELD_NAMES ? '' : k.replace(/_/g, ' ') + ': ';
      parts.push(name + text);
    }
    if (parts.length) return parts.join(' ');
  }
  return `The server answered with status ${status}. Please try again.`;
}

class HttpError extends Error {
  constructor(status, body, message) { super(message); this.status = status; this.body = body; }
}

async function api(method, path, opts = {}) {
  const headers = {};
  if (method !== 'GET' && S.csrf) headers['X-CSRF-Token'] = S.csrf;
  let body = opts.form;
  if (opts.json !== undefined) { headers['Content-Type'] = 'application/json'; body = JSON.stringify(opts.json); }
  let res;
  try {
    res = await fetch(path, { method, headers, body, credentials: 'same-origin' });
  } catch (e) {
    throw new HttpError(0, null, navigator.onLine
      ? 'The server could not be reached. Check the connection and try again.'
      : 'You are offline. Try again when the connection returns.');
  }
  const type = res.headers.get('content-type') || '';
  const data = type.includes('json') ? await res.json().catch(() => null) : null;
  if (res.status === 401 && !opts.quiet) {
    S.user = null; S.csrf = null;
    S.returnTo = location.hash;
    location.hash = '#/login';
  }
  if (!res.ok) throw new HttpError(res.status, data, describe(data, res.status));
  return data;
}

function fmtDate(s) {
  if (!s) return '—';
  const d = new Date(s);
  return isNaN(d) ? s : d.toLocaleString();
}
function shortHash(sha) { return sha ? sha.slice(0, 12) + '…' : ''; }
function badge(text) { return h('span', { class: 'badge ' + String(text).replace(/\s+/g, '') }, text); }
function today() { const d = new Date(); d.setMinutes(d.getMinutes() - d.getTimezoneOffset()); return d.toISOString().slice(0, 10); }
function qs(params) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== '' && v !== null && v !== undefined) p.set(k, v);
  const s = p.toString();
  return s ? '?' + s : '';
}
function hashParams() {
  const q = location.hash.split('?')[1] || '';
  return Object.fromEntries(new URLSearchParams(q));
}
function page(title, ...children) {
  document.title = `${title} · ${S.config ? S.config.brand : 'ATM Maintenance'}`;
  const m = main();
  put(m, h('h1', {}, title), ...children);
  m.focus({ preventScroll: true });
  return m;
}
function errorBox(e) { return h('div', { class: 'alert', role: 'alert' }, e.message || String(e)); }
function field(labelText, input, hint) {
  const id = input.id || 'f-' + Math.random().toString(36).slice(2, 9);
  input.id = id;
  const err = h('div', { class: 'error', id: id + '-err', 'aria-live': 'polite' });
  input.setAttribute('aria-describedby', id + '-err');
  return h('div', { class: 'field' }, h('label', { for: id }, labelText), input, hint ? h('div', { class: 'muted' }, hint) : null, err);
}
function showFieldErrors(form, body) {
  form.querySelectorAll('.error').forEach((e) => { e.textContent = ''; });
  let shown = false;
  if (body && typeof body === 'object') {
    for (const [k, v] of Object.entries(body)) {
      const input = form.querySelector(`[name="${k}"]`);
      if (input && Array.isArray(v)) {
        document.getElementById(input.id + '-err').textContent = v.join(' ');
        shown = true;
      }
    }
  }
  return shown;
}
function confirmDialog(title, text, action, danger) {
  return new Promise((resolve) => {
    const d = h('dialog', { 'aria-labelledby': 'dlg-title' },
      h('h2', { id: 'dlg-title' }, title), h('p', {}, text),
      h('div', { class: 'row' },
        h('button', { class: 'btn ' + (danger ? 'danger' : 'ok'), value: 'yes', onclick: () => { d.close('yes'); } }, action),
        h('button', { class: 'btn secondary', onclick: () => d.close('no') }, 'Cancel')));
    d.addEventListener('close', () => { d.remove(); resolve(d.returnValue === 'yes'); });
    document.body.append(d);
    d.showModal();
  });
}

// ---------- session, navigation, routing ----------

const HOME = { technician: '#/devices', supervisor: '#/dashboard', host: '#/host' };
const NAV = {
  technician: [['#/devices', 'My devices']],
  supervisor: [['#/dashboard', 'Dashboard'], ['#/submissions', 'Submissions'], ['#/storage', 'Storage']],
  host: [['#/host', 'Dashboard'], ['#/technicians', 'Technicians'], ['#/technicians/new', 'New technician'],
    ['#/excel', 'Import Excel'], ['#/storage', 'Storage']],
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
  [/^#\/storage$/, ['host', 'supervisor'], storagePage],
];

async function route() {
  const path = location.hash.split('?')[0] || '#/';
  if (leaveGuard && !leaveGuard()) { history.replaceState(null, '', lastHash); return; }
  leaveGuard = null;
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
let leaveGuard = null;
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

// ---------- technician ----------

async function loadTechnicianData() {
  const [devices, subs, drafts] = await Promise.all([
    api('GET', '/api/technician/devices'),
    api('GET', '/api/technician/submissions'),
    api('GET', '/api/technician/drafts/'),
  ]);
  const latest = {};
  for (const s of subs.submissions) if (!latest[s.device]) latest[s.device] = s; // newest first
  const draftOf = {};
  for (const d of drafts.drafts) draftOf[d.device_id] = d;
  return { devices: devices.devices, subs: subs.submissions, latest, draftOf };
}

function deviceState(d, latest, draft) {
  if (draft) return 'Draft';
  if (latest && latest.status === 'Rejected') return 'Rejected';
  return d.submission_status === 'submitted' ? 'Submitted' : 'Due';
}

async function devicesPage() {
  const data = await loadTechnicianData();
  const p = hashParams();
  const types = [...new Set(data.devices.map((d) => d.type))].sort();
  const search = h('input', { name: 'q', type: 'search', value: p.q || '', placeholder: 'ID, cost center, city' });
  const type = h('select', { name: 'type' }, h('option', { value: '' }, 'All types'),
    types.map((t) => h('option', { value: t, selected: p.type === t }, t)));
  const status = h('select', { name: 'status' }, h('option', { value: '' }, 'Any status'),
    ['Due', 'Draft', 'Rejected', 'Submitted'].map((s) => h('option', { value: s, selected: p.status === s }, s)));
  const list = h('ul', { class: 'list', 'aria-live': 'polite' });
  const count = h('p', { class: 'muted' });
  const draw = () => {
    const q = search.value.trim().toLowerCase();
    const shown = data.devices.filter((d) => {
      const st = deviceState(d, data.latest[d.id], data.draftOf[d.id]);
      return (!q || [d.interaction_id, d.gfm_cost_center, d.city, d.gfm_problem_type].join(' ').toLowerCase().includes(q))
        && (!type.value || d.type === type.value) && (!status.value || st === status.value);
    });
    count.textContent = `${shown.length} of ${data.devices.length} devices`;
    put(list, ...shown.map((d) => {
      const last = data.latest[d.id];
      const st = deviceState(d, last, data.draftOf[d.id]);
      return h('li', { class: 'device' },
        h('a', { class: 'title', href: `#/device/${d.id}` }, d.interaction_id), ' ', badge(st),
        h('div', { class: 'muted' }, `${d.type} · ${d.city} · ${d.gfm_cost_center}`),
        h('div', {}, 'Next due: ', d.next_due_date ? d.next_due_date.description : '—'),
        st === 'Rejected' && last && last.review_remarks ? h('div', { class: 'error' }, 'Rejected: ', last.review_remarks) : null);
    }));
  };
  [search, type, status].forEach((el) => el.addEventListener('input', draw));
  const filters = h('div', { class: 'filters card' }, field('Search', search), field('Type', type), field('Status', status));
  page('My devices', filters, count, list);
  draw();
  if (!data.devices.length) put(list, h('li', {}, 'No devices are assigned to you yet. Your data host imports them from Excel.'));
}

async function deviceDetailPage(id) {
  const data = await loadTechnicianData();
  const d = data.devices.find((x) => String(x.id) === id);
  if (!d) { page('Device not found', errorBox(new Error('This device is not assigned to you.'))); return; }
  const history = data.subs.filter((s) => s.device === d.id);
  const last = history[0];
  const draft = data.draftOf[d.id];
  const st = deviceState(d, last, draft);
  let action;
  if (draft) action = h('a', { class: 'btn', href: `#/visit/${d.id}` }, `Continue visit report (${draft.received} photos received)`);
  else if (st === 'Rejected') action = h('a', { class: 'btn', href: `#/visit/${d.id}` }, 'Resubmit visit report');
  else if (st === 'Due') action = h('a', { class: 'btn', href: `#/visit/${d.id}` }, 'Start visit report');
  else action = h('p', { class: 'notice' }, 'Submitted for this period. Next due: ', d.next_due_date ? d.next_due_date.description : '—');
  const facts = h('dl', { class: 'facts card' },
    ...[['Type', d.type], ['City', d.city], ['Cost center', d.gfm_cost_center], ['Problem type', d.gfm_problem_type],
      ['Status', st], ['Next due', d.next_due_date ? d.next_due_date.description : '—']]
      .flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
  const items = history.map((s) => h('li', {},
    h('strong', {}, s.visit_date), ' ', badge(s.status),
    h('div', { class: 'muted' }, `Filed ${fmtDate(s.created_at)} · ${s.photos.length} photos · job ${s.job_status}`),
    s.status === 'Rejected' && s.review_remarks ? h('div', { class: 'error' }, 'Reason: ', s.review_remarks) : null,
    s.status === 'Approved' && s.pdf_url ? h('a', { href: s.pdf_url, target: '_blank', rel: 'noopener' }, 'Report PDF') : null));
  page(d.interaction_id, facts, action, h('h2', {}, 'Visit history'),
    items.length ? h('ul', { class: 'list' }, items) : h('p', { class: 'muted' }, 'No visit reports yet.'));
}

// SHA-256 of a file in the browser (only where the page is a secure context: HTTPS or localhost).
async function sha256Hex(file) {
  if (!(window.crypto && crypto.subtle)) return null;
  const buf = await crypto.subtle.digest('SHA-256', await file.arrayBuffer());
  return [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

// One PUT with upload progress; resolves {status, body}, rejects only when nothing came back.
function putPhoto(url, file, sha, onProgress) {
  return new Promise((resolve, reject) => {
    const x = new XMLHttpRequest();
    x.open('PUT', url);
    x.setRequestHeader('X-CSRF-Token', S.csrf || '');
    x.setRequestHeader('Content-Type', file.type || 'application/octet-stream');
    if (sha) x.setRequestHeader('X-Content-SHA256', sha);
    x.timeout = 180000;
    x.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
    x.onload = () => {
      let body = null;
      try { body = JSON.parse(x.responseText); } catch (e) { /* not JSON */ }
      resolve({ status: x.status, body });
    };
    x.onerror = () => reject(new Error('the connection was lost'));
    x.ontimeout = () => reject(new Error('the upload timed out'));
    x.onabort = () => reject(new Error('the upload was cancelled'));
    x.send(file);
  });
}

// At most two photos on the wire at once: on a weak link parallel uploads only slow each other.
const lanes = { free: 2, waiting: [] };
function lane() {
  if (lanes.free > 0) { lanes.free -= 1; return Promise.resolve(); }
  return new Promise((res) => lanes.waiting.push(res));
}
function release() {
  const next = lanes.waiting.shift();
  if (next) next(); else lanes.free += 1;
}

async function openDraft(deviceId, visitDate) {
  const { drafts } = await api('GET', '/api/technician/drafts/');
  const existing = drafts.find((d) => d.device_id === deviceId);
  if (existing && (!visitDate || visitDate === existing.visit_date)) return api('GET', `/api/technician/drafts/${existing.id}`);
  return api('POST', '/api/technician/drafts/', { json: { device_id: deviceId, visit_date: visitDate || '' } });
}

async function visitPage(id) {
  const deviceId = Number(id);
  const data = await loadTechnicianData();
  const device = data.devices.find((d) => d.id === deviceId);
  if (!device) { page('Device not found', errorBox(new Error('This device is not assigned to you.'))); return; }
  const last = data.latest[deviceId];
  const rejected = last && last.status === 'Rejected';
  let draft;
  try {
    draft = await openDraft(deviceId, data.draftOf[deviceId] ? null : (rejected ? last.visit_date : today()));
  } catch (e) {
    page(`Visit report · ${device.interaction_id}`, errorBox(e), h('a', { href: `#/device/${deviceId}` }, 'Back to the device'));
    return;
  }
  const slots = {}; // field → {li, state, progress, img, status, file, sha}
  const status = h('p', { id: 'submit-status', class: 'muted', 'aria-live': 'polite' });
  const submitBtn = h('button', { class: 'btn ok', type: 'submit', disabled: true }, 'Submit visit report');
  const result = h('div', { role: 'alert' });
  const pending = () => Object.values(slots).filter((s) => s.status !== 'received');
  const refresh = () => {
    const total = Object.keys(slots).length;
    const done = total - pending().length;
    const busy = Object.values(slots).some((s) => s.status === 'uploading' || s.status === 'waiting');
    submitBtn.disabled = done !== total || busy;
    status.textContent = done === total ? (busy ? 'Finishing uploads…' : 'Every photo is on the server. You can submit.')
      : `${done} of ${total} photos received. Pick the remaining ones to submit.`;
  };
  leaveGuard = () => !Object.values(slots).some((s) => s.status === 'uploading' || s.status === 'waiting')
    || window.confirm('Photos are still uploading. Leave this page anyway? Photos already received stay safe.');

  const showReceived = (slot, photo, localSha) => {
    slot.status = 'received';
    slot.li.className = 'slot received';
    slot.progress.hidden = true;
    const match = localSha ? (localSha === photo.sha256 ? ' (matches this phone)' : ' (differs from this phone!)') : '';
    put(slot.state, badge('Received'), ' Server holds it · SHA-256 ',
      h('code', { title: photo.sha256, 'data-sha256': photo.sha256 }, shortHash(photo.sha256)), match);
    if (!slot.img.src && photo.thumb_url) slot.img.src = photo.thumb_url;
    slot.img.hidden = false;
    slot.thumb.querySelector('.none')?.remove();
    refresh();
  };

  const upload = async (slot, file) => {
    const token = {}; slot.token = token;
    slot.status = 'uploading'; slot.li.className = 'slot';
    slot.img.src = URL.createObjectURL(file); slot.img.hidden = false;
    slot.thumb.querySelector('.none')?.remove();
    refresh();
    if (file.size > S.config.max_photo_bytes) {
      slot.status = 'failed'; slot.li.className = 'slot failed';
      put(slot.state, h('span', { class: 'error' }, `This photo is ${(file.size / 1048576).toFixed(1)} MB; the limit is 10 MB. Pick a smaller one.`));
      refresh(); return;
    }
    const sha = await sha256Hex(file).catch(() => null);
    const url = `/api/technician/drafts/${draft.id}/photos/${slot.field}`;
    for (let attempt = 1; ; attempt++) {
      if (slot.token !== token) return; // a newer photo replaced this one
      slot.status = 'uploading';
      slot.state.textContent = 'Queued…';
      await lane();
      let r = null;
      let lost = null;
      try {
        if (slot.token !== token) return;
        slot.progress.hidden = false; slot.progress.value = 0;
        slot.state.textContent = attempt > 1 ? `Uploading (attempt ${attempt})…` : 'Uploading…';
        r = await putPhoto(url, file, sha, (f) => { slot.progress.value = Math.round(f * 100); });
      } catch (e) {
        lost = e.message;
      } finally {
        release();
      }
      if (slot.token !== token) return;
      if (lost) { await retryWait(slot, token, attempt, lost); continue; }
      if (r.status === 200 || r.status === 201) { showReceived(slot, r.body, sha); return; }
      const why = describe(r.body, r.status);
      if (r.status === 401) { S.returnTo = location.hash; location.hash = '#/login'; return; }
      if (r.status < 500 && r.status !== 408 && r.status !== 429) {
        slot.status = 'failed'; slot.li.className = 'slot failed'; slot.progress.hidden = true;
        put(slot.state, h('span', { class: 'error' }, why));
        refresh(); return;
      }
      await retryWait(slot, token, attempt, why);
    }
  };
  const retryWait = async (slot, token, attempt, why) => {
    slot.status = 'waiting'; slot.li.className = 'slot failed';
    const delay = Math.min(30, 2 ** Math.min(attempt - 1, 5));
    if (!navigator.onLine) {
      slot.state.textContent = `Not sent (${why}). Waiting for the connection…`;
      await new Promise((res) => window.addEventListener('online', res, { once: true }));
      return;
    }
    for (let left = delay; left > 0; left--) {
      if (slot.token !== token) return;
      slot.state.textContent = `Not sent (${why}). Retrying in ${left} s…`;
      await new Promise((res) => setTimeout(res, 1000));
    }
  };

  const sections = draft.sections.map((sec) => h('section', { class: 'card' },
    h('h2', {}, `Section ${sec.section}`), h('p', { class: 'muted' }, sec.title),
    h('ul', { class: 'slots' }, sec.slots.map((sl) => {
      const img = h('img', { alt: `Photo for ${sl.label}`, hidden: true });
      const thumb = h('div', { class: 'thumb' }, img, h('span', { class: 'none' }, 'No photo yet'));
      const state = h('div', { class: 'state', 'aria-live': 'polite' }, 'No photo yet');
      const progress = h('progress', { max: 100, value: 0, hidden: true, 'aria-label': `Upload progress for ${sl.label}` });
      const pick = (capture) => {
        const input = h('input', { type: 'file', class: 'visually-hidden', accept: capture ? 'image/*' : 'image/jpeg,image/png', capture: capture ? 'environment' : null, 'data-field': sl.field, 'data-kind': capture ? 'camera' : 'gallery', 'aria-label': `${capture ? 'Take a photo' : 'Choose from gallery'}: ${sec.section}.${sl.order} ${sl.label}` });
        input.addEventListener('change', () => { if (input.files[0]) upload(slots[sl.field], input.files[0]); input.value = ''; });
        return h('label', { class: 'btn secondary' }, input, capture ? 'Camera' : 'Gallery');
      };
      const li = h('li', { class: 'slot', 'data-field': sl.field },
        thumb, h('div', {}, h('strong', {}, `${sec.section}.${sl.order} ${sl.label}`), state, progress),
        h('div', { class: 'pick' }, pick(true), pick(false)));
      slots[sl.field] = { field: sl.field, li, state, progress, img, thumb, status: 'empty' };
      if (sl.photo) showReceived(slots[sl.field], sl.photo, null);
      return li;
    }))));

  const visitDate = h('input', { name: 'visit_date', type: 'date', value: draft.visit_date, max: today(), required: true, readonly: rejected || null });
  visitDate.addEventListener('change', async () => {
    try {
      draft = await api('POST', '/api/technician/drafts/', { json: { device_id: deviceId, visit_date: visitDate.value } });
      toast('Visit date saved.');
    } catch (e) { put(result, errorBox(e)); }
  });
  const form = h('form', { novalidate: true },
    h('div', { class: 'card' },
      field('Visit date', visitDate, rejected ? 'A resubmission keeps the rejected report\'s visit date.' : null),
      field('Job status', h('select', { name: 'job_status' }, h('option', { value: 'Ok' }, 'Ok'), h('option', { value: 'Not Ok' }, 'Not Ok'))),
      field('Job description', h('textarea', { name: 'job_description', maxlength: 200 }), 'Up to 200 characters.'),
      field('Remarks', h('textarea', { name: 'remarks', maxlength: 500 }), 'Optional, up to 500 characters.')),
    sections,
    h('div', { class: 'sticky' }, status, result, submitBtn));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    put(result);
    submitBtn.disabled = true;
    try {
      const fd = Object.fromEntries(new FormData(form));
      await api('POST', `/api/technician/drafts/${draft.id}/submit/`, { json: fd });
      leaveGuard = null;
      toast('Visit report submitted.');
      location.hash = `#/device/${deviceId}`;
    } catch (e) {
      if (!showFieldErrors(form, e.body)) put(result, errorBox(e));
      else put(result, errorBox(e));
      refresh();
    }
  });
  page(`Visit report · ${device.interaction_id}`,
    h('p', { class: 'muted' }, `${device.type} · ${device.city}. Each photo is sent as soon as you pick it; photos the server holds stay safe if the connection drops or the page reloads.`),
    rejected && last.review_remarks ? h('div', { class: 'alert' }, 'Rejected: ', last.review_remarks) : null,
    form);
  refresh();
}

// ---------- supervisor ----------

async function supervisorDashboard() {
  const s = await api('GET', '/api/supervisor/dashboard-stats');
  const card = (label, n, href) => h('a', { class: 'card stat', href }, h('b', {}, n), label);
  page('Dashboard', h('div', { class: 'grid' },
    card('Pending review', s.pending_submissions, '#/submissions?status=Pending'),
    card('Approved', s.approved_submissions, '#/submissions?status=Approved'),
    card('Rejected', s.rejected_submissions, '#/submissions?status=Rejected'),
    card('All submissions', s.total_submissions, '#/submissions')));
}

let technicianCache = null;
async function submissionsPage() {
  const p = hashParams();
  if (!technicianCache) technicianCache = (await api('GET', '/api/supervisor/technicians')).technicians;
  const sel = (name, label, options) => field(label, h('select', { name }, h('option', { value: '' }, 'All'),
    options.map(([v, t]) => h('option', { value: v, selected: String(p[name] || '') === String(v) }, t))));
  const form = h('form', { class: 'filters card' },
    sel('status', 'Status', ['Pending', 'Approved', 'Rejected'].map((s) => [s, s])),
    sel('device_type', 'Type', S.config.device_types.map((t) => [t, t])),
    sel('city', 'City', S.config.cities.map((c) => [c, c])),
    sel('technician_id', 'Technician', technicianCache.map((t) => [t.id, `${t.username} (${t.city || '—'})`])),
    field('From', h('input', { type: 'date', name: 'date_from', value: p.date_from || '' })),
    field('To', h('input', { type: 'date', name: 'date_to', value: p.date_to || '' })),
    h('div', {}, h('button', { class: 'btn', type: 'submit' }, 'Apply filters')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    location.hash = '#/submissions' + qs({ ...Object.fromEntries(new FormData(form)), page: 1 });
  });
  const pageNo = Number(p.page || 1);
  const params = { ...p, page: pageNo, page_size: 20 };
  const data = await api('GET', '/api/supervisor/submissions' + qs(params));
  const rows = data.submissions.map((s) => h('li', {},
    h('a', { class: 'title', href: `#/submission/${s.id}` }, `${s.device_info.interaction_id} · ${s.visit_date}`), ' ', badge(s.status),
    h('div', { class: 'muted' }, `${s.type} · ${s.device_info.city} · ${s.technician_name} · ${s.photos.length} photos · filed ${fmtDate(s.created_at)}`)));
  const go = (n) => '#/submissions' + qs({ ...p, page: n });
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages' },
    pageNo > 1 ? h('a', { class: 'btn secondary', href: go(pageNo - 1) }, 'Previous') : h('span'),
    h('span', {}, `Page ${data.page} of ${Math.max(1, data.total_pages)} · ${data.count} submissions`),
    pageNo < data.total_pages ? h('a', { class: 'btn secondary', href: go(pageNo + 1) }, 'Next') : h('span'));
  page('Submissions', form, rows.length ? h('ul', { class: 'list' }, rows) : h('p', { class: 'muted' }, 'No submissions match these filters.'), pager);
}

function openViewer(photos, index) {
  let i = index;
  const img = h('img', { alt: '' });
  const cap = h('div', { class: 'cap', 'aria-live': 'polite' });
  const original = h('a', { class: 'btn secondary', target: '_blank', rel: 'noopener' }, 'Open original');
  const close = () => { box.remove(); document.removeEventListener('keydown', keys); opener?.focus(); };
  const show = () => {
    const p = photos[i];
    img.src = p.preview_url || p.file_url;
    img.alt = p.caption;
    cap.textContent = `${i + 1} / ${photos.length} · ${p.caption} · SHA-256 ${shortHash(p.sha256)}`;
    original.href = p.file_url;
  };
  const move = (d) => { i = (i + d + photos.length) % photos.length; show(); };
  const keys = (e) => {
    if (e.key === 'Tab') {
      // Focus stays inside the viewer while it is open.
      const items = [...box.querySelectorAll('a, button')];
      const at = items.indexOf(document.activeElement);
      const next = e.shiftKey ? (at <= 0 ? items.length - 1 : at - 1) : (at + 1) % items.length;
      items[next].focus();
      e.preventDefault();
    } else if (e.key === 'Escape') close();
    else if (e.key === 'ArrowRight') move(1);
    else if (e.key === 'ArrowLeft') move(-1);
  };
  const closeBtn = h('button', { class: 'btn secondary', onclick: close }, 'Close');
  const box = h('div', { class: 'viewer', role: 'dialog', 'aria-modal': 'true', 'aria-label': 'Photo viewer' },
    h('div', { class: 'bar' }, cap, original, closeBtn),
    h('figure', {}, img),
    h('div', { class: 'bar' }, h('button', { class: 'btn secondary', onclick: () => move(-1) }, '← Previous'),
      h('button', { class: 'btn secondary', onclick: () => move(1) }, 'Next →')));
  let startX = null;
  box.addEventListener('pointerdown', (e) => { startX = e.clientX; });
  box.addEventListener('pointerup', (e) => {
    if (startX !== null && Math.abs(e.clientX - startX) > 50) move(e.clientX < startX ? 1 : -1);
    startX = null;
  });
  const opener = document.activeElement;
  document.addEventListener('keydown', keys);
  document.body.append(box);
  show();
  closeBtn.focus();
}

function photoSections(s) {
  const plan = (S.config.plans || {})[s.photo_plan] || { sections: [] };
  const flat = [];
  const out = plan.sections.map((sec) => {
    const photos = s.photos.filter((p) => p.section === sec.section).sort((a, b) => a.order_index - b.order_index);
    return h('section', { class: 'card' }, h('h2', {}, `Section ${sec.section}`), h('p', { class: 'muted' }, sec.title),
      h('div', { class: 'photos' }, photos.map((p) => {
        const slot = sec.slots.find((x) => x.order === p.order_index);
        const caption = `${sec.section}.${p.order_index} ${slot ? slot.label : ''}`;
        const at = flat.push({ ...p, caption }) - 1;
        return h('button', { type: 'button', onclick: () => openViewer(flat, at), 'aria-label': `Open photo ${caption}` },
          h('img', { src: p.thumb_url, alt: caption, loading: 'lazy', width: 320, height: 240 }), h('span', {}, caption));
      })));
  });
  return out;
}

async function submissionPage(id) {
  const { submission: s } = await api('GET', `/api/supervisor/submissions/${id}`);
  const out = h('div', { role: 'alert' });
  const act = async (fn) => { put(out); try { await fn(); } catch (e) { put(out, errorBox(e)); } };
  const approve = h('button', { class: 'btn ok', type: 'button', onclick: () => act(async () => {
    if (!await confirmDialog('Approve this report?', 'The PDF report is made and e-mailed to the client.', 'Approve')) return;
    await api('PATCH', `/api/supervisor/submissions/${id}/approve/`, { json: {} });
    toast('Approved. The report is being prepared.');
    submissionPage(id);
  }) }, 'Approve');
  const reject = h('button', { class: 'btn danger', type: 'button', onclick: () => rejectDialog(id) }, 'Reject');
  const preview = h('button', { class: 'btn secondary', type: 'button', onclick: () => act(async () => {
    const r = await api('POST', `/api/supervisor/submissions/${id}/preview-pdf/`, { json: {} });
    put(out, h('p', { class: 'notice' }, 'PDF preview ready: ', h('a', { href: r.pdf_url, target: '_blank', rel: 'noopener' }, 'open the preview')));
  }) }, 'Preview PDF');
  const job = s.report;
  const report = h('div', { class: 'card' }, h('h2', {}, 'Report'),
    job ? h('p', {}, 'PDF: ', badge(job.pdf_status), ' · e-mail: ', badge(job.email_status), ` · attempts ${job.attempts}`,
      job.last_error ? h('div', { class: 'error' }, 'Last error: ', job.last_error) : null) : h('p', { class: 'muted' }, 'No report yet (made on approval).'),
    s.pdf_url ? h('a', { class: 'btn', href: s.pdf_url, download: '' }, 'Download PDF') : null, ' ',
    job && job.state === 'failed' ? h('button', { class: 'btn secondary', type: 'button', onclick: () => act(async () => {
      await api('POST', `/api/supervisor/submissions/${id}/report/retry/`, { json: {} });
      toast('Report queued again.'); submissionPage(id);
    }) }, 'Retry report') : null,
    job && (job.pdf_status === 'pending' || job.email_status === 'pending') ? h('button', { class: 'btn secondary', type: 'button', onclick: () => submissionPage(id) }, 'Refresh status') : null);
  const facts = [['Status', badge(s.status)], ['Device', s.device_info.interaction_id], ['Type', s.type], ['City', s.device_info.city],
    ['Cost center', s.device_info.gfm_cost_center], ['Technician', `${s.technician_name} (${s.technician_city || '—'})`],
    ['Visit date', s.visit_date], ['Job status', s.job_status], ['Job description', s.job_description || '—'],
    ['Technician remarks', s.technician_remarks || '—'], ['Review remarks', s.review_remarks || '—'],
    ['Reviewed', s.reviewed_by ? `${s.reviewed_by} · ${fmtDate(s.reviewed_at)}` : '—'], ['Filed', fmtDate(s.created_at)]];
  page(`Report ${s.device_info.interaction_id} · ${s.visit_date}`,
    h('dl', { class: 'facts card' }, facts.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
    h('div', { class: 'row' }, s.status !== 'Approved' ? approve : null, s.status === 'Pending' ? reject : null, preview),
    out, report, ...photoSections(s));
}

function rejectDialog(id) {
  const text = h('textarea', { name: 'remarks', minlength: 10, maxlength: 2000, required: true });
  const err = h('div', { class: 'error', role: 'alert' });
  const form = h('form', { method: 'dialog' }, h('h2', {}, 'Reject this report'),
    field('Reason (at least 10 characters; the technician sees it)', text), err,
    h('div', { class: 'row' }, h('button', { class: 'btn danger', type: 'submit' }, 'Reject'),
      h('button', { class: 'btn secondary', type: 'button', onclick: () => d.close() }, 'Cancel')));
  const d = h('dialog', {}, form);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const remarks = text.value.trim();
    if (remarks.length < 10) { err.textContent = 'The reason must be at least 10 characters long.'; return; }
    try {
      await api('PATCH', `/api/supervisor/submissions/${id}/reject/`, { json: { remarks } });
      d.close(); toast('Rejected. The technician sees the reason.'); submissionPage(id);
    } catch (e) { err.textContent = e.message; }
  });
  d.addEventListener('close', () => d.remove());
  document.body.append(d);
  d.showModal();
  text.focus();
}

// ---------- host ----------

async function hostDashboard() {
  const s = await api('GET', '/api/host/dashboard-stats');
  page('Dashboard',
    h('div', { class: 'grid' },
      h('a', { class: 'card stat', href: '#/technicians' }, h('b', {}, s.total_technicians), 'Technicians'),
      h('div', { class: 'card stat' }, h('b', {}, s.total_devices), 'Devices')),
    h('div', { class: 'row' }, h('a', { class: 'btn', href: '#/technicians/new' }, 'New technician'),
      h('a', { class: 'btn secondary', href: '#/excel' }, 'Import Excel')),
    h('h2', {}, 'Newest technicians'),
    h('ul', { class: 'list' }, s.technicians_with_devices.map((t) => h('li', {},
      h('a', { class: 'title', href: `#/technician/${t.id}` }, t.username), ` · ${t.city || '—'} · ${t.device_count} devices`))));
}

async function techniciansPage() {
  const techs = await api('GET', '/api/host/technicians/');
  const search = h('input', { type: 'search', name: 'q', placeholder: 'Name or city' });
  const list = h('ul', { class: 'list' });
  const out = h('div', { role: 'status' });
  const draw = () => {
    const q = search.value.trim().toLowerCase();
    const shown = techs.filter((t) => !q || `${t.username} ${t.city || ''}`.toLowerCase().includes(q));
    put(list, ...shown.map((t) => h('li', {},
      h('a', { class: 'title', href: `#/technician/${t.id}` }, t.username), ` · ${t.city || '—'} `,
      h('button', { class: 'btn danger', type: 'button', 'aria-label': `Delete ${t.username}`, onclick: async () => {
        if (!await confirmDialog(`Delete ${t.username}?`, 'Their device assignments, visit reports with photos and Excel uploads are removed for good.', 'Delete', true)) return;
        try {
          const r = await api('DELETE', `/api/host/technicians/${t.id}/`);
          techs.splice(techs.indexOf(t), 1); draw();
          put(out, h('p', { class: 'notice', id: 'deleted-summary' }, r.message || `Deleted ${t.username}.`, ' ', summarizeDeleted(r)));
        } catch (e) { put(out, errorBox(e)); }
      } }, 'Delete'))));
    if (!shown.length) put(list, h('li', {}, 'No technicians match.'));
  };
  search.addEventListener('input', draw);
  page(`Technicians (${techs.length})`, h('div', { class: 'card' }, field('Search', search)), out, list);
  draw();
}

function summarizeDeleted(r) {
  const d = r.deleted_data || {};
  const f = d.physical_files || {};
  return `Removed ${d.device_assignments ?? 0} device assignments, ${d.submissions ?? 0} visit reports, ` +
    `${d.excel_uploads ?? 0} Excel uploads, and files: ${f.photos ?? 0} photos, ${f.pdfs ?? 0} PDFs, ${f.excel_files ?? 0} Excel files.`;
}

function newTechnicianPage() {
  const form = h('form', { class: 'card', novalidate: true },
    field('Username', h('input', { name: 'username', autocomplete: 'off', required: true, autocapitalize: 'none' })),
    field('Password', h('input', { name: 'password', type: 'password', autocomplete: 'new-password', required: true }),
      'At least 8 characters, not only digits, not too close to the username.'),
    field('City', h('select', { name: 'city', required: true }, h('option', { value: '' }, 'Choose a city'),
      S.config.cities.map((c) => h('option', { value: c }, c)))),
    h('div', { id: 'create-out', role: 'alert' }),
    h('button', { class: 'btn', type: 'submit' }, 'Create technician'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const out = form.querySelector('#create-out');
    put(out);
    try {
      const r = await api('POST', '/api/host/technicians/', { json: Object.fromEntries(new FormData(form)) });
      const u = r.user || r;
      form.reset();
      showFieldErrors(form, null);
      put(out, h('p', { class: 'notice' }, `Technician ${u.username} created. `,
        h('a', { href: '#/excel?technician=' + u.id }, 'Import their devices')));
    } catch (e) {
      if (!showFieldErrors(form, e.body)) put(out, errorBox(e));
    }
  });
  page('New technician', form);
}

async function technicianFilesPage(id) {
  const [techs, files] = await Promise.all([api('GET', '/api/host/technicians/'), api('GET', `/api/host/technicians/${id}/uploaded-files`)]);
  const t = techs.find((x) => String(x.id) === id);
  page(t ? `${t.username} · uploaded files` : 'Uploaded files',
    h('a', { class: 'btn', href: `#/excel?technician=${id}` }, 'Import Excel for this technician'),
    files.files.length ? h('div', { class: 'table-wrap' }, h('table', {},
      h('thead', {}, h('tr', {}, ['Type', 'File', 'Rows', 'Uploaded', 'By'].map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', {}, files.files.map((f) => h('tr', {}, h('td', {}, f.device_type), h('td', {}, f.file_name), h('td', {}, f.row_count),
        h('td', {}, fmtDate(f.upload_date)), h('td', {}, f.uploaded_by)))))) : h('p', { class: 'muted' }, 'No files uploaded yet.'));
}

async function excelPage() {
  const p = hashParams();
  const techs = await api('GET', '/api/host/technicians/');
  const tech = h('select', { name: 'technician_id', required: true }, h('option', { value: '' }, 'Choose a technician'),
    techs.map((t) => h('option', { value: t.id, selected: String(t.id) === p.technician }, `${t.username} (${t.city || '—'})`)));
  const type = h('select', { name: 'device_type', required: true }, h('option', { value: '' }, 'Choose a type'),
    S.config.device_types.map((x) => h('option', { value: x }, x)));
  const file = h('input', { name: 'file', type: 'file', accept: '.xlsx,.xls', required: true });
  const out = h('div', { role: 'status' });
  const form = h('form', { class: 'card', novalidate: true }, field('Technician', tech), field('Device type', type), field('Excel file', file),
    h('button', { class: 'btn', type: 'submit' }, 'Preview'));
  const send = (dry) => {
    const fd = new FormData(form);
    if (dry) fd.set('dry_run', 'true');
    return api('POST', '/api/host/upload-excel/', { form: fd });
  };
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    put(out);
    showFieldErrors(form, null);
    try {
      const r = await send(true);
      const cols = r.data.length ? Object.keys(r.data[0]) : [];
      // The sheet's own header row, when it has one, names the columns.
      const headed = r.data.length && /interaction/i.test(String(r.data[0][cols[0]] ?? ''));
      const names = headed ? cols.map((c) => r.data[0][c] || c) : cols;
      const body = headed ? r.data.slice(1) : r.data;
      const importBtn = h('button', { class: 'btn ok', type: 'button', onclick: async () => {
        if (r.replaces && !await confirmDialog('Replace the current list?',
          `${r.technician.username} already has a ${type.value} list (${r.replaces.file_name}, ${r.replaces.row_count} rows). Importing replaces it; their visit history is kept.`, 'Replace')) return;
        try {
          const done = await send(false);
          put(out, h('p', { class: 'notice' }, `Imported ${done.total_rows} rows for ${done.technician.username} (${done.devices_created} new devices).`));
        } catch (e) { put(out, errorBox(e)); }
      } }, `Import ${r.total_rows} rows`);
      put(out, h('h2', {}, `Preview of ${r.file_name}`),
        h('p', {}, `${r.total_rows} rows for ${r.technician.username}.`, r.replaces ? ` Replaces ${r.replaces.file_name} (${r.replaces.row_count} rows).` : ''),
        h('div', { class: 'table-wrap' }, h('table', {}, h('thead', {}, h('tr', {}, names.map((c) => h('th', { scope: 'col' }, c)))),
          h('tbody', {}, body.map((row) => h('tr', {}, cols.map((c) => h('td', {}, row[c] ?? ''))))))),
        r.total_rows > r.data.length ? h('p', { class: 'muted' }, `First ${r.data.length} rows shown.`) : null,
        importBtn);
    } catch (e) {
      if (!showFieldErrors(form, e.body)) put(out, errorBox(e));
    }
  });
  page('Import Excel', form, out);
}

// ---------- storage (host and supervisor) ----------

function bytes(n) {
  if (n === null || n === undefined) return '—';
  const u = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0; let v = n;
  while (v >= 1024 && i < u.length - 1) { v /= 1024; i++; }
  return `${v.toFixed(i ? 1 : 0)} ${u[i]}`;
}

async function storagePage() {
  const r = await api('GET', '/api/admin/doctor');
  const st = r.storage || {};
  const db = r.database || {};
  const m = st.mount || {};
  const sp = st.space || {};
  const facts = [
    ['Verdict', r.verdict || (r.healthy ? 'healthy' : 'problems found')],
    ['Store', st.store], ['Media root or bucket', st.media_root || st.bucket], ['Chosen by', st.media_root_source],
    ['Mount', m.mount_point ? `${m.mount_point} (${m.fs_type} from ${m.source}${m.read_only ? ', read-only' : ''})` : null],
    ['Survives a restart', st.persistent === undefined ? null : (st.persistent ? 'yes' : `no — ${st.ephemeral_reason || ''}`)],
    ['Free space', sp.total_bytes ? `${bytes(sp.free_bytes)} free of ${bytes(sp.total_bytes)} (${sp.used_percent}% used)` : null],
    ['Days until full', r.days_until_full === null || r.days_until_full === undefined ? null
      : (r.days_until_full > 3650 ? 'more than 10 years at the recent rate' : `${Math.floor(r.days_until_full)} days at the recent rate`)],
    ['Write probe', st.writable === undefined ? null : (st.writable ? `passed at ${new Date().toLocaleTimeString()}` : 'FAILED')],
    ['Identity', `${st.identity || '—'}${st.storage_id ? ` (${st.storage_id})` : ''}`],
    ['Database', db.backend ? `${db.backend} · ${db.location} · ${db.durability && db.durability.durable ? 'durable' : 'NOT durable'}` : null],
    ['Stored files', db.stored_objects === null || db.stored_objects === undefined ? null : `${db.stored_objects} (${bytes(db.stored_bytes)})`],
  ].filter(([, v]) => v !== null && v !== undefined && v !== '');
  const problems = (st.problems || []).map((p) => h('li', {}, p.message || JSON.stringify(p)));
  if (db.error) problems.push(h('li', {}, db.error));
  const warnings = (st.warnings || []).map((w) => h('li', {}, String(w)));
  const scrub = (r.scrub_findings || []).map((f) => h('li', {}, Array.isArray(f) ? f.join(': ') : JSON.stringify(f)));
  page('Storage',
    problems.length ? h('div', { class: 'alert', role: 'alert' }, h('strong', {}, 'Problems'), h('ul', {}, problems))
      : st.persistent === false
        ? h('div', { class: 'alert', role: 'alert' }, h('strong', {}, 'Media is NOT on persistent storage: '),
          st.ephemeral_reason || 'it would be lost on a restart or redeploy', '. Fine for a trial; not for real reports.')
        : h('p', { class: 'notice' }, 'Storage is healthy and persistent.'),
    warnings.length ? h('div', { class: 'card' }, h('strong', {}, 'Warnings'), h('ul', {}, warnings)) : null,
    scrub.length ? h('div', { class: 'alert' }, h('strong', {}, 'Scrub findings'), h('ul', {}, scrub)) : null,
    h('dl', { class: 'facts card', id: 'storage-facts' }, facts.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, String(v))])),
    h('details', { class: 'card' }, h('summary', {}, 'Full report'), h('pre', {}, JSON.stringify(r, null, 2))));
}

start();
