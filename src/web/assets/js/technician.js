// The technician's pages: devices, device detail and the visit report that sends each photo
// as soon as it is picked.

import { allPending, dropPending, keepPending, pendingOf, waitingByDraft } from './pending.js';
import { notificationsCard } from './notifications.js';
import { S, api, asOfNotice, badge, cachedGet, describe, ensureSession, errorBox, field, fmtDate, h, hashParams, page, put, shortHash, showFieldErrors, toast, today } from './core.js';
import { flaggedPhotos } from './evidence.js';

// The label of a photo of a report: its slot, from the plan.
function slotLabel(s) {
  const plan = (S.config.plans || {})[s.photo_plan] || { sections: [] };
  return (p) => {
    const sec = plan.sections.find((x) => x.section === p.section);
    const slot = sec && sec.slots.find((x) => x.order === p.order_index);
    return `${p.section}.${p.order_index}${slot ? ' ' + slot.label : ''}`;
  };
}

// Sending the phone's position with each photo: asked once, with the reason, never required.
const SHARE_KEY = 'atm-share-position';
const sharing = () => localStorage.getItem(SHARE_KEY) === 'yes';
function whereNow() {
  if (!sharing() || !navigator.geolocation) return Promise.resolve(null);
  return new Promise((resolve) => {
    navigator.geolocation.getCurrentPosition(
      (p) => resolve({ latitude: p.coords.latitude, longitude: p.coords.longitude, accuracy: p.coords.accuracy }),
      () => resolve(null), { enableHighAccuracy: true, timeout: 5000, maximumAge: 60000 });
  });
}
function positionNotice() {
  if (!navigator.geolocation || localStorage.getItem(SHARE_KEY)) return null;
  const box = h('div', { class: 'notice', role: 'note' },
    'Share where your phone is with each photo, so the reviewer can see the photos were taken at the ATM. It is never required. ',
    h('button', { class: 'btn secondary', type: 'button', onclick: () => { localStorage.setItem(SHARE_KEY, 'yes'); whereNow(); box.remove(); } }, 'Share my position with photos'), ' ',
    h('button', { class: 'btn secondary', type: 'button', onclick: () => { localStorage.setItem(SHARE_KEY, 'no'); box.remove(); } }, 'No thanks'));
  return box;
}

// The device list, reports and drafts: from the server, or with no connection as they were at
// the last successful load (`asOf`), plus the photos this browser still holds for each draft.
async function loadTechnicianData() {
  const [devices, subs, drafts] = await Promise.all([
    cachedGet('/api/technician/devices'),
    cachedGet('/api/technician/submissions'),
    cachedGet('/api/technician/drafts/'),
  ]);
  const latest = {};
  for (const s of subs.data.submissions) if (!latest[s.device]) latest[s.device] = s; // newest first
  const draftOf = {};
  for (const d of drafts.data.drafts) draftOf[d.device_id] = d;
  const waiting = await waitingByDraft();
  const asOf = [devices.asOf, subs.asOf, drafts.asOf].filter(Boolean).sort()[0] || null;
  return { devices: devices.data.devices, subs: subs.data.submissions, latest, draftOf, waiting, asOf };
}

const required = (d) => {
  const plan = (S.config.plans || {})[d.photo_plan || (d.type === 'Electrical' ? 'electrical' : 'cleaning')];
  return plan ? plan.sections.reduce((n, sec) => n + sec.slots.length, 0) : null;
};

// Due, a draft (n of m photos received), waiting to send, submitted, approved or rejected.
function deviceState(d, latest, draft, waiting) {
  if ((draft && waiting[draft.id]) || waiting[deviceKey(d.id)]) return 'Waiting to send';
  if (draft) return 'Draft';
  if (d.submission_status === 'submitted' && latest && latest.status === 'Approved') return 'Approved';
  if (latest && latest.status === 'Rejected') return 'Rejected';
  return d.submission_status === 'submitted' ? 'Submitted' : 'Due';
}
function stateDetail(st, d, draft, waiting) {
  const here = (draft ? waiting[draft.id] || 0 : 0) + (waiting[deviceKey(d.id)] || 0);
  if (!draft) return here ? `${here} photos waiting to send` : null;
  const of = required(d);
  const received = `${draft.received}${of ? ` of ${of}` : ''} photos received`;
  return here ? `${received}, ${here} waiting to send` : received;
}

