// Photos picked but not yet received by the server wait here (IndexedDB, in this browser only),
// so a reload, a crash or a phone that closed the tab resumes them instead of losing them. Where
// IndexedDB is unavailable (some private modes) every call resolves to null and nothing is kept.

let opened = null;

function database() {
  if (!opened) {
    opened = new Promise((resolve) => {
      if (!window.indexedDB) { resolve(null); return; }
      const req = indexedDB.open('atm-maint-uploads', 1);
      req.onupgradeneeded = () => req.result.createObjectStore('pending');
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => resolve(null);
      req.onblocked = () => resolve(null);
    });
  }
  return opened;
}

async function run(mode, action) {
  const db = await database();
  if (!db) return null;
  return new Promise((resolve) => {
    let request;
    try {
      const t = db.transaction('pending', mode);
      request = action(t.objectStore('pending'));
      t.oncomplete = () => resolve(request ? request.result ?? true : true);
      t.onerror = () => resolve(null);
      t.onabort = () => resolve(null);
    } catch (e) {
      resolve(null);
    }
  });
}

const key = (draftId, field) => `${draftId}/${field}`;

/** Keeps a picked photo (and where the phone was, when shared) until the server holds it; true
 * when it is kept. */
export async function keepPending(draftId, field, file, position) {
  return (await run('readwrite', (s) => s.put({ draftId, field, file, position: position || null }, key(draftId, field)))) !== null;
}

export function dropPending(draftId, field) {
  return run('readwrite', (s) => s.delete(key(draftId, field)));
}

/** The photos of a draft still waiting to be sent: [{field, file, position}]. */
export async function pendingOf(draftId) {
  if (!window.IDBKeyRange) return [];
  const range = IDBKeyRange.bound(`${draftId}/`, `${draftId}/\uffff`);
  return (await run('readonly', (s) => s.getAll(range))) || [];
}

/** Forgets every waiting photo (signing out on a shared phone leaves none behind). */
export function clearPending() {
  return run('readwrite', (s) => s.clear());
}

/** How many photos wait in this browser per draft id: {draftId: n}. */
export async function waitingByDraft() {
  const all = (await run('readonly', (s) => s.getAll())) || [];
  const out = {};
  for (const p of all) out[p.draftId] = (out[p.draftId] || 0) + 1;
  return out;
}

/** Every photo waiting in this browser: [{draftId, field, file, position}]. */
export async function allPending() {
  return (await run('readonly', (s) => s.getAll())) || [];
}
