// The supervisor's pages: dashboard, submissions with filters and paging, and the review of one
// report (thumbnails with each photo's evidence, viewer, approve, reject, PDF, report job).

import { S, api, badge, confirmDialog, errorBox, field, fmtDate, h, hashParams, movedCard, page, put, qs, shortHash, toast } from './core.js';
import { insights } from './insights.js';
import { evidenceSummary, photoEvidence } from './evidence.js';

export async function supervisorDashboard() {
  const [s, moved] = await Promise.all([api('GET', '/api/supervisor/dashboard-stats'), api('GET', '/api/host/import-report')]);
  const card = (label, n, href) => h('a', { class: 'card stat', href }, h('b', {}, n), label);
  const more = h('div', { id: 'insights' });
  page('Dashboard', movedCard(moved), h('div', { class: 'grid' },
    card('Pending review', s.pending_submissions, '#/submissions?status=Pending'),
    card('Approved', s.approved_submissions, '#/submissions?status=Approved'),
    card('Rejected', s.rejected_submissions, '#/submissions?status=Rejected'),
    card('All submissions', s.total_submissions, '#/submissions')), more);
  await insights(more, true);
}

export async function submissionsPage() {
  const p = hashParams();
  // Fetched each time (one small request), so a technician created meanwhile is in the filter.
  const { technicians } = await api('GET', '/api/supervisor/technicians');
  const sel = (name, label, options) => field(label, h('select', { name }, h('option', { value: '' }, 'All'),
    options.map(([v, t]) => h('option', { value: v, selected: String(p[name] || '') === String(v) }, t))));
  const form = h('form', { class: 'filters card' },
    sel('status', 'Status', ['Pending', 'Approved', 'Rejected'].map((s) => [s, s])),
    sel('device_type', 'Type', S.config.device_types.map((t) => [t, t])),
    sel('city', 'City', S.config.cities.map((c) => [c, c])),
    sel('technician_id', 'Technician', technicians.map((t) => [t.id, `${t.username} (${t.city || '—'})`])),
    field('From', h('input', { type: 'date', name: 'date_from', value: p.date_from || '' })),
    field('To', h('input', { type: 'date', name: 'date_to', value: p.date_to || '' })),
    sel('flagged', 'Photo evidence', [['true', 'Flagged (findings to check)'], ['false', 'Not flagged']]),
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
    (s.lost_before_move || []).length ? h('span', { class: 'badge Rejected', title: 'Files the original system had already lost' }, 'lost before the move') : null,
    s.evidence_summary && s.evidence_summary.open ? h('span', { class: 'ev-badge flag', 'data-flagged': 'true' }, `flagged: ${s.evidence_summary.flagged_photos} photos`) : null,
    h('div', { class: 'muted' }, `${s.type} · ${s.device_info.city} · ${s.technician_name} · ${s.photos.length} photos · filed ${fmtDate(s.created_at)}`)));
  const go = (n) => '#/submissions' + qs({ ...p, page: n });
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages' },
    pageNo > 1 ? h('a', { class: 'btn secondary', href: go(pageNo - 1) }, 'Previous') : h('span'),
    h('span', {}, `Page ${data.page} of ${Math.max(1, data.total_pages)} · ${data.count} submissions · ${data.flagged ?? 0} flagged`),
    pageNo < data.total_pages ? h('a', { class: 'btn secondary', href: go(pageNo + 1) }, 'Next') : h('span'));
  const { page: _p, page_size: _s, ...active } = p;
  const exports = h('div', { class: 'row' },
    h('a', { class: 'btn secondary', href: '/api/supervisor/submissions/export.csv' + qs(active), download: '' }, 'Export CSV'),
    h('a', { class: 'btn secondary', href: '/api/supervisor/submissions/export.xlsx' + qs(active), download: '' }, 'Export Excel'));
  page('Submissions', form, exports, rows.length ? h('ul', { class: 'list' }, rows) : h('p', { class: 'muted' }, 'No submissions match these filters.'), pager);
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
    // The next photo is fetched meanwhile, so paging on waits for nothing.
    const next = photos[(i + 1) % photos.length];
    if (next.preview_url) new Image().src = next.preview_url;
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