export async function devicesPage() {
  const data = await loadTechnicianData();
  const p = hashParams();
  const types = [...new Set(data.devices.map((d) => d.type))].sort();
  const search = h('input', { name: 'q', type: 'search', value: p.q || '', placeholder: 'ID, cost center, city' });
  const type = h('select', { name: 'type' }, h('option', { value: '' }, 'All types'),
    types.map((t) => h('option', { value: t, selected: p.type === t }, t)));
  const status = h('select', { name: 'status' }, h('option', { value: '' }, 'Any status'),
    ['Due', 'Draft', 'Waiting to send', 'Rejected', 'Submitted', 'Approved'].map((s) => h('option', { value: s, selected: p.status === s }, s)));
  const list = h('ul', { class: 'list', 'aria-live': 'polite' });
  const count = h('p', { class: 'muted' });
  const draw = () => {
    const q = search.value.trim().toLowerCase();
    const shown = data.devices.filter((d) => {
      const st = deviceState(d, data.latest[d.id], data.draftOf[d.id], data.waiting);
      return (!q || [d.interaction_id, d.gfm_cost_center, d.city, d.gfm_problem_type].join(' ').toLowerCase().includes(q))
        && (!type.value || d.type === type.value) && (!status.value || st === status.value);
    });
    count.textContent = `${shown.length} of ${data.devices.length} devices`;
    put(list, ...shown.map((d) => {
      const last = data.latest[d.id];
      const st = deviceState(d, last, data.draftOf[d.id], data.waiting);
      const detail = stateDetail(st, d, data.draftOf[d.id], data.waiting);
      return h('li', { class: 'device', 'data-device': d.id, 'data-state': st },
        h('a', { class: 'title', href: `#/device/${d.id}` }, d.interaction_id), ' ', badge(st),
        detail ? h('span', { class: 'muted' }, ` ${detail}`) : null,
        h('div', { class: 'muted' }, `${d.type} · ${d.city} · ${d.gfm_cost_center}`),
        h('div', {}, 'Next due: ', d.next_due_date ? d.next_due_date.description : '—'),
        st === 'Rejected' && last && last.review_remarks ? h('div', { class: 'error' }, 'Rejected: ', last.review_remarks) : null);
    }));
  };
  [search, type, status].forEach((el) => el.addEventListener('input', draw));
  const filters = h('div', { class: 'filters card' }, field('Search', search), field('Type', type), field('Status', status));
  page('My devices', asOfNotice(data.asOf, 'your devices'), await notificationsCard(), filters, count, list);
  draw();
  if (!data.devices.length) put(list, h('li', {}, 'No devices are assigned to you yet. Your data host imports them from Excel.'));
}

export async function deviceDetailPage(id) {
  const data = await loadTechnicianData();
  const d = data.devices.find((x) => String(x.id) === id);
  if (!d) { page('Device not found', errorBox(new Error('This device is not assigned to you.'))); return; }
  const history = data.subs.filter((s) => s.device === d.id);
  const last = history[0];
  const draft = data.draftOf[d.id];
  const st = deviceState(d, last, draft, data.waiting);
  let action;
  if (draft || st === 'Waiting to send') action = h('a', { class: 'btn', href: `#/visit/${d.id}` }, `Continue visit report (${stateDetail(st, d, draft, data.waiting)})`);
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
    s.status === 'Rejected' ? flaggedPhotos(s, slotLabel(s)) : null,
    s.status === 'Approved' && s.pdf_url ? h('a', { href: s.pdf_url, target: '_blank', rel: 'noopener' }, 'Report PDF') : null));
  page(d.interaction_id, asOfNotice(data.asOf, 'this device'), facts, action, h('h2', {}, 'Visit history'),
    items.length ? h('ul', { class: 'list' }, items) : h('p', { class: 'muted' }, 'No visit reports yet.'));
}

