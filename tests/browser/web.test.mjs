// The web app in a real browser (issue 12): Debian's Chromium driven by
// playwright-core against `chiso up` on a fresh data folder, which
// .ci/browser.sh starts. Every page fails the test on a console error, an
// uncaught exception or a Content-Security-Policy violation.
//
// Environment: CHISO_URL (the gateway), CHISO_ADMIN_SECRET,
// CHISO_SCREENSHOTS (a folder), CHROMIUM (default /usr/bin/chromium).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

const BASE = process.env.CHISO_URL;
const ADMIN_SECRET = process.env.CHISO_ADMIN_SECRET;
const SHOTS = process.env.CHISO_SCREENSHOTS || 'screenshots';
const PROVINCE = '44';
// A district committee whose name would run if it were ever parsed as
// HTML. A district committee, so the quarterly ranking of district
// committees changes with its quarterly report; its district is a new area
// (459) that the dashboard's bars by district show.
const AGENCY = '000.00.89.H44';
const AGENCY_AREA = '459';
const AGENCY_NAME = 'UBND huyện Thử nghiệm <script>window.__xss = 1</script><img src=x onerror="window.__xss=2">';
// A demo district committee with the demo's yearly reports: its own results
// against the plan have real numbers.
const DEMO_AGENCY = '000.00.32.H44';
const QUARTERLY_RANKING = 'district_committees_quarterly';
const DESKTOP = { width: 1366, height: 768 };
const PHONE = { width: 390, height: 844 };

assert.ok(BASE, 'CHISO_URL is required');
assert.ok(ADMIN_SECRET, 'CHISO_ADMIN_SECRET is required');
mkdirSync(SHOTS, { recursive: true });

let browser;
let admin;
const clients = {};

async function apiCall(method, path, token, body) {
  const response = await fetch(`${BASE}${path}`, {
    method,
    headers: {
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      'Accept-Language': 'en',
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  let json = null;
  try { json = JSON.parse(text); } catch { json = text; }
  return { status: response.status, body: json };
}

async function token(clientId, secret) {
  const { status, body } = await apiCall('POST', '/api/v1/auth/token', null, { client_id: clientId, client_secret: secret });
  assert.equal(status, 200, JSON.stringify(body));
  return body.access_token;
}

function thisQuarter() {
  const now = new Date(Date.now() + 7 * 3600 * 1000); // Vietnam time
  return `${now.getUTCFullYear()}Q${Math.floor(now.getUTCMonth() / 3) + 1}`;
}

before(async () => {
  admin = await token('admin', ADMIN_SECRET);
  const created = await apiCall('POST', '/api/v1/agencies', admin, {
    code: AGENCY, admin_unit_code: AGENCY_AREA, name: AGENCY_NAME, kind: 'district_committee',
    parent_code: `000.00.00.H${PROVINCE}`, valid_from: '2020-01-01',
  });
  assert.ok([201, 409].includes(created.status), JSON.stringify(created.body));
  const reporter = await apiCall('POST', `/api/v1/agencies/${AGENCY}/credentials`, admin, {});
  assert.equal(reporter.status, 201, JSON.stringify(reporter.body));
  clients.reporter = reporter.body;
  const officer = await apiCall('POST', '/api/v1/officers', admin, { province_code: PROVINCE });
  assert.equal(officer.status, 201, JSON.stringify(officer.body));
  clients.officer = officer.body;
  const demo = await apiCall('POST', `/api/v1/agencies/${DEMO_AGENCY}/credentials`, admin, {});
  assert.equal(demo.status, 201, JSON.stringify(demo.body));
  clients.demo = demo.body;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
});

after(async () => {
  await browser?.close();
});

/** A fresh browser context (its own cookies) and page that records every
 *  console error, uncaught exception and CSP violation. */
async function open(viewport = DESKTOP) {
  const context = await browser.newContext({ viewport, acceptDownloads: true, locale: 'vi-VN' });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const text = message.text();
    // The API's own refusals (a wrong secret, a bad value, no session yet)
    // are answers the page shows; Chromium logs each as a failed load.
    if (/^Failed to load resource: the server responded with a status of 4(01|03|04|22)/.test(text)) return;
    problems.push(`console: ${text}`);
  });
  page.on('pageerror', (error) => problems.push(`exception: ${error.message}`));
  // …but a page, a file or an icon that does not load is a fault.
  page.on('response', (response) => {
    const { pathname } = new URL(response.url());
    if (response.status() >= 400 && !pathname.startsWith('/api/')) {
      problems.push(`${response.status()} for ${pathname}`);
    }
  });
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      console.error(`CSP violation: ${event.violatedDirective} ${event.blockedURI}`);
    });
  });
  return {
    page,
    context,
    async done() {
      const xss = await page.evaluate(() => window.__xss).catch(() => undefined);
      await context.close();
      assert.equal(xss, undefined, 'markup from data ran in the page');
      assert.deepEqual(problems, [], `the page reported problems:\n${problems.join('\n')}`);
    },
  };
}

async function signIn(page, client) {
  await page.goto(`${BASE}/`);
  await page.getByLabel('Mã ứng dụng (client id)').fill(client.client_id);
  await page.getByLabel('Mật khẩu (client secret)').fill(client.client_secret);
  await page.getByRole('button', { name: 'Đăng nhập' }).click();
  await page.getByRole('button', { name: 'Đăng xuất' }).waitFor();
}

async function shoot(page, name) {
  await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: false });
}

