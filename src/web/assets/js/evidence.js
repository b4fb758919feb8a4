// The evidence of each photo where decisions are made: a badge per photo (fresh, or what was
// found), when and where it was taken, the earlier photo side by side for a reuse, and a form to
// mark a finding checked with a note; a summary per report. The technician's view names the
// flagged photos of a rejected report.

import { api, fmtDate, h, put, toast } from './core.js';

const round = (n) => Number(n).toFixed(5);

function positionText(p) {
  if (!p) return 'no position';
  const acc = p.accuracy_m != null ? ` ±${Math.round(p.accuracy_m)} m` : '';
  return `${round(p.latitude)}, ${round(p.longitude)}${acc} (${p.source === 'exif' ? 'camera GPS' : 'phone'})`;
}

// One badge per kind found, or "Fresh" for a photo with a capture time and no finding.
export function evidenceBadges(e) {
  const open = (e.findings || []).filter((f) => !f.checked);
  const kinds = [...new Map(open.map((f) => [f.kind, f.label])).entries()];
  if (kinds.length) return kinds.map(([kind, label]) => h('span', { class: 'ev-badge flag', 'data-kind': kind }, label));
  if ((e.findings || []).length) return [h('span', { class: 'ev-badge checked' }, 'Checked')];
  if (e.captured_at) return [h('span', { class: 'ev-badge fresh', 'data-kind': 'fresh' }, 'Fresh')];
  return [];
}

// The report's line: how many photos are flagged, open findings, fresh photos.
export function evidenceSummary(s) {
  const v = s.evidence_summary || { findings: 0, open: 0, flagged_photos: 0, clean_photos: 0 };
  const n = s.photos.length;
  const text = v.findings
    ? `${v.flagged_photos} of ${n} photos flagged · ${v.open} open finding${v.open === 1 ? '' : 's'} of ${v.findings} · ${v.clean_photos} fresh`
    : `All ${n} photos look fresh: taken during the visit, none seen before.`;
  return h('section', { class: `card ev-summary ${v.open ? 'flagged' : 'clean'}`, 'aria-label': 'Photo evidence' },
    h('h2', {}, 'Photo evidence'), h('p', { class: 'ev-summary-text' }, text));
}

// The earlier photo a reuse finding points at, fetched once per report.
const reports = new Map();
async function earlierPhoto(f) {
  if (!reports.has(f.submission_id)) {
    reports.set(f.submission_id, api('GET', `/api/supervisor/submissions/${f.submission_id}`).then((r) => r.submission).catch(() => null));
  }
  const s = await reports.get(f.submission_id);
  return s && s.photos.find((p) => p.id === f.photo_id);
}

function sideBySide(photo, f) {
  const box = h('div', { class: 'ev-pair' },
    h('figure', {}, h('img', { src: photo.thumb_url, alt: 'This photo', width: 160, height: 120 }), h('figcaption', {}, 'This photo')),
    h('figure', { class: 'ev-earlier' }, h('span', { class: 'muted' }, 'Loading the earlier photo…')));
  earlierPhoto(f).then((p) => {
    const fig = box.querySelector('.ev-earlier');
    const link = h('a', { href: `#/submission/${f.submission_id}` }, `Report #${f.submission_id}`);
    put(fig, p ? h('img', { src: p.thumb_url, alt: `The earlier photo, report ${f.submission_id}`, width: 160, height: 120 })
      : h('span', { class: 'muted' }, 'The earlier photo is no longer stored.'), h('figcaption', {}, 'Earlier: ', link));
  });
  return box;
}

function checkForm(submissionId, f, onChange) {
  const note = h('input', { type: 'text', name: 'note', maxlength: 2000, required: true, 'aria-label': `Note on "${f.label}"`, placeholder: 'What you checked' });
  const err = h('div', { class: 'error', role: 'alert' });
  const form = h('form', { class: 'ev-check' }, note, h('button', { class: 'btn secondary', type: 'submit' }, 'Mark checked'), err);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!note.value.trim()) { err.textContent = 'Say what you checked.'; return; }
    try {
      await api('POST', `/api/supervisor/submissions/${submissionId}/findings/${f.id}/check`, { json: { note: note.value.trim() } });
      toast('Finding marked as checked.');
      onChange();
    } catch (e) { err.textContent = e.message; }
  });
  return form;
}

// Under a photo on the review page: its facts, its findings, the check forms.
export function photoEvidence(s, photo, onChange, canCheck) {
  const e = photo.evidence || { findings: [] };
  const camera = e.camera ? [e.camera.make, e.camera.model].filter(Boolean).join(' ') : null;
  const facts = h('dl', { class: 'ev-facts' },
    h('dt', {}, 'Taken'), h('dd', {}, e.captured_at ? fmtDate(e.captured_at) : 'no capture time'),
    h('dt', {}, 'Where'), h('dd', {}, positionText(e.position)),
    camera ? [h('dt', {}, 'Camera'), h('dd', {}, camera)] : null);
  const findings = (e.findings || []).map((f) => h('li', { class: f.checked ? 'checked' : 'open', 'data-kind': f.kind },
    h('strong', {}, f.label), ' ', f.message,
    f.checked ? h('div', { class: 'muted' }, `Checked by ${f.checked.by || 'a supervisor'} · ${fmtDate(f.checked.at)}: ${f.checked.note}`) : null,
    (f.kind === 'exact_reuse' || f.kind === 'near_duplicate') && f.submission_id ? sideBySide(photo, f) : null,
    canCheck && !f.checked ? checkForm(s.id, f, onChange) : null));
  return h('div', { class: 'ev' }, h('div', { class: 'ev-badges' }, evidenceBadges(e)), facts,
    findings.length ? h('ul', { class: 'ev-findings' }, findings) : null);
}

// For the technician: which photos of their rejected report were flagged, and why.
export function flaggedPhotos(s, labelOf) {
  const rows = s.photos.filter((p) => (p.evidence?.findings || []).length)
    .map((p) => h('li', {}, h('strong', {}, labelOf(p)), ': ', [...new Set(p.evidence.findings.map((f) => f.label))].join(', ')));
  if (!rows.length) return null;
  return h('div', { class: 'ev-flagged', role: 'note' }, h('strong', {}, 'Photos the reviewer was warned about'), h('ul', {}, rows));
}
