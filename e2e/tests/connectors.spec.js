// The Connectors pages in Chromium, against the demo's nine connectors and their scanner
// simulators (see global-setup.js): the configured connectors and the tools available; a
// Record the demo left unmapped mapped to a product from the connector's page, a Sync that
// imports its findings there, another Record ignored; and a product reader kept out.
// Other spec files run before this one on the same demo server: nothing here counts on more
// than what the demo set up (a Record of Semgrep and of SonarQube left unmapped), and what it
// counts is measured before it acts.
const { test, expect } = require('@playwright/test');

async function login(page, user, password) {
  await page.goto('/');
  await page.getByLabel('Username').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
}

const admin = (page) => login(page, 'admin', process.env.VULNBRIDGE_E2E_ADMIN);

/// Opens a configured connector's page from /connectors; returns its path.
async function openConnector(page, label) {
  await page.goto('/connectors');
  const configured = page.locator('section').filter({ has: page.getByRole('heading', { name: 'Configured' }) });
  await configured.getByRole('link', { name: label, exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: label })).toBeVisible();
  return new URL(page.url()).pathname;
}

/// How many findings /findings lists for a scan type and product (chosen by its name).
async function findingsOf(page, scanType, product) {
  await page.goto(`/findings?scan_type=${encodeURIComponent(scanType)}`);
  await page.getByLabel('Product').selectOption({ label: product });
  await expect(page).toHaveURL(/product=\d+/);
  const count = page.locator('#results p.count');
  await expect(count).toHaveText(/No findings match|of \d+ findings/);
  const m = (await count.textContent()).match(/of (\d+) findings/);
  return m ? Number(m[1]) : 0;
}

test('the configured connectors and the tools available', async ({ page }) => {
  await admin(page);
  await page.getByRole('link', { name: 'Connectors', exact: true }).click();
  await expect(page).toHaveURL(/\/connectors$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Connectors' })).toBeVisible();
  const configured = page.locator('section').filter({ has: page.getByRole('heading', { name: 'Configured' }) });
  // The demo's nine, one per tool, each with its schedule.
  for (const label of ['AWS Security Hub', 'BurpSuite', 'Checkmarx ONE', 'Dependency-Track', 'Probely', 'Semgrep', 'SonarQube', 'Snyk', 'Tenable']) {
    const row = configured.locator('tbody tr').filter({ has: page.getByRole('link', { name: label, exact: true }) });
    await expect(row).toHaveCount(1);
    await expect(row).toContainText(/Discover every \d+ min, Sync every \d+ min/);
    await expect(row.locator('td').nth(2)).toHaveText(/^http:\/\/127\.0\.0\.1:\d+/);
  }
  const available = page.locator('#available');
  await expect(available.locator('tbody tr')).toHaveCount(9);
  await expect(available.getByRole('link', { name: 'Add a Semgrep connector' })).toHaveAttribute('href', '/connectors/new?tool=semgrep');
  await expect(available.locator('tr').filter({ hasText: 'Semgrep' })).toContainText('Semgrep (connector)');
});

test('an unmapped record is mapped from the page, and a Sync imports its findings into the product', async ({ page }) => {
  test.setTimeout(90_000);
  await admin(page);
  const scanType = 'Semgrep (connector)';
  const product = 'Internal Tools';
  const before = await findingsOf(page, scanType, product);

  const path = await openConnector(page, 'Semgrep');
  await expect(page.getByRole('button', { name: 'Discover', exact: true })).toBeVisible();
  await expect(page.getByRole('heading', { name: /^Records \(\d+\)$/ })).toBeVisible();

  // Only the records not mapped yet: each says so, with the state badge "new".
  await page.getByLabel('Mapped', { exact: true }).selectOption({ label: 'not mapped' });
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/mapped=false/);
  const rows = page.locator('table.records tbody tr');
  await expect(rows.first()).toBeVisible();
  for (const text of await rows.locator('td:nth-child(4)').allInnerTexts()) expect(text).toBe('not mapped');
  const row = rows.first();
  const name = (await row.locator('td').first().innerText()).trim();
  const rowId = await row.getAttribute('id');
  await expect(row.locator('.record-state')).toHaveText('new');

  // Mapped to Internal Tools: back on the filtered list (where it no longer is), with a notice.
  await row.getByLabel(`Product for ${name}`).selectOption({ label: product });
  await row.getByRole('button', { name: 'Map', exact: true }).click();
  await expect(page.getByRole('status')).toContainText('Record mapped');
  await expect(page).toHaveURL(/mapped=false/);
  await expect(page.locator(`#${rowId}`)).toHaveCount(0);
  await page.getByRole('link', { name: 'Show all' }).click();
  const mapped = page.locator(`#${rowId}`);
  await expect(mapped.locator('.record-state')).toHaveText('good');
  await expect(mapped.getByRole('link', { name: product })).toBeVisible();
  await expect(mapped.getByRole('button', { name: 'Remap' })).toBeVisible();
  await expect(mapped).toContainText('admin');

  // Sync: queued, then run by the server's worker; the operations table shows it finished.
  const operations = page.locator('table.operations tbody tr');
  const newest = await operations.first().innerText();
  await page.getByRole('button', { name: 'Sync', exact: true }).click();
  await expect(page.getByRole('status')).toContainText('sync queued');
  let created = 0;
  await expect(async () => {
    await page.goto(path);
    const first = page.locator('table.operations tbody tr').first();
    expect(await first.innerText()).not.toBe(newest);
    await expect(first.locator('td').nth(0)).toHaveText('sync');
    await expect(first.locator('td').nth(2)).toHaveText('manual');
    await expect(first.locator('td').nth(1)).toHaveText('succeeded');
    const counts = await first.locator('td').nth(5).innerText();
    const m = counts.match(/(?:^|, )created (\d+)/);
    expect(m, `counts: ${counts}`).not.toBeNull();
    created = Number(m[1]);
    expect(created).toBeGreaterThan(0);
    await expect(first.locator('td').nth(6)).toHaveText('');
  }).toPass({ timeout: 30_000 });

  // Those findings are in Internal Tools now.
  expect(await findingsOf(page, scanType, product)).toBe(before + created);
  const products = await page.locator('#results tbody td.c-product').allInnerTexts();
  expect(products.length).toBeGreaterThan(0);
  for (const p of products) expect(p).toBe(product);
});