test('the sign-in page is in Vietnamese, switches to English, and shows the server\'s error in the language chosen', async () => {
  const { page, done } = await open();
  await page.goto(`${BASE}/`);
  await page.getByRole('heading', { name: 'Đăng nhập vào chiso' }).waitFor();
  assert.equal(await page.getAttribute('html', 'lang'), 'vi');
  await page.getByLabel('Mã ứng dụng (client id)').fill('admin');
  await page.getByLabel('Mật khẩu (client secret)').fill('not-the-secret');
  await page.getByRole('button', { name: 'Đăng nhập' }).click();
  await page.getByText('Mã ứng dụng (client id) hoặc mật khẩu không đúng.').waitFor();
  await page.getByRole('button', { name: 'Switch to English' }).click();
  await page.getByRole('heading', { name: 'Sign in to chiso' }).waitFor();
  await page.getByLabel('Client secret').fill('still-not-the-secret');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('unknown client id or wrong secret').waitFor();
  // The session cookie is HttpOnly: the page's scripts never see a token.
  assert.equal(await page.evaluate(() => document.cookie), '');
  await done();
});

/** Waits until the dashboard shows the view its URL names (the page loads
 *  each view anew; its sections carry the query they were loaded for). */
async function settled(page) {
  await page.waitForFunction(() => {
    const view = document.querySelector('section.bars[data-view]');
    return view !== null && view.dataset.view === new URLSearchParams(location.search).toString();
  });
}

/** The bars table as key (area or agency) → value shown. */
async function barsShown(page) {
  return Object.fromEntries(await page.locator('.bars-table tbody tr').evaluateAll((rows) => rows.map((r) => {
    const value = r.querySelector('td').dataset.value;
    return [r.dataset.key, value === '' ? null : Number(value)];
  })));
}

/** What the officer's screens show of the new agency, each checked against
 *  the API's own answer: its rank and total in this quarter's ranking of
 *  district committees, its district's bar on the dashboard, and this
 *  quarter's point of the province's trend. */
async function newAgencyOnScreen(page) {
  const quarter = thisQuarter();
  await page.goto(`${BASE}/app/rankings?ranking=${QUARTERLY_RANKING}&period=${quarter}`);
  const row = page.locator(`table.ranking > tbody > tr[data-agency="${AGENCY}"]`);
  await row.waitFor();
  const ranking = await apiCall('GET', `/api/v1/rankings/${QUARTERLY_RANKING}?area=${PROVINCE}&period=${quarter}`, admin);
  assert.equal(ranking.status, 200, JSON.stringify(ranking.body));
  const mine = ranking.body.agencies.find((a) => a.agency === AGENCY);
  assert.ok(mine, 'the ranking lists the new district committee');
  assert.equal(await row.locator('.agency-name').textContent(), AGENCY_NAME);
  const rank = (await row.locator('td.rank').textContent()).trim().replace(/ =$/, '');
  assert.equal(rank, mine.rank === null ? '—' : String(mine.rank));
  const total = await row.locator('td.total').getAttribute('data-value');
  assert.equal(total === '' ? null : Number(total), mine.total?.value ?? null);

  await page.goto(`${BASE}/app/dashboard?period=${quarter}`);
  await settled(page);
  const breakdown = await apiCall('GET', `/api/v1/aggregates/breakdown?indicator=electronic_document_rate&area=${PROVINCE}&period=${quarter}&breakdown=child_areas`, admin);
  assert.equal(breakdown.status, 200, JSON.stringify(breakdown.body));
  const bars = await barsShown(page);
  assert.deepEqual(bars, Object.fromEntries(breakdown.body.rows.map((r) => [r.area, r.value])));
  const year = Number(quarter.slice(0, 4));
  const trend = await apiCall('GET', `/api/v1/trends?indicator=electronic_document_rate&area=${PROVINCE}&from=${year - 1}Q1&to=${quarter}`, admin);
  const point = trend.body.find((p) => p.period === quarter);
  const cells = page.locator(`.trend-table tr[data-key="${quarter}"] td`);
  assert.equal(Number(await cells.first().getAttribute('data-value')), point.value);
  assert.equal((await cells.nth(3).textContent()).trim(), `${point.agencies_reporting}/${point.agencies_expected}`);
  return { rank: mine.rank, bar: bars[AGENCY_AREA], reporting: point.agencies_reporting };
}

let beforeReport;

test('before its report, the quarterly ranking leaves the new district committee unranked and its district has no bar, as the API says', async () => {
  const { page, done } = await open();
  await signIn(page, clients.officer);
  beforeReport = await newAgencyOnScreen(page);
  assert.equal(beforeReport.rank, null);
  assert.equal(beforeReport.bar, null);
  await done();
});

