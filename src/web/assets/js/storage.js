// The storage page (hosts and supervisors): the doctor report of the running service.

import { api, h, page } from './core.js';

function bytes(n) {
  if (n === null || n === undefined) return '—';
  const u = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0; let v = n;
  while (v >= 1024 && i < u.length - 1) { v /= 1024; i++; }
  return `${v.toFixed(i ? 1 : 0)} ${u[i]}`;
}

export async function storagePage() {
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