function photoSections(s, onChange) {
  const plan = (S.config.plans || {})[s.photo_plan] || { sections: [] };
  const flat = [];
  const out = plan.sections.map((sec) => {
    const photos = s.photos.filter((p) => p.section === sec.section).sort((a, b) => a.order_index - b.order_index);
    const lost = (s.lost_before_move || []).filter((l) => l.section === sec.section)
      .map((l) => h('div', { class: 'lost-slot' }, `${sec.section}.${l.order_index} lost before the move`));
    return h('section', { class: 'card' }, h('h2', {}, `Section ${sec.section}`), h('p', { class: 'muted' }, sec.title),
      h('div', { class: 'photos' }, lost, photos.map((p) => {
        const slot = sec.slots.find((x) => x.order === p.order_index);
        const caption = `${sec.section}.${p.order_index} ${slot ? slot.label : ''}`;
        const at = flat.push({ ...p, caption }) - 1;
        const open = h('button', { type: 'button', onclick: () => openViewer(flat, at), 'aria-label': `Open photo ${caption}` },
          h('img', { src: p.thumb_url, alt: caption, loading: 'lazy', width: 320, height: 240 }), h('span', {}, caption));
        return h('div', { class: 'photo-tile', 'data-photo-id': p.id }, open, photoEvidence(s, p, onChange, true));
      })));
  });
  return out;
}

export async function submissionPage(id) {
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
    h('a', { class: 'btn secondary', href: `/api/supervisor/submissions/${id}/export.zip`, download: '' }, 'Download ZIP (PDF, photos, manifest)'), ' ',
    job && job.state === 'failed' ? h('button', { class: 'btn secondary', type: 'button', onclick: () => act(async () => {
      await api('POST', `/api/supervisor/submissions/${id}/report/retry/`, { json: {} });
      toast('Report queued again.'); submissionPage(id);
    }) }, 'Retry report') : null,
    job && (job.pdf_status === 'pending' || job.email_status === 'pending') ? h('button', { class: 'btn secondary', type: 'button', onclick: () => submissionPage(id) }, 'Refresh status') : null);
  const facts = [['Status', badge(s.status)], ['Device', s.device_info.interaction_id], ['Type', s.type], ['City', s.device_info.city],
    ['Cost center', s.device_info.gfm_cost_center], ['Technician', `${s.technician_name} (${s.technician_city || '—'})`],
    ['Visit date', s.visit_date], ['Job status', s.job_status], ['Job description', s.job_description || '—'],
    ['Technician remarks', s.technician_remarks || '—'], [s.status === 'Pending' ? 'Earlier rejection reason' : 'Review remarks', s.review_remarks || '—'],
    ['Reviewed', s.reviewed_by ? `${s.reviewed_by} · ${fmtDate(s.reviewed_at)}` : '—'], ['Filed', fmtDate(s.created_at)]];
  page(`Report ${s.device_info.interaction_id} · ${s.visit_date}`,
    h('dl', { class: 'facts card' }, facts.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
    lostCard(s),
    evidenceSummary(s),
    h('div', { class: 'row' }, s.status !== 'Approved' ? approve : null, s.status === 'Pending' ? reject : null, preview),
    out, report, ...photoSections(s, () => submissionPage(id)));
}

// What the original system had already lost of a report brought over from it.
function lostCard(s) {
  const lost = s.lost_before_move || [];
  if (!lost.length) return null;
  const what = (l) => {
    if (l.kind === 'ghost_submission') return 'No photos at all: the original kept this report after refusing its upload.';
    const slot = l.section ? `Photo ${l.section}.${l.order_index}` : 'The PDF report';
    const how = l.kind.startsWith('missing') ? 'was already missing' : 'was damaged';
    return `${slot} ${how} in the original system (${l.path || 'no path'}).`;
  };
  return h('section', { class: 'alert lost', role: 'note', 'aria-label': 'Lost before the move' },
    h('strong', {}, 'Lost before the move to this system'), h('ul', {}, lost.map((l) => h('li', {}, what(l)))));
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
