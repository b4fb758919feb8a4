// The host's pages: dashboard, technicians (search, create, delete), Excel import with a preview,
// and each technician's uploaded files.

import { S, api, confirmDialog, errorBox, field, fmtDate, h, hashParams, movedCard, page, put, qs, showFieldErrors } from './core.js';
import { insights } from './insights.js';

export async function hostDashboard() {
  const [s, moved] = await Promise.all([api('GET', '/api/host/dashboard-stats'), api('GET', '/api/host/import-report')]);
  page('Dashboard', movedCard(moved),
    h('div', { class: 'grid' },
      h('a', { class: 'card stat', href: '#/technicians' }, h('b', {}, s.total_technicians), 'Technicians'),
      h('div', { class: 'card stat' }, h('b', {}, s.total_devices), 'Devices')),
    h('div', { class: 'row' }, h('a', { class: 'btn', href: '#/technicians/new' }, 'New technician'),
      h('a', { class: 'btn secondary', href: '#/excel' }, 'Import Excel')),
    h('h2', {}, 'Newest technicians'),
    h('ul', { class: 'list' }, s.technicians_with_devices.map((t) => h('li', {},
      h('a', { class: 'title', href: `#/technician/${t.id}` }, t.username), ` · ${t.city || '—'} · ${t.device_count} devices`))));
}

export async function techniciansPage() {
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

export function newTechnicianPage() {
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

export async function technicianFilesPage(id) {
  const [techs, files] = await Promise.all([api('GET', '/api/host/technicians/'), api('GET', `/api/host/technicians/${id}/uploaded-files`)]);
  const t = techs.find((x) => String(x.id) === id);
  page(t ? `${t.username} · uploaded files` : 'Uploaded files',
    h('a', { class: 'btn', href: `#/excel?technician=${id}` }, 'Import Excel for this technician'),
    files.files.length ? h('div', { class: 'table-wrap' }, h('table', {},
      h('thead', {}, h('tr', {}, ['Type', 'File', 'Rows', 'Uploaded', 'By'].map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', {}, files.files.map((f) => h('tr', {}, h('td', {}, f.device_type), h('td', {}, f.file_name), h('td', {}, f.row_count),
        h('td', {}, fmtDate(f.upload_date)), h('td', {}, f.uploaded_by)))))) : h('p', { class: 'muted' }, 'No files uploaded yet.'));
}

export async function excelPage() {
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

// The audit trail: who did what and from where, newest first, filtered like the submissions.
export async function auditPage() {
  const p = hashParams();
  const pageNo = Number(p.page || 1);
  const data = await api('GET', '/api/host/audit' + qs({ ...p, page: pageNo, page_size: 50 }));
  const form = h('form', { class: 'filters card' },
    field('Action', h('select', { name: 'action' }, h('option', { value: '' }, 'All'),
      data.actions.map((a) => h('option', { value: a, selected: p.action === a }, a.replace(/_/g, ' '))))),
    field('Who', h('input', { name: 'actor', value: p.actor || '', autocomplete: 'off' })),
    field('From', h('input', { type: 'date', name: 'date_from', value: p.date_from || '' })),
    field('To', h('input', { type: 'date', name: 'date_to', value: p.date_to || '' })),
    h('div', {}, h('button', { class: 'btn', type: 'submit' }, 'Apply filters')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    location.hash = '#/audit' + qs({ ...Object.fromEntries(new FormData(form)), page: 1 });
  });
  const detail = (d) => (d && typeof d === 'object') ? Object.entries(d).map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`).join(' · ') : String(d ?? '');
  const rows = data.entries.map((e) => h('tr', {},
    h('td', {}, fmtDate(e.at)), h('td', {}, e.actor), h('td', {}, e.action.replace(/_/g, ' ')), h('td', {}, e.target || '—'),
    h('td', {}, e.client || '—'), h('td', { class: 'muted' }, detail(e.detail)), h('td', { title: e.hash }, e.hash.slice(0, 12))));
  const go = (n) => '#/audit' + qs({ ...p, page: n });
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages' },
    pageNo > 1 ? h('a', { class: 'btn secondary', href: go(pageNo - 1) }, 'Previous') : h('span'),
    h('span', {}, `Page ${data.page} of ${Math.max(1, data.total_pages)} · ${data.count} entries`),
    pageNo < data.total_pages ? h('a', { class: 'btn secondary', href: go(pageNo + 1) }, 'Next') : h('span'));
  page('Audit trail', h('p', { class: 'muted' }, 'Every row is chained to the one before by its SHA-256; `atm-maint audit verify` proves none was changed or deleted.'),
    form, rows.length ? h('div', { class: 'card table-wrap' }, h('table', { id: 'audit' },
      h('caption', {}, 'Audit trail, newest first'),
      h('thead', {}, h('tr', {}, ['When', 'Who', 'Action', 'On', 'From', 'Details', 'Hash'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, rows))) : h('p', { class: 'muted' }, 'No entries match these filters.'), pager);
}

// The supervisors' insight, for the host: the same numbers, without links into the review.
export async function insightsPage() {
  const more = h('div', { id: 'insights' });
  page('Insight', more);
  await insights(more, false);
}
