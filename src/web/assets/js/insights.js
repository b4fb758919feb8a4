// The dashboard's insight: approval rate, filings per day, coverage of the half-month per city
// and technician, the reports waiting longest, the devices not filed last half-month. Charts are
// SVG drawn here (no library; the content security policy allows no inline style), each with its
// numbers in a table beside it.

import { api, fmtDate, h, hashParams, put, qs } from './core.js';

const SVG = 'http://www.w3.org/2000/svg';
function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== null && v !== undefined) el.setAttribute(k, v);
  for (const c of children.flat()) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

const STATUSES = ['Approved', 'Pending', 'Rejected'];

// Filings per day as stacked bars; the table below holds the same numbers.
function dailyChart(daily) {
  const W = 600, H = 180, pad = 24, n = daily.length;
  const max = Math.max(1, ...daily.map((d) => STATUSES.reduce((a, k) => a + d[k], 0)));
  const bw = (W - pad * 2) / n;
  const bars = daily.flatMap((d, i) => {
    let y = H - pad;
    return STATUSES.map((k) => {
      const hgt = (d[k] / max) * (H - pad * 2);
      y -= hgt;
      return hgt > 0 ? s('rect', { x: pad + i * bw + 1, y, width: Math.max(1, bw - 2), height: hgt, class: `bar ${k}` },
        s('title', {}, `${d.date}: ${d[k]} ${k.toLowerCase()}`)) : null;
    });
  });
  const labels = [0, Math.floor(n / 2), n - 1].map((i) => s('text', { x: pad + i * bw, y: H - 6, class: 'axis' }, daily[i].date.slice(5)));
  const chart = s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': 'daily-title', class: 'chart' },
    s('title', { id: 'daily-title' }, 'Reports filed per day over 30 days, by status'),
    s('text', { x: pad, y: 14, class: 'axis' }, `max ${max} per day`), bars, labels);
  const table = h('table', { id: 'daily-table' }, h('caption', {}, 'Reports filed per day'),
    h('thead', {}, h('tr', {}, ['Day', ...STATUSES].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, daily.map((d) => h('tr', {}, h('th', { scope: 'row' }, d.date), STATUSES.map((k) => h('td', {}, d[k]))))));
  return h('section', { class: 'card' }, h('h2', {}, 'Filed per day'), chart,
    h('p', { class: 'legend' }, STATUSES.map((k) => h('span', { class: `key ${k}` }, k))),
    h('details', {}, h('summary', {}, 'The numbers'), h('div', { class: 'table-wrap' }, table)));
}

// Due, filed and approved as nested bars per row, with a table that sorts by any column.
function coverageChart(title, id, rows, nameKey) {
  const W = 600, rowH = 26, left = 130, H = rows.length * rowH + 10;
  const max = Math.max(1, ...rows.map((r) => r.due));
  const scale = (v) => (v / max) * (W - left - 180);
  const bars = rows.map((r, i) => {
    const y = 5 + i * rowH;
    return s('g', {},
      s('text', { x: 0, y: y + 16, class: 'axis' }, String(r[nameKey]).slice(0, 18)),
      s('rect', { x: left, y, width: scale(r.due), height: 20, class: 'bar due' }),
      s('rect', { x: left, y: y + 3, width: scale(r.filed), height: 14, class: 'bar filed' }),
      s('rect', { x: left, y: y + 6, width: scale(r.approved), height: 8, class: 'bar Approved' }),
      s('text', { x: left + scale(r.due) + 6, y: y + 16, class: 'axis' }, `${r.filed}/${r.due} filed, ${r.approved} approved`));
  });
  const chart = s('svg', { viewBox: `0 0 ${W} ${Math.max(H, 30)}`, role: 'img', 'aria-labelledby': `${id}-title`, class: 'chart' },
    s('title', { id: `${id}-title` }, `${title}: devices due, filed and approved`), bars);
  const cols = [[nameKey, nameKey === 'city' ? 'City' : 'Technician'], ['due', 'Due'], ['filed', 'Filed'], ['approved', 'Approved']];
  const body = h('tbody');
  let sortBy = nameKey, asc = true;
  const fill = () => {
    const sorted = [...rows].sort((a, b) => (a[sortBy] < b[sortBy] ? -1 : a[sortBy] > b[sortBy] ? 1 : 0) * (asc ? 1 : -1));
    put(body, sorted.map((r) => h('tr', {}, h('th', { scope: 'row' }, r[nameKey]), h('td', {}, r.due), h('td', {}, r.filed), h('td', {}, r.approved))));
  };
  const head = h('tr', {}, cols.map(([k, label]) => h('th', { scope: 'col' },
    h('button', { type: 'button', class: 'sort', onclick: () => { asc = sortBy === k ? !asc : true; sortBy = k; fill(); } }, label))));
  fill();
  return h('section', { class: 'card' }, h('h2', {}, title),
    rows.length ? chart : h('p', { class: 'muted' }, 'No devices are assigned.'),
    h('p', { class: 'legend' }, h('span', { class: 'key due' }, 'Due'), h('span', { class: 'key filed' }, 'Filed'), h('span', { class: 'key Approved' }, 'Approved')),
    h('div', { class: 'table-wrap' }, h('table', { id: `${id}-table` }, h('caption', {}, `${title} (select a column to sort)`), h('thead', {}, head), body)));
}