test('another record is ignored, shown with its badge, and restored', async ({ page }) => {
  await admin(page);
  await openConnector(page, 'SonarQube');
  await page.getByLabel('State', { exact: true }).selectOption('new');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/state=new/);
  const row = page.locator('table.records tbody tr').first();
  await expect(row.locator('.record-state')).toHaveText('new');
  const rowId = await row.getAttribute('id');
  await row.getByRole('button', { name: 'Ignore' }).click();
  await expect(page.getByRole('status')).toContainText('Record ignored');
  await expect(page.locator(`#${rowId}`)).toHaveCount(0);

  await page.getByLabel('State', { exact: true }).selectOption('ignored');
  await page.getByRole('button', { name: 'Filter' }).click();
  const ignored = page.locator(`#${rowId}`);
  const badge = ignored.locator('.record-state');
  await expect(badge).toHaveText('ignored');
  await expect(badge).toHaveClass(/state-ignored/);
  await expect(badge).toHaveAttribute('title', /Not synced by choice/);
  await expect(ignored.getByRole('button', { name: 'Ignore' })).toHaveCount(0);

  // Restored, it is new again (it has no product).
  await ignored.getByRole('button', { name: 'Restore' }).click();
  await expect(page.getByRole('status')).toContainText('Record restored');
  await page.getByRole('link', { name: 'Show all' }).click();
  await expect(page.locator(`#${rowId} .record-state`)).toHaveText('new');
});

test('a product reader sees no connectors and no buttons', async ({ page }) => {
  // The administrator finds the Semgrep connector's address first.
  await admin(page);
  const path = await openConnector(page, 'Semgrep');
  await page.locator('.user-menu summary').click();
  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page).toHaveURL(/\/login$/);

  await login(page, 'alice', process.env.VULNBRIDGE_E2E_READER);
  await expect(page.getByRole('link', { name: 'Connectors', exact: true })).toHaveCount(0);
  for (const url of ['/connectors', path]) {
    const response = await page.goto(url);
    expect(response.status()).toBe(403);
    for (const name of ['Discover', 'Sync', 'Check connection', 'Map', 'Ignore', 'Delete connector']) {
      await expect(page.getByRole('button', { name, exact: true })).toHaveCount(0);
    }
    await expect(page.getByRole('link', { name: /^Add a / })).toHaveCount(0);
  }
  // Nor does a form sent by hand change anything.
  const csrf = await page.evaluate(() => document.querySelector('input[name=csrf]')?.value || '');
  const refused = await page.request.post(`${path}/sync`, { form: { csrf }, maxRedirects: 0 });
  expect(refused.status()).toBe(403);
});