test('an agency reporter downloads the template, sends it back unfilled, fills a report with one bad value, sees the field\'s error, fixes it and submits', async () => {
  const { page, context, done } = await open();
  await signIn(page, clients.reporter);
  await page.getByRole('heading', { name: 'Báo cáo của cơ quan' }).waitFor();
  // The agency's name is text, markup and all.
  assert.equal(await page.locator('.subtitle .agency-name').textContent(), AGENCY_NAME);
  assert.equal(await context.cookies().then((c) => c.find((x) => x.name === 'chiso_token')?.httpOnly), true);
  const quarter = thisQuarter();
  const row = page.locator(`tr[data-form="it_fast_quarterly"][data-period="${quarter}"]`);
  assert.equal((await row.locator('.badge').textContent()).trim(), 'Chưa nhập');
  await row.getByRole('link').click();
  await page.locator('#f-documents_sent').waitFor();
  // The XLSX template, downloaded with the session cookie; sent back
  // unfilled, every empty compulsory cell is named at its field.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Tải mẫu Excel (XLSX)' }).click(),
  ]);
  const file = await download.path();
  const bytes = readFileSync(file);
  assert.ok(bytes.length > 1000, `template of ${bytes.length} bytes`);
  assert.equal(bytes.subarray(0, 2).toString(), 'PK', 'an XLSX file is a zip');
  assert.match(download.suggestedFilename(), /\.xlsx$/);
  await page.locator('#upload-xlsx').setInputFiles(file);
  const listed = page.getByRole('alert').filter({ hasText: 'Báo cáo có 6 lỗi' });
  await listed.waitFor();
  assert.match(await listed.textContent(), /documents_sent/);
  await page.locator('#f-documents_sent-error').waitFor();
  const fill = async (values) => {
    for (const [code, value] of Object.entries(values)) await page.locator(`#f-${code}`).fill(value);
  };
  await fill({
    documents_sent: '-120',
    documents_sent_electronic: '114',
    documents_signed_digitally: '100',
    documents_to_higher_levels: '30',
    documents_to_higher_levels_electronic: '25',
    online_meetings: '4',
  });
  // The quarterly ranking of district committees needs the one-stop shop too.
  await page.locator('#f-has_electronic_one_stop_shop').selectOption('yes');
  await shoot(page, 'entry-1366x768');
  await page.getByRole('button', { name: 'Nộp báo cáo' }).click();
  await page.getByRole('alert').filter({ hasText: 'Báo cáo có 1 lỗi' }).waitFor();
  const fieldError = page.locator('#f-documents_sent-error');
  assert.match(await fieldError.textContent(), /Phải lớn hơn hoặc bằng 0/);
  assert.equal(await page.getAttribute('#f-documents_sent', 'aria-invalid'), 'true');
  assert.equal(await page.locator('.field-error').count(), 1, 'only the bad field is marked');
  await shoot(page, 'entry-error-1366x768');
  await fill({ documents_sent: '120' });
  await page.getByRole('button', { name: 'Nộp báo cáo' }).click();
  await page.locator('.facts .badge', { hasText: 'Đã nộp' }).waitFor();
  assert.equal(await page.locator('.field-error').count(), 0);
  const stored = await apiCall('GET', `/api/v1/reports/by-key/it_fast_quarterly/${quarter}/${AGENCY}`, admin);
  assert.equal(stored.body.status, 'submitted');
  assert.deepEqual(
    Object.fromEntries(stored.body.values.map((v) => [v.data_element, v.value])).documents_sent,
    '120',
  );
  await done();
});

test('the officer returns the report with a comment; the reporter sees it, revises and resubmits; the officer accepts', async () => {
  const quarter = thisQuarter();
  const officer = await open();
  await signIn(officer.page, clients.officer);
  await officer.page.getByRole('link', { name: 'Duyệt báo cáo' }).click();
  const row = officer.page.locator(`tr[data-agency="${AGENCY}"]`);
  await row.waitFor();
  assert.equal(await row.locator('.agency-name').textContent(), AGENCY_NAME);
  await row.getByLabel('Ý kiến (bắt buộc khi trả lại)').fill('Số văn bản đi điện tử cần đối chiếu lại với sổ văn bản.');
  await row.getByRole('button', { name: 'Trả lại' }).click();
  await officer.page.getByText('Đã trả lại báo cáo.').waitFor();

  const reporter = await open(PHONE);
  await signIn(reporter.page, clients.reporter);
  const mine = reporter.page.locator(`tr[data-form="it_fast_quarterly"][data-period="${quarter}"]`);
  await mine.locator('.badge', { hasText: 'Bị trả lại' }).waitFor();
  assert.match(await mine.locator('.comment').textContent(), /đối chiếu lại với sổ văn bản/);
  await shoot(reporter.page, 'reports-390x844');
  await mine.getByRole('link').click();
  await reporter.page.locator('#returned-comment').waitFor();
  await reporter.page.getByRole('button', { name: 'Sửa lại báo cáo' }).click();
  await reporter.page.locator('#f-documents_sent_electronic:not([disabled])').fill('110');
  await shoot(reporter.page, 'entry-390x844');
  await reporter.page.getByRole('button', { name: 'Nộp báo cáo' }).click();
  await reporter.page.locator('.facts .badge', { hasText: 'Đã nộp' }).waitFor();
  assert.equal((await reporter.page.locator('.facts dd').nth(3).textContent()).trim(), '2');
  const history = reporter.page.locator('table').filter({ hasText: 'Phiên bản' }).last();
  assert.equal(await history.locator('tbody tr').count(), 2);
  await reporter.done();

  await officer.page.reload();
  await officer.page.getByRole('button', { name: 'Đăng xuất' }).waitFor();
  await officer.page.getByRole('link', { name: 'Duyệt báo cáo' }).click();
  const again = officer.page.locator(`tr[data-agency="${AGENCY}"]`);
  await again.getByRole('button', { name: 'Chấp nhận' }).click();
  await officer.page.getByText('Đã chấp nhận báo cáo.').waitFor();
  const stored = await apiCall('GET', `/api/v1/reports/by-key/it_fast_quarterly/${quarter}/${AGENCY}`, admin);
  assert.equal(stored.body.status, 'accepted');
  assert.equal(stored.body.version, 2);
  await officer.done();
});

test('the officer sees completeness for the current period with the missing and late agencies', async () => {
  const { page, done } = await open();
  await signIn(page, clients.officer);
  await page.getByRole('link', { name: 'Tình hình nộp báo cáo' }).click();
  await page.locator('[data-count="expected"] dd').waitFor();
  const period = await page.locator('#c-period').inputValue();
  const api = await apiCall('GET', `/api/v1/completeness?form=it_fast_quarterly&period=${period}&area=${PROVINCE}`, admin);
  const shown = async (key) => (await page.locator(`[data-count="${key}"] dd`).textContent()).trim();
  assert.equal(await shown('expected'), String(api.body.expected));
  assert.equal(await shown('missing'), String(api.body.missing_count));
  assert.equal(await shown('late'), String(api.body.late));
  assert.equal(
    await page.locator('section[aria-labelledby="missing-title"] li').count(),
    api.body.missing.length,
  );
  await done();
});