// The whole insight for the period in the page's `period` parameter (default: the current half).
export async function insights(target, linkReports) {
  const p = hashParams();
  const d = await api('GET', '/api/supervisor/insights' + qs({ period: p.period || '' }));
  const choose = h('select', { name: 'period', 'aria-label': 'Half-month' });
  let at = { key: d.period.key };
  const keys = [];
  let [y, m, half] = d.period.key.split('-').map(Number);
  for (let i = 0; i < 12; i += 1) {
    keys.push(`${y}-${String(m).padStart(2, '0')}-${half}`);
    if (half === 2) half = 1; else { half = 2; m -= 1; if (m === 0) { m = 12; y -= 1; } }
  }
  for (const k of keys) choose.append(h('option', { value: k, selected: k === at.key }, k.replace(/-(\d)$/, (_, x) => (x === '1' ? ' first half' : ' second half'))));
  choose.addEventListener('change', () => { location.hash = location.hash.split('?')[0] + qs({ ...p, period: choose.value }); });
  const rate = d.approval_rate === null ? '—' : `${Math.round(d.approval_rate * 100)}%`;
  const report = (w) => (linkReports ? h('a', { href: `#/submission/${w.id}` }, `${w.interaction_id} · ${w.visit_date}`) : `${w.interaction_id} · ${w.visit_date}`);
  put(target,
    h('div', { class: 'row' }, h('label', {}, 'Half-month ', choose), h('strong', { id: 'period-label' }, d.period.label)),
    h('div', { class: 'grid' },
      h('div', { class: 'card stat' }, h('b', { id: 'approval-rate' }, rate), 'Approval rate (approved of reviewed, this half)'),
      h('div', { class: 'card stat' }, h('b', {}, d.counts.total), 'Reports this half'),
      linkReports ? h('a', { class: 'card stat', href: '#/submissions?flagged=true', id: 'flagged-count' }, h('b', {}, d.counts.flagged ?? 0), 'Flagged: photo findings to check')
        : h('div', { class: 'card stat', id: 'flagged-count' }, h('b', {}, d.counts.flagged ?? 0), 'Flagged: photo findings to check'),
      h('div', { class: 'card stat' }, h('b', {}, d.not_filed_previous.count), `Not filed in ${d.previous_period.label}`)),
    dailyChart(d.daily),
    coverageChart('Coverage by city', 'city', d.coverage.by_city, 'city'),
    coverageChart('Coverage by technician', 'technician', d.coverage.by_technician, 'technician'),
    h('section', { class: 'card' }, h('h2', {}, 'Waiting longest for review'),
      d.oldest_pending.length ? h('ol', {}, d.oldest_pending.map((w) => h('li', {}, report(w), ` — ${w.technician}, ${w.city}, filed ${fmtDate(w.created_at)}`)))
        : h('p', { class: 'muted' }, 'Nothing is waiting.')),
    h('section', { class: 'card' }, h('h2', {}, `Not filed in ${d.previous_period.label} (${d.not_filed_previous.count})`),
      d.not_filed_previous.devices.length ? h('ul', { class: 'list' }, d.not_filed_previous.devices.map((x) => h('li', {}, `${x.interaction_id} · ${x.type} · ${x.city} · ${x.technician}`)))
        : h('p', { class: 'muted' }, 'Every assigned device was filed.')));
  return d;
}
