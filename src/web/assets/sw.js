// The service worker (VERSION and FILES are written above by the server). The app's own files
// are kept in a cache named by VERSION and answered from it first, so the app opens with no
// connection. A new binary brings a new VERSION: the browser installs it on the next load, the
// old cache is removed, and the page says the app was updated. Nothing else is touched: API
// calls, photo uploads and signed media links always go to the network.

const CACHE = `atm-app-${VERSION}`;

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE)
    .then((cache) => cache.addAll(FILES.map((f) => new Request(f, { cache: 'reload' }))))
    .then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith('atm-app-') && k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  const path = req.mode === 'navigate' && url.pathname === '/' ? '/' : url.pathname;
  if (!FILES.includes(path)) return;
  event.respondWith(caches.open(CACHE).then((cache) => cache.match(path).then((hit) => hit || fetch(req))));
});

self.addEventListener('message', (event) => {
  if (event.data === 'version' && event.source) event.source.postMessage({ version: VERSION });
});