test('the dashboard shows the plan\'s tiles and the trend chart with its table, matching the API', async () => {
  const quarter = thisQuarter();
  for (const [viewport, size] of [[DESKTOP, '1366x768'], [PHONE, '390x844']]) {
    const { page, done } = await open(viewport);
    await signIn(page, clients.officer);
    await page.locator('.tile.target').first().waitFor();
    const planCode = await page.locator('#d-plan').inputValue();
    const attainment = await apiCall('GET', `/api/v1/attainment?plan=${planCode}`, admin);
    assert.equal(await page.locator('.tile.target').count(), attainment.body.targets.length);
    const first = attainment.body.targets[0];
    const firstTile = page.locator('.tile.target').first();
    assert.equal(Number(await firstTile.locator('.actual').getAttribute('data-value')), first.actual.value);
    // The chart is drawn, and its table has the API's numbers; the report
    // accepted above is in this quarter's value.
    await page.locator('.trend .chart canvas').waitFor();
    assert.ok(await page.evaluate(() => Boolean(window.Chart)), 'Chart.js loaded');
    const year = Number(quarter.slice(0, 4));
    const trend = await apiCall('GET', `/api/v1/trends?indicator=electronic_document_rate&area=${PROVINCE}&from=${year - 1}Q1&to=${quarter}`, admin);
    const current = trend.body.find((p) => p.period === quarter);
    const cell = page.locator(`.trend-table tr[data-key="${quarter}"] td`).first();
    assert.equal(Number(await cell.getAttribute('data-value')), current.value);
    assert.ok(current.agencies_reporting >= 1);
    await page.waitForTimeout(300);
    await shoot(page, `dashboard-${size}`);
    await done();
  }
});

test('the ranking table has the API\'s ranks and scores, ties as ties, each agency\'s inputs on demand, and a CSV of it', async () => {
  const year = Number(thisQuarter().slice(0, 4)) - 1;
  for (const [viewport, size] of [[DESKTOP, '1366x768'], [PHONE, '390x844']]) {
    const { page, done } = await open(viewport);
    await signIn(page, clients.officer);
    await page.getByRole('link', { name: 'Xếp hạng' }).click();
    await page.locator('table.ranking tbody tr').first().waitFor();
    const api = await apiCall('GET', `/api/v1/rankings/district_committees?area=${PROVINCE}&period=${year}`, admin);
    assert.equal(api.status, 200, JSON.stringify(api.body));
    const rows = page.locator('table.ranking > tbody > tr[data-agency]');
    assert.equal(await rows.count(), api.body.agencies.length);
    const counts = new Map();
    for (const a of api.body.agencies) counts.set(a.rank, (counts.get(a.rank) || 0) + 1);
    for (const [i, agency] of api.body.agencies.entries()) {
      const row = rows.nth(i);
      assert.equal(await row.getAttribute('data-agency'), agency.agency);
      const rank = (await row.locator('td.rank').textContent()).trim();
      const tied = agency.rank !== null && counts.get(agency.rank) > 1;
      assert.equal(rank, agency.rank === null ? '—' : `${agency.rank}${tied ? ' =' : ''}`);
      const total = await row.locator('td.total').getAttribute('data-value');
      assert.equal(total === '' ? null : Number(total), agency.total?.value ?? null);
    }
    const first = rows.first();
    await first.getByRole('button', { name: 'Chỉ số thành phần' }).click();
    const inputs = page.locator('tr.inputs tbody tr');
    assert.equal(await inputs.count(), api.body.agencies[0].inputs.length);
    await shoot(page, `ranking-${size}`);
    if (size === '1366x768') {
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('link', { name: 'Tải CSV' }).click(),
      ]);
      const csv = readFileSync(await download.path(), 'utf8');
      assert.ok(csv.includes(api.body.agencies[0].name), csv.slice(0, 300));
    }
    await done();
  }
});

test('after the report is accepted, the ranking ranks the new district committee, its district has its bar and the quarter counts one more agency, as the API says', async () => {
  const { page, done } = await open();
  await signIn(page, clients.officer);
  const after = await newAgencyOnScreen(page);
  assert.equal(typeof after.rank, 'number');
  // 110 of 120 documents sent electronically: the accepted second version.
  assert.ok(Math.abs(after.bar - (110 / 120) * 100) < 1e-9, `bar ${after.bar}`);
  assert.equal(after.reporting, beforeReport.reporting + 1);
  await page.locator('section.bars').scrollIntoViewIfNeeded();
  await page.waitForTimeout(300);
  await shoot(page, 'dashboard-bars-1366x768');
  await done();
});

