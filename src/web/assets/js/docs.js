// The API documentation page: draws /api/openapi.json (served by the same binary, so it works
// with no network beyond this server) as operations grouped by tag, then the schemas.
// Every text is set as text, never as HTML.

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== undefined && v !== null) e.setAttribute(k, v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

// Markdown-lite: `code` spans only; the rest stays text.
function prose(text) {
  const out = document.createDocumentFragment();
  String(text || '').split(/(`[^`]*`)/).forEach((part) => {
    if (part.startsWith('`') && part.endsWith('`') && part.length > 1) out.append(el('code', {}, part.slice(1, -1)));
    else out.append(document.createTextNode(part));
  });
  return out;
}

const schemaId = (name) => `schema-${name}`;
const opId = (method, path) => `op-${method}-${path.replace(/[^A-Za-z0-9]+/g, '-')}`;

// A schema's type as a short description with links to named schemas.
function typeOf(s) {
  if (!s) return document.createTextNode('any');
  if (s.$ref) {
    const name = s.$ref.split('/').pop();
    return el('a', { href: `#${schemaId(name)}` }, name);
  }
  const frag = document.createDocumentFragment();
  const alts = s.oneOf || s.anyOf;
  if (alts) {
    alts.forEach((a, i) => {
      if (i) frag.append(' or ');
      frag.append(typeOf(a));
    });
    return frag;
  }
  let t = Array.isArray(s.type) ? s.type.join(' or ') : s.type;
  if (t === 'array' || (Array.isArray(s.type) && s.type.includes('array'))) {
    frag.append('array of ', typeOf(s.items));
    return frag;
  }
  if (s.enum) t = `${t || ''} one of ${s.enum.map((v) => JSON.stringify(v)).join(', ')}`;
  if (s.format) t = `${t} (${s.format})`;
  if (t === 'object' && s.additionalProperties && typeof s.additionalProperties === 'object') {
    frag.append('object of ', typeOf(s.additionalProperties));
    return frag;
  }
  frag.append(t || 'any');
  return frag;
}

function propertiesTable(s) {
  const props = s.properties || {};
  const required = new Set(s.required || []);
  const rows = Object.entries(props).map(([name, p]) => el('tr', {},
    el('td', {}, el('code', {}, name)),
    el('td', {}, typeOf(p)),
    el('td', {}, required.has(name) ? 'always' : 'optional'),
    el('td', {}, prose(p.description || ''))));
  if (!rows.length) return el('p', { class: 'muted' }, typeOf(s));
  return el('div', { class: 'table-wrap' }, el('table', {},
    el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Field'), el('th', { scope: 'col' }, 'Type'),
      el('th', { scope: 'col' }, 'Present'), el('th', { scope: 'col' }, 'Description'))),
    el('tbody', {}, rows)));
}

function contentList(content) {
  return el('ul', {}, Object.entries(content || {}).map(([type, m]) =>
    el('li', {}, el('code', {}, type), m.schema ? [': ', typeOf(m.schema)] : null)));
}