// SHA-256 of a file in the browser (only where the page is a secure context: HTTPS or localhost).
async function sha256Hex(file) {
  if (!(window.crypto && crypto.subtle)) return null;
  const buf = await crypto.subtle.digest('SHA-256', await file.arrayBuffer());
  return [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

// One PUT with upload progress; resolves {status, body}, rejects only when nothing came back.
function putPhoto(url, file, sha, position, onProgress) {
  return new Promise((resolve, reject) => {
    const x = new XMLHttpRequest();
    x.open('PUT', url);
    x.setRequestHeader('X-CSRF-Token', S.csrf || '');
    x.setRequestHeader('Content-Type', file.type || 'application/octet-stream');
    if (sha) x.setRequestHeader('X-Content-SHA256', sha);
    if (position) x.setRequestHeader('X-Photo-Position', `${position.latitude},${position.longitude},${Math.round(position.accuracy || 0)}`);
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

// The plan of a device, as the server chooses it (domain/photo_plan.rs::is_electrical).
function planOf(d) {
  const p = (d.gfm_problem_type || '').toLowerCase().replace(/[^a-z]/g, ' ');
  const electrical = d.type === 'Electrical' || p.includes('electrical') || (p.includes('electro') && p.includes('mechanical'));
  return electrical ? 'electrical' : 'cleaning';
}

// With no connection a visit report starts from the photo plan this browser kept; photos wait
// here under the device (`d<id>`) until the server has a draft for them.
function offlineDraft(device, visitDate) {
  const plan = (S.config.plans || {})[planOf(device)] || { sections: [] };
  return {
    id: null, offline: true, visit_date: visitDate,
    sections: plan.sections.map((sec) => ({ ...sec, slots: sec.slots.map((sl) => ({ ...sl, photo: null })) })),
  };
}
const deviceKey = (deviceId) => `d${deviceId}`;
// Until the connection may be back: the `online` event, or a second when the browser already
// says online (the event may have passed while a request was failing), or 10 s at most.
function waitForConnection() {
  return new Promise((res) => {
    if (navigator.onLine) { setTimeout(res, 1000); return; }
    window.addEventListener('online', res, { once: true });
    setTimeout(res, 10000);
  });
}
const SUBMIT_KEY = (deviceId) => `atm-submit:${deviceId}`;

async function openDraft(deviceId, visitDate) {
  const { drafts } = await api('GET', '/api/technician/drafts/');
  const existing = drafts.find((d) => d.device_id === deviceId);
  if (existing && (!visitDate || visitDate === existing.visit_date)) return api('GET', `/api/technician/drafts/${existing.id}`);
  return api('POST', '/api/technician/drafts/', { json: { device_id: deviceId, visit_date: visitDate || '' } });
}

export async function visitPage(id) {
  const deviceId = Number(id);
  S.openVisit = deviceId;
  const data = await loadTechnicianData();
  const device = data.devices.find((d) => d.id === deviceId);
  if (!device) { page('Device not found', errorBox(new Error('This device is not assigned to you.'))); return; }
  const last = data.latest[deviceId];
  const rejected = last && last.status === 'Rejected';
  let draft;
  const wantedDate = data.draftOf[deviceId] ? null : (rejected ? last.visit_date : today());
  try {
    draft = await openDraft(deviceId, wantedDate);
  } catch (e) {
    if (e.status !== 0) {
      page(`Visit report · ${device.interaction_id}`, errorBox(e), h('a', { href: `#/device/${deviceId}` }, 'Back to the device'));
      return;
    }
    draft = offlineDraft(device, (data.draftOf[deviceId] || {}).visit_date || wantedDate || today());
  }
  const keyOf = () => draft.id || deviceKey(deviceId);
  // The server's draft, made when the connection allows; photos kept under the device move to it.
  const ensureDraft = async () => {
    while (!draft.id) {
      try {
        await ensureSession();
        const made = await openDraft(deviceId, draft.visit_date);
        for (const p of await pendingOf(deviceKey(deviceId))) {
          await keepPending(made.id, p.field, p.file, p.position);
          await dropPending(deviceKey(deviceId), p.field);
        }
        draft = { ...made, sections: draft.sections };
        offlineNote.hidden = true;
      } catch (e) {
        if (e.status !== 0) throw e;
        await waitForConnection();
      }
    }
    return draft;
  };
  const offlineNote = h('p', { class: 'alert', role: 'status', hidden: !draft.offline },
    'Offline: this report is kept on this phone. Every photo you pick waits here and is sent when the connection returns.');
  let queued = JSON.parse(localStorage.getItem(SUBMIT_KEY(deviceId)) || 'null');
  const slots = {}; // field → {li, state, progress, img, status, file, sha}
  const status = h('p', { id: 'submit-status', class: 'muted', 'aria-live': 'polite' });
  const submitBtn = h('button', { class: 'btn ok', type: 'submit', disabled: true }, 'Submit visit report');
  const result = h('div', { role: 'alert' });
  const pending = () => Object.values(slots).filter((s) => s.status !== 'received');
  const refresh = () => {
    const total = Object.keys(slots).length;
    const done = total - pending().length;
    const busy = Object.values(slots).some((s) => s.status === 'uploading' || s.status === 'waiting');
    const picked = Object.values(slots).every((s) => s.status !== 'empty' && s.status !== 'failed');
    if (queued) {
      submitBtn.disabled = true;
      status.textContent = `${done} of ${total} photos received. The report is submitted as soon as every photo has reached the server.`;
      if (done === total && draft.id && !busy) sendQueued();
      return;
    }
    // Every slot picked but some photos still waiting: submitting now queues it.
    submitBtn.disabled = !picked || (done === total && busy);
    status.textContent = done === total ? (busy ? 'Finishing uploads…' : 'Every photo is on the server. You can submit.')
      : picked ? `${done} of ${total} photos received; the others wait for the connection. Submitting now sends the report once they arrive.`
        : `${done} of ${total} photos received. Pick the remaining ones to submit.`;
  };
  let sendingQueued = false;
  const sendQueued = async () => {
    if (sendingQueued) return;
    sendingQueued = true;
    try {
      await ensureSession();
      await api('POST', `/api/technician/drafts/${draft.id}/submit/`, { json: queued });
      localStorage.removeItem(SUBMIT_KEY(deviceId));
      queued = null;
      S.leaveGuard = null;
      toast('Visit report submitted.');
      location.hash = `#/device/${deviceId}`;
    } catch (e) {
      if (e.status === 0) { waitForConnection().then(() => { sendingQueued = false; refresh(); }); return; }
      localStorage.removeItem(SUBMIT_KEY(deviceId));
      queued = null;
      put(result, errorBox(e));
      refresh();
    } finally { if (queued === null) sendingQueued = false; }
  };
  // Photos on their way that this browser could not keep aside (see pending.js) would be lost by
  // leaving: only then does leaving ask first.
  const sending = () => Object.values(slots)
    .some((s) => (s.status === 'uploading' || s.status === 'waiting') && !s.kept);
  S.leaveGuard = () => !sending()
    || window.confirm('Photos are still uploading. Leave this page anyway? Photos already received stay safe.');
  // Closing or reloading the tab while such photos are on their way asks first, too.
  const onUnload = (e) => {
    if (!S.leaveGuard || !sending()) return;
    e.preventDefault();
    e.returnValue = '';
  };
  window.addEventListener('beforeunload', onUnload);
  S.onUnload = onUnload;

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

  const upload = async (slot, file, resumed, where) => {
    const token = {}; slot.token = token;
    // Where the phone is as the photo is picked (a resumed photo keeps the position it had).
    const position = resumed ? where : await whereNow();
    slot.kept = resumed || await keepPending(keyOf(), slot.field, file, position);
    if (slot.token !== token) return;
    slot.status = 'uploading'; slot.li.className = 'slot';
    slot.img.src = URL.createObjectURL(file); slot.img.hidden = false;
    slot.thumb.querySelector('.none')?.remove();
    refresh();
    if (file.size > S.config.max_photo_bytes) {
      dropPending(keyOf(), slot.field);
      slot.status = 'failed'; slot.li.className = 'slot failed';
      put(slot.state, h('span', { class: 'error' }, `This photo is ${(file.size / 1048576).toFixed(1)} MB; the limit is 10 MB. Pick a smaller one.`));
      refresh(); return;
    }
    const sha = await sha256Hex(file).catch(() => null);
    for (let attempt = 1; ; attempt++) {
      if (slot.token !== token) return; // a newer photo replaced this one
      if (!draft.id) {
        slot.status = 'waiting'; slot.li.className = 'slot';
        slot.state.textContent = 'Kept on this phone. Waiting for the connection…';
        refresh();
        try { await ensureDraft(); } catch (e) { slot.status = 'failed'; put(slot.state, h('span', { class: 'error' }, e.message)); refresh(); return; }
        if (slot.token !== token) return;
      }
      const url = `/api/technician/drafts/${draft.id}/photos/${slot.field}`;
      slot.status = 'uploading';
      slot.state.textContent = 'Queued…';
      await lane();
      let r = null;
      let lost = null;
      try {
        if (slot.token !== token) return;
        await ensureSession();
        slot.progress.hidden = false; slot.progress.value = 0;
        slot.state.textContent = attempt > 1 ? `Uploading (attempt ${attempt})…` : 'Uploading…';
        r = await putPhoto(url, file, sha, position, (f) => { slot.progress.value = Math.round(f * 100); });
      } catch (e) {
        lost = e.message;
      } finally {
        release();
      }
      if (slot.token !== token) return;
      if (lost) { await retryWait(slot, token, attempt, lost); continue; }
      if (r.status === 200 || r.status === 201) {
        showReceived(slot, r.body, sha);
        dropPending(draft.id, slot.field);
        dropPending(deviceKey(deviceId), slot.field);
        return;
      }
      const why = describe(r.body, r.status);
      if (r.status === 401) { S.returnTo = location.hash; location.hash = '#/login'; return; }
      if (r.status < 500 && r.status !== 408 && r.status !== 429) {
        slot.status = 'failed'; slot.li.className = 'slot failed'; slot.progress.hidden = true;
        put(slot.state, h('span', { class: 'error' }, why));
        dropPending(draft.id, slot.field);
        dropPending(deviceKey(deviceId), slot.field);
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
      await waitForConnection();
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
    if (!draft.id) { draft.visit_date = visitDate.value; toast('Visit date kept; it is saved when the connection returns.'); return; }
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
    const fd = Object.fromEntries(new FormData(form));
    if (!draft.id || pending().length) {
      // Not every photo is on the server yet: the report goes once they are (kept across a reload).
      queued = fd;
      localStorage.setItem(SUBMIT_KEY(deviceId), JSON.stringify(fd));
      toast('The report will be submitted when every photo has reached the server.');
      refresh();
      return;
    }
    try {
      await api('POST', `/api/technician/drafts/${draft.id}/submit/`, { json: fd });
      S.leaveGuard = null;
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
    rejected && last.review_remarks ? h('div', { class: 'alert' }, 'Rejected: ', last.review_remarks, flaggedPhotos(last, slotLabel(last))) : null,
    offlineNote,
    positionNotice(),
    form);
  refresh();
  // Photos picked before a reload (or a closed tab) that the server does not hold yet go on.
  const kept = [...(draft.id ? await pendingOf(draft.id) : []), ...await pendingOf(deviceKey(deviceId))];
  for (const p of kept) {
    const slot = slots[p.field];
    if (slot && slot.status !== 'received' && slot.status !== 'uploading') upload(slot, p.file, true, p.position);
    else if (slot && slot.status === 'received') dropPending(p.draftId, p.field);
  }
}

// What waits on this phone goes from any page once the connection is back: for each device
// whose report page is not open, the server's draft, every waiting photo, then the submit asked
// for — only once the server holds every photo. A refusal stops there; the report's page shows it.
let sweeping = false;
export async function sendWaiting() {
  if (sweeping || !navigator.onLine || !S.user || S.user.role !== 'technician') return;
  sweeping = true;
  let sent = false;
  try {
    const waiting = await allPending();
    const queuedDevices = Object.keys(localStorage).filter((k) => k.startsWith('atm-submit:')).map((k) => Number(k.slice(11)));
    if (!waiting.length && !queuedDevices.length) return;
    await ensureSession();
    const { drafts } = await api('GET', '/api/technician/drafts/', { quiet: true });
    const byDevice = new Map(queuedDevices.map((id) => [id, []]));
    for (const p of waiting) {
      const key = String(p.draftId);
      const deviceId = key.startsWith('d') ? Number(key.slice(1)) : (drafts.find((d) => d.id === p.draftId) || {}).device_id;
      if (!deviceId) continue;
      if (!byDevice.has(deviceId)) byDevice.set(deviceId, []);
      byDevice.get(deviceId).push(p);
    }
    for (const [deviceId, photos] of byDevice) {
      if (S.openVisit === deviceId) continue;
      sent = (await sendDevice(deviceId, photos, drafts)) || sent;
    }
  } catch (e) {
    // The connection may come back in steps: tried again shortly while the browser says online.
    if (navigator.onLine) setTimeout(sendWaiting, 3000);
  } finally { sweeping = false; }
  if (sent && location.hash.split('?')[0] === '#/devices') devicesPage();
}

async function sendDevice(deviceId, photos, drafts) {
  const queued = JSON.parse(localStorage.getItem(SUBMIT_KEY(deviceId)) || 'null');
  const draft = drafts.find((d) => d.device_id === deviceId)
    || await api('POST', '/api/technician/drafts/', { json: { device_id: deviceId, visit_date: (queued && queued.visit_date) || today() }, quiet: true });
  for (const p of photos) {
    const sha = await sha256Hex(p.file).catch(() => null);
    const r = await putPhoto(`/api/technician/drafts/${draft.id}/photos/${p.field}`, p.file, sha, p.position, () => {});
    if (r.status !== 200 && r.status !== 201) return false;
    await dropPending(p.draftId, p.field);
  }
  if (!queued) return photos.length > 0;
  const full = await api('GET', `/api/technician/drafts/${draft.id}`, { quiet: true });
  if (full.received !== full.required) return photos.length > 0;
  await api('POST', `/api/technician/drafts/${draft.id}/submit/`, { json: queued, quiet: true });
  localStorage.removeItem(SUBMIT_KEY(deviceId));
  toast('A visit report that waited on this phone was submitted.');
  return true;
}