test('every dashboard view is in its URL: filters chosen, reloaded and opened anew show the same figures as the API, and the downloads are of that view', async () => {
  const quarter = thisQuarter();
  const { page, done } = await open();
  await signIn(page, clients.officer);
  await settled(page);
  const choose = async (id, value, param) => {
    await page.locator(id).selectOption(value);
    await page.waitForURL((u) => u.searchParams.get(param) === value);
    await settled(page);
  };
  await choose('#d-period', quarter, 'period');
  await choose('#d-district', '450', 'area');
  await choose('#d-group', 'commune_committee', 'group');
  await choose('#d-by', 'agencies', 'by');
  const view = new URL(page.url());
  const breakdown = await apiCall('GET', `/api/v1/aggregates/breakdown?indicator=electronic_document_rate&area=450&period=${quarter}&group=commune_committee&breakdown=agencies`, admin);
  assert.equal(breakdown.status, 200, JSON.stringify(breakdown.body));
  const expected = Object.fromEntries(breakdown.body.rows.map((r) => [r.agency, r.value]));
  assert.ok(Object.keys(expected).length > 1, 'communes of Đồng Hới');
  assert.deepEqual(await barsShown(page), expected);
  const completeness = await apiCall('GET', `/api/v1/completeness?form=it_fast_quarterly&period=${quarter}&area=450&group=commune_committee`, admin);
  const counts = async (p) => Object.fromEntries(await Promise.all(['expected', 'received', 'late', 'missing'].map(async (key) => [key,
    (await p.locator(`.completeness-table td[data-count="${key}"]`).textContent()).trim()])));
  const apiCounts = {
    expected: String(completeness.body.expected), received: String(completeness.body.received),
    late: String(completeness.body.late), missing: String(completeness.body.missing_count),
  };
  assert.deepEqual(await counts(page), apiCounts);
  // The CSV of the bars is the API's export of exactly this view.
  const csvLink = page.locator('section.bars').getByRole('link', { name: 'Tải CSV' });
  const href = new URL(await csvLink.getAttribute('href'), BASE);
  assert.equal(href.pathname, '/api/v1/exports/aggregates');
  assert.deepEqual(
    Object.fromEntries([...href.searchParams].filter(([k]) => k !== 'format')),
    { indicator: 'electronic_document_rate', area: '450', group: 'commune_committee', period: quarter, breakdown: 'agencies' },
  );
  const [download] = await Promise.all([page.waitForEvent('download'), csvLink.click()]);
  const csv = readFileSync(await download.path(), 'utf8');
  for (const row of breakdown.body.rows) assert.ok(csv.includes(row.name), `${row.name} in the CSV`);
  // Reloaded, the same view.
  await page.reload();
  await settled(page);
  assert.equal(await page.locator('#d-district').inputValue(), '450');
  assert.equal(await page.locator('#d-group').inputValue(), 'commune_committee');
  assert.deepEqual(await barsShown(page), expected);
  // Opened in another browser (signed in there), the same view.
  const other = await open();
  await signIn(other.page, clients.officer);
  await other.page.goto(view.href);
  await settled(other.page);
  assert.equal(await other.page.locator('#d-period').inputValue(), quarter);
  assert.equal(await other.page.locator('#d-by').inputValue(), 'agencies');
  assert.deepEqual(await barsShown(other.page), expected);
  assert.deepEqual(await counts(other.page), apiCounts);
  await other.done();
  // A commune of the district narrows the area to it.
  const commune = await page.locator('#d-commune option').nth(1).getAttribute('value');
  await choose('#d-commune', commune, 'area');
  assert.equal(await page.locator('#d-district').inputValue(), '450');
  await done();
});

test('a reporter sees its own results against the plan\'s targets on a phone, each the API\'s figure for it alone', async () => {
  const { page, done } = await open(PHONE);
  await signIn(page, clients.demo);
  await page.getByRole('link', { name: 'Kết quả so với chỉ tiêu' }).click();
  const rows = page.locator('table.own-results tbody tr');
  await rows.first().waitFor();
  const year = await page.locator('#o-year').inputValue();
  const planCode = await page.locator('#o-plan').inputValue();
  const plans = await apiCall('GET', `/api/v1/plans?province=${PROVINCE}`, admin);
  const agency = (await apiCall('GET', `/api/v1/agencies/${DEMO_AGENCY}`, admin)).body;
  const covers = (group) => group === 'whole_province' || group === `${agency.level}_level` || group === agency.kind;
  const targets = plans.body.find((p) => p.code === planCode).targets
    .filter((target) => String(target.year) === year && covers(target.group));
  assert.ok(targets.length > 0);
  assert.equal(await rows.count(), targets.length);
  let measured = 0;
  for (const target of targets) {
    const row = page.locator(`table.own-results tr[data-indicator="${target.indicator}"][data-group="${target.group}"]`);
    const own = await apiCall('GET', `/api/v1/aggregates?indicator=${target.indicator}&agency=${DEMO_AGENCY}&period=${year}`, admin);
    assert.equal(own.status, 200, JSON.stringify(own.body));
    const shown = await row.locator('td.actual').getAttribute('data-value');
    assert.equal(shown === '' ? null : Number(shown), own.body.value);
    if (own.body.value !== null && target.comparator === '>=') {
      measured += 1;
      const met = own.body.value >= Number(target.value);
      assert.equal((await row.locator('.badge').textContent()).trim(), met ? 'Đạt' : 'Chưa đạt');
    }
  }
  assert.ok(measured > 0, 'the demo agency has figures');
  await shoot(page, 'results-390x844');
  await done();
});

