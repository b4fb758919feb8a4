// Shared by every page: the session state, the DOM builder, API calls and their error messages,
// form helpers and dialogs.

export const S = { user: null, csrf: null, config: null };
export const main = () => document.getElementById('main');

export function h(tag, attrs, ...children) {
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
export function put(el, ...kids) {
  el.replaceChildren(...kids.flat().filter((k) => k !== null && k !== undefined && k !== false));
}

export function toast(text) {
  const box = document.getElementById('toast');
  put(box, h('div', {}, text));
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => put(box), 6000);
}

export const FIELD_NAMES = { non_field_errors: '', details: '', error: '', detail: '' };

// The server's own sentence for a refusal, whatever shape the body has.
export function describe(body, status) {
  if (body && typeof body === 'object') {
    // `detail` first: a 413 says {"error": "Request Too Large", "detail": <the reason>}.
    for (const k of ['detail', 'error']) {
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

export class HttpError extends Error {
  constructor(status, body, message) { super(message); this.status = status; this.body = body; }
}

export async function api(method, path, opts = {}) {
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
    localStorage.removeItem('atm-user');
    S.returnTo = location.hash;
    location.hash = '#/login';
  }
  if (!res.ok) throw new HttpError(res.status, data, describe(data, res.status));
  return data;
}

export function fmtDate(s) {
  if (!s) return '—';
  const d = new Date(s);
  return isNaN(d) ? s : d.toLocaleString();
}
export function shortHash(sha) { return sha ? sha.slice(0, 12) + '…' : ''; }
export function badge(text) { return h('span', { class: 'badge ' + String(text).replace(/\s+/g, '') }, text); }
export function today() { const d = new Date(); d.setMinutes(d.getMinutes() - d.getTimezoneOffset()); return d.toISOString().slice(0, 10); }
export function qs(params) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== '' && v !== null && v !== undefined) p.set(k, v);
  const s = p.toString();
  return s ? '?' + s : '';
}
export function hashParams() {
  const q = location.hash.split('?')[1] || '';
  return Object.fromEntries(new URLSearchParams(q));
}
export function page(title, ...children) {
  document.title = `${title} · ${S.config ? S.config.brand : 'ATM Maintenance'}`;
  const m = main();
  put(m, h('h1', {}, title), ...children);
  m.focus({ preventScroll: true });
  return m;
}
export function errorBox(e) { return h('div', { class: 'alert', role: 'alert' }, e.message || String(e)); }
export function field(labelText, input, hint) {
  const id = input.id || 'f-' + Math.random().toString(36).slice(2, 9);
  input.id = id;
  const err = h('div', { class: 'error', id: id + '-err', 'aria-live': 'polite' });
  input.setAttribute('aria-describedby', id + '-err');
  return h('div', { class: 'field' }, h('label', { for: id }, labelText), input, hint ? h('div', { class: 'muted' }, hint) : null, err);
}
export function showFieldErrors(form, body) {
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
export function confirmDialog(title, text, action, danger) {
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

// The loss report of the move from the original system, when there was one.
export function movedCard(r) {
  const lost = r.findings.filter((f) => f.kind.startsWith('missing_') || f.kind.startsWith('damaged_') || f.kind === 'ghost_submission');
  if (!r.findings.length) return null;
  const line = (f) => h('li', {}, f.submission_id ? (S.user && S.user.role === 'supervisor' ? h('a', { href: `#/submission/${f.submission_id}` }, `Report ${f.submission_id}`) : `Report ${f.submission_id}`) : f.source_ref,
    `: ${f.kind.replace(/_/g, ' ')}${f.path ? ` — ${f.path}` : ''}`);
  return h('section', { class: lost.length ? 'alert' : 'notice', 'aria-label': 'Moved from the original system' },
    h('strong', {}, `Moved from the original system: ${lost.length} lost or damaged item(s) before the move`),
    h('ul', {}, lost.map(line)),
    h('p', { class: 'muted' }, `${r.findings.length - lost.length} other note(s): files no row named, Excel copies that no longer match. `,
      'The whole report: atm-maint import django --dry-run'));
}

// The last good answer of a GET, kept in this browser per user, so the technician's pages open
// with no connection. `asOf` is null for a fresh answer, else when the kept one was fetched.
const CACHE_PREFIX = 'atm-cache:';
export async function cachedGet(path) {
  const key = `${CACHE_PREFIX}${S.user ? S.user.id : 'anyone'}:${path}`;
  try {
    const data = await api('GET', path);
    try { localStorage.setItem(key, JSON.stringify({ at: new Date().toISOString(), data })); } catch (e) { /* storage full: not kept */ }
    return { data, asOf: null };
  } catch (e) {
    const kept = e.status === 0 ? localStorage.getItem(key) : null;
    if (!kept) throw e;
    const { at, data } = JSON.parse(kept);
    return { data, asOf: at };
  }
}

// Forgets every kept answer and the signed-in user (signing out on a shared phone).
export function forgetKept() {
  // The public settings (the photo plans) are nobody's and stay.
  const mine = (k) => k.startsWith(CACHE_PREFIX) && !k.startsWith(`${CACHE_PREFIX}anyone:`);
  for (const k of Object.keys(localStorage)) if (mine(k) || k === USER_KEY) localStorage.removeItem(k);
}

// Who was signed in, kept so the app opens offline as them (the server still decides online).
const USER_KEY = 'atm-user';
export function keepUser(user) { try { localStorage.setItem(USER_KEY, JSON.stringify(user)); } catch (e) { /* not kept */ } }
export function keptUser() { try { return JSON.parse(localStorage.getItem(USER_KEY)); } catch (e) { return null; } }
export function asOfNotice(asOf, what) {
  return asOf ? h('p', { class: 'alert as-of', role: 'status' }, `Offline: ${what} as of ${fmtDate(asOf)}.`) : null;
}

// After opening offline the page has no CSRF token; the first change sent online fetches it.
export async function ensureSession() {
  if (S.csrf || !S.user) return;
  const s = await api('GET', '/api/auth/session/', { quiet: true });
  S.user = s.user; S.csrf = s.csrf_token;
}