function operation(method, path, op, doc) {
  const card = el('section', { class: 'card doc-op', id: opId(method, path) });
  card.append(el('h3', {}, el('span', { class: `doc-method doc-${method}` }, method.toUpperCase()), ' ', el('code', {}, path)));
  if (op.summary) card.append(el('p', {}, prose(op.summary)));
  if (op.description) card.append(el('p', {}, prose(op.description)));
  const security = op.security || doc.security;
  if (security && security.length) {
    const names = security.map((s) => Object.keys(s).join(' + ') || 'anonymous');
    card.append(el('p', { class: 'muted' }, 'Sign-in: ', names.join(' or ')));
  }
  if (op.parameters && op.parameters.length) {
    card.append(el('h4', {}, 'Parameters'), el('div', { class: 'table-wrap' }, el('table', {},
      el('thead', {}, el('tr', {}, ['Name', 'In', 'Type', 'Required', 'Description'].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, op.parameters.map((p) => el('tr', {},
        el('td', {}, el('code', {}, p.name)), el('td', {}, p.in), el('td', {}, typeOf(p.schema)),
        el('td', {}, p.required ? 'yes' : 'no'), el('td', {}, prose(p.description || ''))))))));
  }
  if (op.requestBody) {
    card.append(el('h4', {}, 'Request body'));
    if (op.requestBody.description) card.append(el('p', {}, prose(op.requestBody.description)));
    card.append(contentList(op.requestBody.content));
  }
  card.append(el('h4', {}, 'Responses'), el('div', { class: 'table-wrap' }, el('table', {},
    el('thead', {}, el('tr', {}, ['Status', 'Meaning', 'Body'].map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, Object.entries(op.responses || {}).map(([status, r]) => el('tr', {},
      el('td', {}, status), el('td', {}, prose(r.description || '')),
      el('td', {}, r.content ? contentList(r.content) : '—')))))));
  return card;
}

function render(doc) {
  const main = document.getElementById('main');
  main.replaceChildren();
  document.title = `${doc.info.title} ${doc.info.version}`;
  main.append(el('h1', {}, `${doc.info.title} `, el('span', { class: 'muted' }, doc.info.version)));
  main.append(el('p', {}, prose(doc.info.description)));
  main.append(el('p', {}, 'OpenAPI ', doc.openapi, ' · ', el('a', { href: '/api/openapi.json' }, 'the document as JSON'),
    ' (for client generators).'));
  const filter = el('input', { type: 'search', id: 'doc-filter', placeholder: 'Filter by path or words' });
  main.append(el('label', { for: 'doc-filter' }, 'Find an endpoint'), filter);

  const byTag = new Map((doc.tags || []).map((t) => [t.name, { tag: t, ops: [] }]));
  for (const [path, item] of Object.entries(doc.paths || {})) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const tag = (op.tags && op.tags[0]) || 'other';
      if (!byTag.has(tag)) byTag.set(tag, { tag: { name: tag }, ops: [] });
      byTag.get(tag).ops.push([method, path, op]);
    }
  }
  const toc = el('nav', { 'aria-label': 'Areas', class: 'card' }, el('h2', {}, 'Areas'),
    el('ul', {}, [...byTag.values()].map(({ tag, ops }) =>
      el('li', {}, el('a', { href: `#tag-${tag.name}` }, tag.name), ` (${ops.length}) `, prose(tag.description || '')))));
  main.append(toc);
  const sections = [];
  for (const { tag, ops } of byTag.values()) {
    const section = el('section', { id: `tag-${tag.name}`, 'aria-labelledby': `tag-h-${tag.name}` },
      el('h2', { id: `tag-h-${tag.name}` }, tag.name));
    if (tag.description) section.append(el('p', {}, prose(tag.description)));
    for (const [method, path, op] of ops) section.append(operation(method, path, op, doc));
    sections.push(section);
    main.append(section);
  }
  const schemas = doc.components && doc.components.schemas ? doc.components.schemas : {};
  const schemaSection = el('section', { id: 'schemas', 'aria-labelledby': 'schemas-h' }, el('h2', { id: 'schemas-h' }, 'Schemas'));
  for (const [name, s] of Object.entries(schemas)) {
    const card = el('section', { class: 'card', id: schemaId(name) }, el('h3', {}, name));
    if (s.description) card.append(el('p', {}, prose(s.description)));
    card.append(propertiesTable(s));
    schemaSection.append(card);
  }
  const secSchemes = doc.components && doc.components.securitySchemes ? doc.components.securitySchemes : {};
  const auth = el('section', { id: 'security', 'aria-labelledby': 'security-h' }, el('h2', { id: 'security-h' }, 'Signing in'),
    el('dl', { class: 'facts' }, Object.entries(secSchemes).map(([name, s]) =>
      [el('dt', {}, name), el('dd', {}, prose(s.description || `${s.type} ${s.scheme || s.name || ''}`))])));
  main.append(auth, schemaSection);

  filter.addEventListener('input', () => {
    const words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    for (const card of main.querySelectorAll('.doc-op')) {
      const text = card.textContent.toLowerCase();
      card.hidden = !words.every((w) => text.includes(w));
    }
    for (const s of sections) s.hidden = [...s.querySelectorAll('.doc-op')].every((c) => c.hidden);
  });
  if (location.hash) document.getElementById(location.hash.slice(1))?.scrollIntoView();
}

fetch('/api/openapi.json', { headers: { Accept: 'application/json' } })
  .then((r) => {
    if (!r.ok) throw new Error(`the document answered ${r.status}`);
    return r.json();
  })
  .then(render)
  .catch((e) => {
    const main = document.getElementById('main');
    main.replaceChildren(el('p', { class: 'alert', role: 'alert' }, `The API document could not be loaded (${e.message}). Reload the page to try again.`));
  });
