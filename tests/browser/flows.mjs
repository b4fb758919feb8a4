// Browser flows against a running server, in Debian's chromium through playwright-core.
// Started by tests/browser.rs, which seeds the data, then checks the result through the API.
// Usage: node flows.mjs <host|technician|review|docs|…>; settings come from the environment:
//   BASE_URL, SHOTS_DIR, FIXTURES (folder with photo1.jpg… and devices.xlsx), CHROMIUM,
//   TECH (technician's username), PASSWORD (everyone's), DEVICE (interaction id to use).
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const env = (k) => { const v = process.env[k]; if (!v) throw new Error(`${k} is not set`); return v; };
const BASE = env('BASE_URL');
const SHOTS = env('SHOTS_DIR');
const FIX = env('FIXTURES');
const PASSWORD = env('PASSWORD');
const TECH = env('TECH');
const DEVICE = process.env.DEVICE || '';
fs.mkdirSync(SHOTS, { recursive: true });

const AXE = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

// Every page visited is audited against WCAG 2 A/AA rules; serious and critical findings fail.
async function audit(page, name) {
  if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) await page.evaluate(AXE);
  const result = await page.evaluate(() => window.axe.run(document, { runOnly: ['wcag2a', 'wcag2aa'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const list = bad.map((v) => `${v.id}: ${v.help} (${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')})`);
  assert.deepEqual(list, [], `accessibility findings on ${name}`);
}

let shot = 0;
async function snap(page, name) {
  await audit(page, name);
  shot += 1;
  const file = path.join(SHOTS, `${String(shot).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`screenshot ${file}`);
}

async function browser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

const PHONE = { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

async function signIn(page, username, password = PASSWORD) {
  await page.goto(BASE + '/');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

async function signOut(page) {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
}

// Any error the page itself reports fails the flow.
function watch(page) {
  page.on('pageerror', (e) => { console.error('page error:', e.message); process.exitCode = 1; });
}

// Fills every slot of the open visit report from the gallery inputs. `cut` names one slot whose
// first upload is aborted mid-way; it must recover by itself.
async function fillSlots(page, { cut, reloadAfter, offline } = {}) {
  let aborted = 0;
  if (cut) {
    await page.route(`**/photos/${cut}`, async (route) => {
      if (aborted === 0) { aborted += 1; await route.abort('connectionreset'); } else { await route.continue(); }
    });
  }
  const fields = await page.locator('li.slot').evaluateAll((els) => els.map((e) => e.dataset.field));
  assert.ok(fields.length === 8 || fields.length === 19, `expected 8 or 19 slots, saw ${fields.length}`);
  for (const [i, f] of fields.entries()) {
    const slot = page.locator(`li.slot[data-field="${f}"]`);
    if (await slot.evaluate((e) => e.classList.contains('received'))) continue;
    const last = i === fields.length - 1;
    if (offline && last) {
      // The connection drops: the banner says so and the photo waits, then goes by itself.
      for (const g of fields.slice(0, -1)) await page.locator(`li.slot[data-field="${g}"].received`).waitFor({ timeout: 60000 });
      await page.context().setOffline(true);
      await page.locator('#offline').waitFor({ state: 'visible' });
    }
    await slot.locator('input[data-kind="gallery"]').setInputFiles(path.join(FIX, `photo${(i % 8) + 1}.jpg`));
    if (offline && last) {
      await slot.locator('.state', { hasText: 'Waiting for the connection' }).waitFor();
      await snap(page, 'offline-waiting');
      await page.context().setOffline(false);
      await page.locator('#offline').waitFor({ state: 'hidden' });
    }
    if (reloadAfter && i + 1 === reloadAfter) {
      await page.locator('li.slot.received').nth(reloadAfter - 1).waitFor({ timeout: 30000 });
      return { fields, aborted, reloaded: true };
    }
  }
  for (const f of fields) {
    await page.locator(`li.slot[data-field="${f}"].received`).waitFor({ timeout: 60000 });
  }
  if (cut) assert.equal(aborted, 1, 'the cut-off upload was not attempted');
  return { fields, aborted, reloaded: false };
}

async function fileVisitReport(page, { cut, reload, device = DEVICE }) {
  await page.getByRole('link', { name: device }).click();
  await snap(page, 'device-detail');
  await page.getByRole('link', { name: /visit report/ }).click();
  await page.locator('li.slot').first().waitFor();
  await snap(page, 'visit-report-empty');
  if (reload) {
    // A photo still on its way when the page reloads is kept in the browser and goes on by itself.
    let held = true;
    await page.route('**/photos/section1_1', (route) => { if (!held) route.continue(); });
    const first = page.locator('li.slot[data-field="section1_1"]');
    await first.locator('input[data-kind="gallery"]').setInputFiles(path.join(FIX, 'photo1.jpg'));
    await first.locator('.state', { hasText: 'Uploading' }).waitFor();
    await page.reload();
    held = false;
    await page.unroute('**/photos/section1_1');
    await page.locator('li.slot[data-field="section1_1"].received').waitFor({ timeout: 30000 });
    await snap(page, 'visit-report-resumed-after-reload');
    const r = await fillSlots(page, { reloadAfter: 3 });
    assert.ok(r.reloaded);
    await page.reload();
    await page.locator('li.slot').first().waitFor();
    const kept = await page.locator('li.slot.received').count();
    assert.ok(kept >= 3, `after a reload ${kept} photos were shown as received, expected at least 3`);
    await snap(page, 'visit-report-after-reload');
  }
  const { aborted } = await fillSlots(page, { cut, offline: Boolean(cut) });
  if (cut) {
    const state = await page.locator(`li.slot[data-field="${cut}"] .state`).textContent();
    assert.match(state, /Server holds it/);
  }
  const receipts = await page.locator('li.slot code[data-sha256]').evaluateAll((els) => els.map((e) => e.dataset.sha256));
  assert.ok(receipts.every((r) => /^[0-9a-f]{64}$/.test(r)), 'every slot shows a SHA-256 receipt');
  await page.getByLabel('Job description').fill('Cleaned the machine and the pylon');
  await snap(page, 'visit-report-filled');
  const submit = page.getByRole('button', { name: 'Submit visit report' });
  assert.ok(await submit.isEnabled(), 'submit is enabled once every slot is filled');
  await submit.click();
  await page.getByRole('heading', { name: 'Visit history' }).waitFor();
  await page.getByText('Pending').first().waitFor();
  await snap(page, 'after-submit');
  return { aborted, receipts };
}

const flows = {
  // The API documentation page, with every request to anywhere but this server refused (as if
  // offline, no CDN): it draws every operation of the document, filters, and links schemas.
  async docs(b) {
    const context = await b.newContext({ viewport: { width: 1280, height: 900 } });
    const foreign = [];
    await context.route('**/*', (route) => {
      if (route.request().url().startsWith(BASE)) return route.continue();
      foreign.push(route.request().url());
      return route.abort();
    });
    const page = await context.newPage();
    watch(page);
    await page.goto(BASE + '/docs');
    await page.locator('.doc-op').first().waitFor();
    const doc = await page.evaluate(async () => (await fetch('/api/openapi.json')).json());
    const ops = Object.values(doc.paths).flatMap((item) => ['get', 'post', 'put', 'patch', 'delete'].filter((m) => item[m]));
    assert.equal(await page.locator('.doc-op').count(), ops.length, 'one card per operation');
    assert.equal(await page.locator('section.card[id^="schema-"]').count(), Object.keys(doc.components.schemas).length);
    const reject = page.locator('#op-patch--api-supervisor-submissions-id-reject');
    assert.deepEqual(await reject.locator('table').last().locator('tbody tr td:first-child').allTextContents(), ['200', '400', '401', '403', '404', '409']);
    await page.getByLabel('Find an endpoint').fill('export.zip');
    assert.equal(await page.locator('.doc-op:visible').count(), 1, 'the filter leaves the one ZIP export');
    await page.getByLabel('Find an endpoint').fill('');
    await page.locator('#op-get--api-supervisor-submissions').getByRole('link', { name: 'SubmissionList' }).first().click();
    await page.waitForFunction(() => location.hash === '#schema-SubmissionList');
    await page.locator('#schema-SubmissionList').getByText('total_pages').waitFor();
    await snap(page, 'api-docs');
    assert.deepEqual(foreign, [], 'the page asked for nothing outside this server');
    await context.close();
  },

  // History brought over from the original system: the supervisor signs in with the old
  // password, sees the imported reports, which of them lost files before the move and what;
  // the technician signs in with theirs and sees their devices.
  async imported(b) {
    const page = await b.newPage({ viewport: { width: 1280, height: 900 } });
    watch(page);
    await signIn(page, 'super1', env('SUPER_PASSWORD'));
    await page.locator('section[aria-label="Moved from the original system"]', { hasText: '5 lost or damaged' }).waitFor();
    await snap(page, 'imported-dashboard');
    // The insight of the fixture's half-month: three charts, each with its numbers as a table
    // equal to the API's.
    await page.goto(BASE + '/#/dashboard?period=2026-12-1');
    await page.reload();
    await page.locator('#period-label', { hasText: 'December 2026, first half' }).waitFor();
    await page.locator('svg.chart').nth(2).waitFor();
    assert.equal(await page.locator('svg.chart').count(), 3, 'three charts');
    const api = await page.evaluate(async () => (await fetch('/api/supervisor/insights?period=2026-12-1')).json());
    const cityRows = await page.locator('#city-table tbody tr').evaluateAll((rows) => rows.map((r) => [...r.children].map((c) => c.textContent)));
    assert.deepEqual(cityRows, api.coverage.by_city.map((c) => [c.city, String(c.due), String(c.filed), String(c.approved)]));
    const dayRows = await page.locator('#daily-table tbody tr').count();
    assert.equal(dayRows, 30);
    await page.locator('#technician-table').getByRole('button', { name: 'Due' }).click();
    const firstDue = await page.locator('#technician-table tbody tr th').first().textContent();
    assert.equal(firstDue, [...api.coverage.by_technician].sort((a, b) => a.due - b.due)[0].technician, 'sorted by due');
    await snap(page, 'imported-insight');
    await page.goto(BASE + '/#/submissions');
    await page.getByRole('link', { name: /RUN1-C001/ }).waitFor();
    assert.equal(await page.locator('.list li').count(), 12, 'all twelve imported reports are listed');
    assert.equal(await page.locator('.list .badge', { hasText: 'lost before the move' }).count(), 5);
    await snap(page, 'imported-list');
    await page.getByRole('link', { name: /RUN1-C001/ }).click();
    await page.locator('section[aria-label="Lost before the move"]', { hasText: 'Photo 2.1 was already missing' }).waitFor();
    await page.locator('.photos img').first().waitFor();
    assert.equal(await page.locator('.photos img').count(), 7, 'the seven photos that survived are shown');
    await page.locator('.lost-slot', { hasText: '2.1 lost before the move' }).waitFor();
    await page.waitForFunction(() => [...document.querySelectorAll('.photos img')].every((i) => i.complete && i.naturalWidth > 0));
    await snap(page, 'imported-report');
    await page.goto(BASE + '/#/submission/12');
    await page.getByText(/No photos at all/).waitFor();
    await snap(page, 'imported-ghost');
    await signOut(page);
    await signIn(page, 'tech2', env('TECH_PASSWORD'));
    await page.getByRole('link', { name: 'JED-C001' }).waitFor();
    await snap(page, 'imported-technician');
  },

  // Host creates a technician, previews and imports an Excel file, deletes another technician;
  // the new technician sees the devices.
  async host(b) {
    const page = await b.newPage({ viewport: { width: 1280, height: 900 } });
    watch(page);
    await signIn(page, 'host1');
    await snap(page, 'host-dashboard');
    await page.getByRole('link', { name: 'New technician' }).first().click();
    await page.getByLabel('Username').fill(TECH);
    await page.getByLabel('Password').fill('123');
    await page.getByLabel('City').selectOption('Riyadh');
    await page.getByRole('button', { name: 'Create technician' }).click();
    await page.locator('.error', { hasText: /password|characters/i }).first().waitFor();
    await snap(page, 'create-technician-refused');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create technician' }).click();
    await page.getByText(`Technician ${TECH} created`).waitFor();
    await snap(page, 'technician-created');
    await page.getByRole('link', { name: 'Import their devices' }).click();
    await page.getByLabel('Device type').selectOption('Cleaning1');
    await page.getByLabel('Excel file').setInputFiles(path.join(FIX, 'devices.xlsx'));
    await page.getByRole('button', { name: 'Preview' }).click();
    await page.getByRole('heading', { name: /Preview of/ }).waitFor();
    assert.ok(await page.locator('table td', { hasText: DEVICE }).count() >= 1, 'the preview lists the rows');
    await snap(page, 'excel-preview');
    await page.getByRole('button', { name: /^Import \d+ rows/ }).click();
    await page.getByText(/Imported \d+ rows/).waitFor();
    await snap(page, 'excel-imported');
    await page.getByRole('link', { name: 'Technicians' }).click();
    await page.getByLabel('Search').fill('doomed');
    await page.getByRole('button', { name: 'Delete doomed' }).click();
    await snap(page, 'delete-confirmation');
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await page.locator('#deleted-summary', { hasText: /Removed \d+ device assignments/ }).waitFor();
    await page.getByText('No technicians match.').waitFor();
    await snap(page, 'technician-deleted');
    await page.getByLabel('Search').fill(TECH);
    await page.getByRole('link', { name: TECH }).click();
    await page.locator('table td', { hasText: 'devices.xlsx' }).waitFor();
    await snap(page, 'technician-files');
    await page.getByRole('link', { name: 'Storage' }).click();
    await page.locator('#storage-facts').waitFor();
    await snap(page, 'storage');
    await signOut(page);
    await signIn(page, TECH);
    await page.getByRole('link', { name: DEVICE }).waitFor();
    assert.ok(await page.locator('li.device').count() >= 1);
    await snap(page, 'technician-devices');
  },

  // A technician on a phone fills 8 slots; one upload is cut off and recovers; a reload keeps
  // what the server holds; the report is submitted.
  async technician(b) {
    const ctx = await b.newContext(PHONE);
    const page = await ctx.newPage();
    watch(page);
    await signIn(page, TECH);
    await snap(page, 'phone-devices');
    const r = await fileVisitReport(page, { cut: 'section2_1', reload: true });
    assert.equal(r.aborted, 1);
    console.log(`receipts ${JSON.stringify(r.receipts)}`);
    // An electrical device asks for 19 photos in 5 sections.
    if (process.env.ELECTRICAL) {
      await page.getByRole('link', { name: 'My devices' }).click();
      const e = await fileVisitReport(page, { cut: null, reload: false, device: process.env.ELECTRICAL });
      assert.equal(e.receipts.length, 19);
    }
  },

  // The review page shows each photo's evidence without opening any photo: the report's summary,
  // a badge per photo, the earlier photo side by side for a reuse; a finding is marked checked
  // with a note; the flagged filter and the dashboard's count. Then a technician's phone shares
  // its position with a draft photo.
  async evidence(b) {
    const REPORT = env('REPORT_ID');
    const EARLIER = env('EARLIER_ID');
    const NOTE = env('NOTE');
    const sup = await b.newPage({ viewport: { width: 1280, height: 900 } });
    watch(sup);
    await signIn(sup, 'sup1');
    await sup.locator('#flagged-count b', { hasText: '1' }).waitFor();
    await sup.goto(`${BASE}/#/submission/${REPORT}`);
    const summary = sup.locator('.ev-summary-text');
    await summary.waitFor();
    assert.match(await summary.textContent(), /^8 of 8 photos flagged · 9 open findings of 9 · 0 fresh$/);
    assert.equal(await sup.locator('.ev-badge[data-kind="exact_reuse"]').count(), 1, 'one photo is a reuse');
    assert.equal(await sup.locator('.ev-badge[data-kind="capture_time_missing"]').count(), 8, 'no photo has a capture time');
    const reused = sup.locator('.photo-tile', { has: sup.locator('.ev-badge[data-kind="exact_reuse"]') });
    await reused.getByRole('link', { name: `Report #${EARLIER}` }).waitFor();
    const earlier = reused.locator(`.ev-earlier img[alt="The earlier photo, report ${EARLIER}"]`);
    await earlier.waitFor();
    await sup.waitForFunction(() => [...document.querySelectorAll('.ev-pair img')].every((i) => i.complete && i.naturalWidth > 0));
    assert.match(await earlier.getAttribute('src'), /\/previews\/320\//);
    await snap(sup, 'review-evidence');
    await reused.getByLabel('Note on "Seen before (identical file)"').fill(NOTE);
    await reused.locator('li[data-kind="exact_reuse"]').getByRole('button', { name: 'Mark checked' }).click();
    await sup.locator('li.checked[data-kind="exact_reuse"]', { hasText: `Checked by sup1` }).waitFor();
    assert.match(await summary.textContent(), /8 open findings of 9/);
    await snap(sup, 'finding-checked');
    await sup.goto(`${BASE}/#/submissions?flagged=true`);
    await sup.getByText(/· 1 flagged/).waitFor();
    assert.equal(await sup.locator('ul.list > li').count(), 1, 'only the flagged report');
    await sup.locator('[data-flagged="true"]').first().waitFor();
    await snap(sup, 'flagged-list');

    // The technician's phone, with its position shared: the photo goes with it.
    const ctx = await b.newContext({ ...PHONE, geolocation: { latitude: 24.7136, longitude: 46.6753, accuracy: 12 }, permissions: ['geolocation'] });
    const tech = await ctx.newPage();
    watch(tech);
    await signIn(tech, TECH);
    await tech.goto(`${BASE}/#/visit/${env('DEVICE_ID')}`);
    await tech.getByRole('button', { name: 'Share my position with photos' }).click();
    const first = tech.locator('li.slot').first();
    await first.locator('input[data-kind="gallery"]').setInputFiles(path.join(FIX, 'photo1.jpg'));
    await first.locator('.badge', { hasText: 'Received' }).waitFor();
    await snap(tech, 'photo-with-position');
  },

  // The app installs and opens offline; a rejection's notification shows until marked read, on
  // every phone of the technician.
  async offline(b) {
    const REASON = env('REASON');
    const ctx = await b.newContext(PHONE);
    const tech = await ctx.newPage();
    watch(tech);
    await signIn(tech, TECH);
    await tech.goto(`${BASE}/#/devices`);
    await tech.locator('li.device').first().waitFor();

    // Installable: the manifest names the brand, is standalone, its icons are PNGs of their size.
    const config = await (await tech.request.get(`${BASE}/api/ui/config`)).json();
    const manifest = await (await tech.request.get(`${BASE}/manifest.webmanifest`)).json();
    assert.equal(manifest.name, config.brand);
    assert.equal(manifest.display, 'standalone');
    for (const icon of manifest.icons.filter((i) => i.type === 'image/png')) {
      const body = await (await tech.request.get(BASE + icon.src)).body();
      assert.equal(body.subarray(1, 4).toString(), 'PNG', icon.src);
      assert.equal(`${body.readUInt32BE(16)}x${body.readUInt32BE(20)}`, icon.sizes, icon.src);
    }
    await tech.waitForFunction(() => navigator.serviceWorker && navigator.serviceWorker.controller !== null);
    const cdp = await ctx.newCDPSession(tech);
    const parsed = await cdp.send('Page.getAppManifest');
    assert.deepEqual(parsed.errors, [], 'the manifest parses without errors');
    const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
    // A test context is an off-the-record profile, which never installs; nothing else may stop it.
    console.log(`installability errors: ${JSON.stringify(installabilityErrors.map((e) => e.errorId))}`);
    const blocking = installabilityErrors.map((e) => e.errorId).filter((id) => id !== 'in-incognito');
    assert.deepEqual(blocking, [], 'Chromium finds the app installable');

    // The rejection, with its reason and the flagged photos, and the count in the menu.
    const note = tech.locator('[data-notification]', { hasText: REASON });
    await note.waitFor();
    await note.getByText(/Flagged photos/).waitFor();
    await tech.locator('#notif-count', { hasText: /Notifications: [1-9]/ }).waitFor();
    await snap(tech, 'notification');

    // No connection: a reload opens the app and the device list it last saw, with its time.
    await ctx.setOffline(true);
    await tech.reload();
    await tech.getByText(/Offline: your devices as of/).waitFor();
    await tech.locator('li.device', { hasText: DEVICE }).waitFor();
    await snap(tech, 'offline-devices');
    await tech.locator('li.device a.title', { hasText: DEVICE }).click();
    await tech.getByText(/Offline: this device as of/).waitFor();

    // A whole visit report filled offline: every photo waits on the phone, a reload keeps them
    // and the submission asked for, and all of it goes once the connection returns.
    await tech.getByRole('link', { name: 'Start visit report' }).click();
    await tech.getByText(/Offline: this report is kept on this phone/).waitFor();
    const fields = await tech.locator('li.slot').evaluateAll((els) => els.map((e) => e.dataset.field));
    assert.equal(fields.length, 8);
    for (const [i, f] of fields.entries()) {
      const slot = tech.locator(`li.slot[data-field="${f}"]`);
      await slot.locator('input[data-kind="gallery"]').setInputFiles(path.join(FIX, `photo${i + 1}.jpg`));
      await slot.locator('.state', { hasText: 'Kept on this phone' }).waitFor();
    }
    await tech.getByLabel('Job description').fill('Cleaned offline in the basement');
    await tech.getByRole('button', { name: 'Submit visit report' }).click();
    await tech.getByText(/submitted as soon as every photo has reached the server/).waitFor();
    await tech.reload();
    await tech.getByText(/Offline: this report is kept on this phone/).waitFor();
    for (const f of fields) await tech.locator(`li.slot[data-field="${f}"] .state`, { hasText: 'Kept on this phone' }).waitFor();
    await tech.getByText(/submitted as soon as every photo has reached the server/).waitFor();
    await snap(tech, 'offline-report-waiting');
    await tech.goto(`${BASE}/#/devices`);
    await tech.locator('li.device', { hasText: DEVICE }).locator('.badge', { hasText: 'Waiting to send' }).waitFor();
    await tech.locator('li.device', { hasText: DEVICE }).getByText('8 photos waiting to send').waitFor();
    // Reopened on the device list (no report page in memory), then back online: what waited
    // goes by itself.
    await tech.reload();
    await tech.locator('li.device', { hasText: DEVICE }).getByText('8 photos waiting to send').waitFor();
    await ctx.setOffline(false);
    await tech.locator('li.device', { hasText: DEVICE }).locator('.badge', { hasText: 'Submitted' }).waitFor({ timeout: 60000 });
    await snap(tech, 'offline-report-arrived');

    // Marked read: gone here, and on a second phone.
    await tech.goto(`${BASE}/#/devices`);
    await tech.reload();
    await note.getByRole('button', { name: 'Mark read' }).click();
    await note.waitFor({ state: 'detached' });
    const ctx2 = await b.newContext(PHONE);
    const other = await ctx2.newPage();
    watch(other);
    await signIn(other, TECH);
    await other.goto(`${BASE}/#/devices`);
    await other.locator('li.device').first().waitFor();
    assert.equal(await other.locator('[data-notification]', { hasText: REASON }).count(), 0, 'read on the other phone too');
    await snap(other, 'second-phone');
  },

  // Supervisor reviews with thumbnails and the viewer, rejects; the technician sees the reason and
  // resubmits; the supervisor approves and downloads the PDF.
  async review(b) {
    const sup = await b.newPage({ viewport: { width: 1280, height: 900 } });
    watch(sup);
    await signIn(sup, 'sup1');
    await snap(sup, 'supervisor-dashboard');
    await sup.getByRole('link', { name: /Pending review/ }).click();
    await sup.getByRole('link', { name: new RegExp(DEVICE) }).first().click();
    await sup.locator('.photos img').first().waitFor();
    const thumbs = sup.locator('.photos img');
    assert.equal(await thumbs.count(), 8);
    // Thumbnails load lazily: bring each into view, then every one must have loaded.
    for (const t of await thumbs.all()) await t.scrollIntoViewIfNeeded();
    await sup.waitForFunction(() => [...document.querySelectorAll('.photos img')].every((i) => i.complete && i.naturalWidth > 0));
    const srcs = await thumbs.evaluateAll((els) => els.map((e) => e.getAttribute('src')));
    assert.ok(srcs.every((s) => s.includes('/previews/320/')), 'thumbnails are server-made previews, not originals');
    await snap(sup, 'submission-detail');
    await sup.locator('.photos button').first().click();
    const viewer = sup.getByRole('dialog', { name: 'Photo viewer' });
    await viewer.waitFor();
    await sup.keyboard.press('ArrowRight');
    await viewer.getByText(/^2 \/ 8/).waitFor();
    assert.match(await viewer.locator('img').getAttribute('src'), /\/previews\/1600\//);
    await snap(sup, 'viewer');
    await sup.keyboard.press('Escape');
    await viewer.waitFor({ state: 'detached' });
    await sup.getByRole('button', { name: 'Reject' }).click();
    const dialog = sup.getByRole('dialog');
    await dialog.getByLabel(/Reason/).fill('short');
    await dialog.getByRole('button', { name: 'Reject' }).click();
    await dialog.getByText(/at least 10 characters/).waitFor();
    await dialog.getByLabel(/Reason/).fill('Photo 2.1 is blurred; please retake the pole photo.');
    await snap(sup, 'reject-dialog');
    await dialog.getByRole('button', { name: 'Reject' }).click();
    await sup.locator('dd .badge', { hasText: 'Rejected' }).waitFor();
    await snap(sup, 'rejected');

    const ctx = await b.newContext(PHONE);
    const tech = await ctx.newPage();
    watch(tech);
    await signIn(tech, TECH);
    await tech.getByText('Rejected: Photo 2.1 is blurred').first().waitFor();
    await snap(tech, 'technician-sees-rejection');
    await fileVisitReport(tech, { cut: null, reload: false });

    await sup.goto(BASE + '/#/submissions?status=Pending');
    await sup.getByRole('link', { name: new RegExp(DEVICE) }).first().click();
    await sup.getByRole('button', { name: 'Approve' }).click();
    await sup.getByRole('dialog').getByRole('button', { name: 'Approve' }).click();
    await sup.locator('dd .badge', { hasText: 'Approved' }).waitFor();
    for (let i = 0; i < 60 && !(await sup.getByRole('link', { name: 'Download PDF' }).count()); i++) {
      await sup.waitForTimeout(500);
      await sup.reload();
      await sup.locator('dl.facts').waitFor();
    }
    await snap(sup, 'approved');
    const [download] = await Promise.all([
      sup.waitForEvent('download'),
      sup.getByRole('link', { name: 'Download PDF' }).click(),
    ]);
    const file = path.join(SHOTS, 'report.pdf');
    await download.saveAs(file);
    const head = fs.readFileSync(file).subarray(0, 5).toString();
    assert.equal(head, '%PDF-', 'the download is a PDF');
    console.log(`pdf ${file} ${fs.statSync(file).size} bytes`);
  },
};

const name = process.argv[2];
if (!flows[name]) { console.error(`unknown flow ${name}; one of ${Object.keys(flows).join(', ')}`); process.exit(2); }
const b = await browser();
try {
  await flows[name](b);
  console.log(`flow ${name} passed`);
} catch (e) {
  console.error(`flow ${name} failed: ${e.stack || e}`);
  for (const ctx of b.contexts()) for (const p of ctx.pages()) {
    await p.screenshot({ path: path.join(SHOTS, `failure-${name}.png`), fullPage: true }).catch(() => {});
  }
  process.exitCode = 1;
} finally {
  await b.close();
}