test('the officer approves and rejects registrations, reads the agency tree as of a past date, unlocks a locked report, reads the plans and the catalogue', async () => {
  const filed = [];
  for (const [code, name] of [['000.00.87.H44', 'Ban Thử nghiệm được duyệt'], ['000.00.86.H44', 'Ban Thử nghiệm bị từ chối']]) {
    const r = await apiCall('POST', '/api/v1/registrations', null, {
      agency: { code, name, kind: 'department', parent_code: `000.00.00.H${PROVINCE}` },
      contact: { name: 'Nguyễn Văn An', email: 'an.nv@quangbinh.gov.vn' },
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    filed.push(r.body);
  }
  const { page, done } = await open();
  await signIn(page, clients.officer);
  await page.getByRole('link', { name: 'Đăng ký cơ quan' }).click();
  const approveRow = page.locator(`tr[data-registration="${filed[0].id}"]`);
  await approveRow.getByRole('button', { name: 'Duyệt' }).click();
  await page.locator('#approved-credentials').waitFor();
  assert.match(await page.locator('#approved-credentials').textContent(), /000\.00\.87\.H44/);
  assert.equal((await apiCall('GET', '/api/v1/agencies/000.00.87.H44', admin)).status, 200);
  const rejectRow = page.locator(`tr[data-registration="${filed[1].id}"]`);
  await rejectRow.getByLabel('Lý do (bắt buộc khi từ chối)').fill('Mã cơ quan không đúng QCVN 102');
  await rejectRow.getByRole('button', { name: 'Từ chối' }).click();
  await page.getByText('Đã từ chối yêu cầu.').waitFor();
  const rejected = await apiCall('GET', `/api/v1/registrations/${filed[1].id}`, admin);
  assert.equal(rejected.body.status, 'rejected');
  assert.equal(rejected.body.reason, 'Mã cơ quan không đúng QCVN 102');

  // The agency tree before the test's district committee existed, then today.
  const root = `000.00.00.H${PROVINCE}`;
  await page.getByRole('link', { name: 'Cây tổ chức' }).click();
  await page.getByLabel('Tại ngày').fill('2019-06-01');
  await page.getByRole('button', { name: 'Xem', exact: true }).click();
  await page.getByText('cơ quan tại ngày 01/06/2019').waitFor();
  assert.equal(new URL(page.url()).searchParams.get('as_of'), '2019-06-01');
  const past = await apiCall('GET', `/api/v1/agencies/${root}/subtree?as_of=2019-06-01`, admin);
  assert.equal(await page.locator('table.agency-tree > tbody > tr[data-agency]').count(), past.body.length);
  assert.equal(await page.locator(`tr[data-agency="${AGENCY}"]`).count(), 0);
  await page.goto(`${BASE}/app/agencies`);
  const present = page.locator(`tr[data-agency="${AGENCY}"]`);
  await present.waitFor();
  const now = await apiCall('GET', `/api/v1/agencies/${root}/subtree`, admin);
  assert.equal(await page.locator('table.agency-tree > tbody > tr[data-agency]').count(), now.body.length);
  assert.ok(now.body.length > past.body.length);
  await present.getByRole('button', { name: 'Lịch sử phiên bản' }).click();
  await page.locator('.lineage tbody tr').first().waitFor();
  assert.equal(await page.locator('.lineage .agency-name').first().textContent(), AGENCY_NAME);

  // A locked period: the reporter cannot save until the officer unlocks it.
  const locked = `${Number(thisQuarter().slice(0, 4)) - 1}Q1`;
  const reporterToken = await token(clients.reporter.client_id, clients.reporter.client_secret);
  const draft = () => apiCall('PUT', `/api/v1/reports/it_fast_quarterly/${locked}/${AGENCY}/draft`, reporterToken,
    { values: [{ data_element: 'documents_sent', value: '10' }] });
  assert.equal((await draft()).status, 409);
  // The officer reads the locked report and follows its link to the unlock
  // page, which has the form, period and agency filled in.
  await page.goto(`${BASE}/app/reports/it_fast_quarterly/${locked}?agency=${encodeURIComponent(AGENCY)}`);
  await page.getByRole('link', { name: 'Mở khóa báo cáo này…' }).click();
  await page.getByRole('heading', { name: 'Mở khóa báo cáo' }).waitFor();
  const unlockUrl = new URL(page.url());
  assert.equal(unlockUrl.pathname, '/app/unlock');
  assert.equal(await page.locator('#u-form').inputValue(), 'it_fast_quarterly');
  assert.equal(await page.getByLabel('Kỳ báo cáo').inputValue(), locked);
  assert.equal(await page.getByLabel('Mã cơ quan').inputValue(), AGENCY);
  await page.getByRole('button', { name: 'Mở khóa', exact: true }).click();
  // No reason: the server names the field.
  await page.locator('#u-reason-error').waitFor();
  assert.equal(await page.getAttribute('#u-reason', 'aria-invalid'), 'true');
  await page.getByLabel('Lý do mở khóa').fill('Bổ sung số liệu theo yêu cầu của Sở');
  await page.getByRole('button', { name: 'Mở khóa', exact: true }).click();
  await page.locator('#unlocked').waitFor();
  assert.equal((await draft()).status, 200);

  // Plans and targets, the catalogue: what the API has.
  await page.getByRole('link', { name: 'Kế hoạch, chỉ tiêu' }).click();
  await page.locator('table.plan-targets tbody tr').first().waitFor();
  const planCode = await page.locator('#p-plan').inputValue();
  const plan = await apiCall('GET', `/api/v1/plans/${planCode}`, admin);
  assert.equal(await page.locator('table.plan-targets tbody tr').count(), plan.body.targets.length);
  await page.getByRole('link', { name: 'Danh mục, biểu mẫu' }).click();
  await page.locator('section[data-form]').first().waitFor();
  const forms = await apiCall('GET', '/api/v1/forms', admin);
  assert.equal(await page.locator('section[data-form]').count(), forms.body.length);
  await page.getByRole('link', { name: 'Chỉ số', exact: true }).click();
  await page.locator('table.catalogue-indicators tbody tr').first().waitFor();
  const indicators = await apiCall('GET', '/api/v1/indicators', admin);
  assert.equal(await page.locator('table.catalogue-indicators tbody tr').count(), indicators.body.length);
  await done();
});

test('the admin creates a data element (a bad field first, its error at the field), edits it and retires it, the page showing what the API answers; an officer sees no edit controls', async () => {
  const code = 'servers_virtualised_test';
  const { page, done } = await open();
  await signIn(page, { client_id: 'admin', client_secret: ADMIN_SECRET });
  await page.getByRole('link', { name: 'Danh mục, biểu mẫu' }).click();
  await page.getByRole('link', { name: 'Chỉ tiêu thu thập', exact: true }).click();
  await page.locator('table.catalogue-elements tbody tr').first().waitFor();
  await page.getByRole('link', { name: 'Thêm chỉ tiêu' }).click();
  await page.getByLabel('Mã', { exact: true }).fill(code);
  await page.getByLabel('Tên (tiếng Việt)').fill('Số máy chủ ảo hóa (thử nghiệm)');
  await page.getByLabel('Mô tả (đếm gì, đếm thế nào)').fill('Đếm số máy chủ ảo đang vận hành cuối kỳ.');
  await page.getByLabel('Nhóm', { exact: true }).selectOption('technical_infrastructure');
  await page.getByLabel('Kiểu giá trị').selectOption('count');
  // The bounds the wrong way round: the server names the field.
  await page.getByLabel('Giá trị nhỏ nhất').fill('10');
  await page.getByLabel('Giá trị lớn nhất').fill('5');
  await page.getByLabel('Đơn vị tính').fill('máy');
  await page.getByRole('button', { name: 'Tạo', exact: true }).click();
  await page.locator('#e-elements-min-error').waitFor();
  const refused = await apiCall('POST', '/api/v1/data-elements', admin, {
    code, name: 'x', description: 'x', category: 'technical_infrastructure', value_type: 'count', min: '10', max: '5',
  });
  assert.equal(refused.status, 422);
  assert.equal(refused.body.errors[0].field, 'min');
  assert.match(await page.locator('#e-elements-min-error').textContent(), /10/);
  assert.equal(await page.getAttribute('#e-elements-min', 'aria-invalid'), 'true');
  assert.equal(await page.locator('.field.has-error').count(), 1);
  await shoot(page, 'catalogue-edit-error-1366x768');
  assert.equal((await apiCall('GET', `/api/v1/data-elements/${code}`, admin)).status, 404);
  await page.getByLabel('Giá trị nhỏ nhất').fill('0');
  await page.getByRole('button', { name: 'Tạo', exact: true }).click();
  await page.getByText(`Đã tạo ${code}.`).waitFor();
  const created = await apiCall('GET', `/api/v1/data-elements/${code}`, admin);
  assert.equal(created.status, 200);
  assert.deepEqual([created.body.min, created.body.max, created.body.unit, created.body.period_rule], ['0', '5', 'máy', 'sum']);

  // The editor is open on it: change its English name, bound and unit.
  await page.locator('#e-elements-name_en').waitFor();
  assert.equal(new URL(page.url()).searchParams.get('edit'), code);
  await page.getByLabel('Tên tiếng Anh').fill('Virtualised servers (test)');
  await page.getByLabel('Giá trị lớn nhất').fill('500');
  await page.getByLabel('Đơn vị tính').fill('máy chủ');
  await page.getByRole('button', { name: 'Lưu', exact: true }).click();
  await page.getByText(`Đã lưu ${code}.`).waitFor();
  const edited = (await apiCall('GET', `/api/v1/data-elements/${code}`, admin)).body;
  assert.deepEqual([edited.name_en, edited.max, edited.unit], ['Virtualised servers (test)', '500', 'máy chủ']);
  const row = page.locator(`tr[data-element="${code}"]`);
  await row.waitFor();
  assert.equal(await row.locator('.def-name').textContent(), edited.name);
  assert.equal(await row.locator('.def-description').textContent(), edited.description);
  assert.equal(await row.locator('.def-unit').textContent(), edited.unit);
  assert.equal(await row.locator('.def-bounds').textContent(), `${edited.min} – ${edited.max}`);
  assert.equal(await page.locator('#e-elements-max').inputValue(), edited.max);

  // Someone else changes it meanwhile: the page refuses to write over that.
  const other = await apiCall('PUT', `/api/v1/data-elements/${code}`, admin, { ...edited, code: undefined, retired: undefined, max: '800' });
  assert.equal(other.status, 200, JSON.stringify(other.body));
  await page.getByLabel('Đơn vị tính').fill('máy ảo');
  await page.getByRole('button', { name: 'Lưu', exact: true }).click();
  await page.locator('#e-elements-conflict').waitFor();
  const kept = (await apiCall('GET', `/api/v1/data-elements/${code}`, admin)).body;
  assert.deepEqual([kept.max, kept.unit], ['800', 'máy chủ']);
  await page.getByRole('button', { name: 'Nạp bản hiện tại' }).click();
  assert.equal(await page.locator('#e-elements-max').inputValue(), '800');

  // Retired: the API says so, and the list marks it.
  await page.getByRole('button', { name: 'Ngừng sử dụng…' }).click();
  await page.getByRole('button', { name: 'Xác nhận ngừng sử dụng' }).click();
  await page.getByText(`Đã ngừng sử dụng ${code}.`).waitFor();
  assert.equal((await apiCall('GET', `/api/v1/data-elements/${code}`, admin)).body.retired, true);
  await row.locator('.badge', { hasText: 'Ngừng sử dụng' }).waitFor();

  // An indicator: an unknown element in its numerator is named at the field.
  await page.getByRole('link', { name: 'Chỉ số', exact: true }).click();
  await page.getByRole('link', { name: 'Thêm chỉ số' }).click();
  await page.getByLabel('Mã', { exact: true }).fill('server_virtualisation_test_rate');
  await page.getByLabel('Tên (tiếng Việt)').fill('Tỷ lệ máy tính có phần mềm diệt vi-rút (thử nghiệm)');
  await page.getByLabel('Tử số (biểu thức)').fill('no_such_element');
  await page.getByLabel('Mẫu số (biểu thức)').fill('computers');
  await page.getByLabel('Đơn vị tính').fill('%');
  await page.getByLabel('Nhóm', { exact: true }).selectOption('information_security');
  await page.getByRole('button', { name: 'Tạo', exact: true }).click();
  await page.locator('#e-indicators-numerator-error').waitFor();
  assert.match(await page.locator('#e-indicators-numerator-error').textContent(), /no_such_element/);
  await page.getByLabel('Tử số (biểu thức)').fill('computers_with_antivirus');
  await page.getByRole('button', { name: 'Tạo', exact: true }).click();
  await page.getByText('Đã tạo server_virtualisation_test_rate.').waitFor();
  const indicator = (await apiCall('GET', '/api/v1/indicators/server_virtualisation_test_rate', admin)).body;
  assert.deepEqual([indicator.numerator, indicator.denominator, indicator.factor, indicator.higher_is_better],
    ['computers_with_antivirus', 'computers', 100, true]);
  const indicatorRow = page.locator('tr[data-indicator="server_virtualisation_test_rate"]');
  await indicatorRow.waitFor();
  assert.equal(await indicatorRow.locator('.numerator').textContent(), indicator.numerator);
  assert.equal(await indicatorRow.locator('.denominator').textContent(), indicator.denominator);
  await done();

  // An officer reads the catalogue, with no control to change it.
  const officer = await open();
  await signIn(officer.page, clients.officer);
  for (const tab of ['elements', 'indicators', 'rules']) {
    await officer.page.goto(`${BASE}/app/catalogue?tab=${tab}&edit=new`);
    await officer.page.locator('table tbody tr').first().waitFor();
    assert.equal(await officer.page.locator('a.edit').count(), 0, tab);
    assert.equal(await officer.page.locator('form.definition').count(), 0, tab);
    assert.equal(await officer.page.getByRole('link', { name: /^Thêm / }).count(), 0, tab);
  }
  const rules = await apiCall('GET', '/api/v1/validation-rules', admin);
  assert.equal(await officer.page.locator('table.catalogue-rules tbody tr').count(), rules.body.length);
  await officer.done();
});

test('the admin picks another seed province\'s plan on the dashboard: its tiles and bars have real numbers, the API\'s', async () => {
  const { page, done } = await open();
  await signIn(page, { client_id: 'admin', client_secret: ADMIN_SECRET });
  await page.locator('.tile.target').first().waitFor();
  const offered = await page.locator('#d-plan option').evaluateAll((options) => options.map((o) => o.value));
  const plans = await apiCall('GET', '/api/v1/plans', admin);
  assert.deepEqual([...offered].sort(), plans.body.map((p) => p.code).sort());
  await page.locator('#d-plan').selectOption('quang_ngai_2018');
  await page.waitForURL((url) => url.searchParams.get('plan') === 'quang_ngai_2018');
  await page.getByRole('heading', { name: 'Kế hoạch 399/KH-UBND' }).waitFor();
  await page.locator('.tile.target').first().waitFor();
  const attainment = await apiCall('GET', '/api/v1/attainment?plan=quang_ngai_2018', admin);
  const tiles = page.locator('.tile.target');
  assert.equal(await tiles.count(), attainment.body.targets.length);
  let withFigures = 0;
  for (const [i, item] of attainment.body.targets.entries()) {
    const shown = await tiles.nth(i).locator('.actual').getAttribute('data-value');
    assert.equal(shown === '' ? null : Number(shown), item.actual.value, item.target.indicator);
    if (item.actual.value !== null) withFigures += 1;
  }
  assert.ok(withFigures > 0, 'the demo reports give Quảng Ngãi\'s targets figures');
  // The bars are of Quảng Ngãi's districts, for last year.
  const period = String(Number(thisQuarter().slice(0, 4)) - 1);
  await page.locator('#d-period').selectOption(period);
  const breakdown = await apiCall('GET', `/api/v1/aggregates/breakdown?indicator=electronic_document_rate&area=51&period=${period}&breakdown=child_areas`, admin);
  const total = page.locator(`section.bars[data-view*="period=${period}"] .total`);
  await total.waitFor();
  assert.equal(new URL(page.url()).searchParams.get('plan'), 'quang_ngai_2018');
  assert.equal(Number(await total.getAttribute('data-value')), breakdown.body.total.value);
  assert.ok(breakdown.body.total.value !== null);
  assert.equal(await page.locator('.bars-table tbody tr').count(), breakdown.body.rows.length);
  const districts = await page.locator('#d-district option').evaluateAll((options) => options.map((o) => o.value).filter(Boolean));
  const committees = await apiCall('GET', '/api/v1/agencies?province=51&kind=district_committee&page_size=100', admin);
  assert.deepEqual(districts.sort(), committees.body.map((a) => a.admin_unit_code).filter(Boolean).sort());
  await shoot(page, 'dashboard-quang-ngai-1366x768');
  await done();
});

test('sign-out clears the session: the app shows the sign-in page and the cookie no longer works', async () => {
  const { page, context, done } = await open();
  await signIn(page, clients.reporter);
  const before = (await context.cookies()).find((c) => c.name === 'chiso_token');
  assert.ok(before);
  await page.getByRole('button', { name: 'Đăng xuất' }).click();
  await page.getByRole('heading', { name: 'Đăng nhập vào chiso' }).waitFor();
  assert.equal((await context.cookies()).find((c) => c.name === 'chiso_token'), undefined);
  const reused = await fetch(`${BASE}/api/v1/session`, { headers: { Cookie: `chiso_token=${before.value}` } });
  assert.equal(reused.status, 401);
  await done();
});
