// The web UI in Chromium against `vulnbridge demo` (see global-setup.js): login, the dashboard,
// the findings list's htmx filtering and sorting, the Integrator Tickets column, a finding's
// page and Push to Integrators, roles, and logout.
const path = require('node:path');
const { test, expect } = require('@playwright/test');

async function login(page, user, password) {
  await page.goto('/');
  await expect(page).toHaveURL(/\/login$/);
  await page.getByLabel('Username').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

test('a wrong password is refused without saying which part was wrong', async ({ page }) => {
  await login(page, 'admin', 'not the password');
  await expect(page.getByRole('alert')).toHaveText('Wrong username or password.');
});

test('the demo opens on a dashboard', async ({ page }) => {
  await login(page, 'admin', process.env.VULNBRIDGE_E2E_ADMIN);
  await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
  await expect(page.locator('.tile.sev-critical .n')).not.toHaveText('0');
  await expect(page.getByRole('heading', { name: 'Open findings by product' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Push queue' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Recent imports' })).toBeVisible();
});

test('filters and sorting swap the table in place and keep the URL', async ({ page }) => {
  await login(page, 'admin', process.env.VULNBRIDGE_E2E_ADMIN);
  await page.getByRole('link', { name: 'Findings', exact: true }).click();
  const results = page.locator('#results');
  await expect(results.locator('tbody tr').first()).toBeVisible();
  // htmx loaded from our own server (no CDN) and running.
  expect(await page.evaluate(() => typeof window.htmx)).toBe('object');

  await page.getByLabel('Critical').check();
  await expect(page).toHaveURL(/severity=critical/);
  const badges = results.locator('tbody td.c-severity .sev');
  await expect(badges.first()).toHaveText('Critical');
  for (const text of await badges.allInnerTexts()) expect(text).toBe('Critical');

  await page.getByLabel('Critical').uncheck();
  await results.getByRole('link', { name: /^Title/ }).click();
  await expect(page).toHaveURL(/ordering=title/);
  await expect(results.getByRole('link', { name: /^Title ▲/ })).toBeVisible();
  // The demo runs on SQLite, which sorts text by its bytes (as JavaScript's default sort).
  const titles = await results.locator('tbody td.c-title').allInnerTexts();
  expect(titles).toEqual([...titles].sort());
});

test('the Integrator Tickets column shows icon, key, link and changelog', async ({ page }) => {
  await login(page, 'admin', process.env.VULNBRIDGE_E2E_ADMIN);
  await page.goto('/findings');
  const ticket = page.locator('#results .ticket').first();
  await expect(ticket.locator('svg[role="img"]')).toBeVisible();
  const link = ticket.locator('a.ticket-key');
  await expect(link).toHaveAttribute('target', '_blank');
  await expect(link).toHaveAttribute('href', /^http/);
  await expect(ticket).toHaveAttribute('title', /linked .* last changed/);
  await ticket.locator('summary').click();
  await expect(ticket.locator('details div')).toContainText('Last changed');
});

test("a finding's page pushes to the integrators", async ({ page }) => {
  await login(page, 'admin', process.env.VULNBRIDGE_E2E_ADMIN);
  await page.goto('/findings');
  await page.locator('#results tbody td.c-title a').first().click();
  await expect(page.getByRole('heading', { name: 'Integrator Tickets' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'History' })).toBeVisible();
  await page.getByRole('button', { name: 'Push to Integrators' }).click();
  await expect(page.getByRole('status')).toContainText(/Queued \d+ push|Nothing was queued/);
});

test('a product reader sees only their product and cannot push', async ({ page }) => {
  await login(page, 'alice', process.env.VULNBRIDGE_E2E_READER);
  await page.goto('/findings');
  const products = await page.locator('#results tbody td.c-product').allInnerTexts();
  expect(products.length).toBeGreaterThan(0);
  for (const p of products) expect(p).toBe('Storefront');
  await expect(page.getByRole('link', { name: 'Integrations' })).toHaveCount(0);
  await page.locator('#results tbody td.c-title a').first().click();
  await expect(page.getByRole('button', { name: 'Push to Integrators' })).toHaveCount(0);
});

test('a report is imported with its scan type, and errors stay on the form', async ({ page }) => {
  await login(page, 'admin', process.env.VULNBRIDGE_E2E_ADMIN);
  await page.getByRole('link', { name: 'Import', exact: true }).click();
  await page.locator('select[name=product_name]').selectOption('Internal Tools');
  await page.locator('input[name=engagement_name]').fill('Browser test');
  await page.locator('select[name=scan_type]').selectOption('Semgrep JSON Report');
  const report = path.join(__dirname, '..', '..', 'fixtures', 'scans', 'semgrep', 'high-medium-low-severities.json');
  await page.locator('input[name=file]').setInputFiles(report);
  await page.getByRole('button', { name: 'Import' }).click();
  await expect(page.getByRole('heading', { name: 'Import done' })).toBeVisible();
  await expect(page.locator('table.summary')).toContainText('created');
  // Swapped in by htmx: the page was not left.
  await expect(page).toHaveURL(/\/import$/);

  await page.getByRole('link', { name: 'Import another report' }).click();
  await page.locator('select[name=scan_type]').selectOption('Tenable Scan');
  await page.locator('input[name=file]').setInputFiles({ name: 'not-a-report.csv', mimeType: 'text/csv', buffer: Buffer.from('this is not a scan') });
  await page.getByRole('button', { name: 'Import' }).click();
  await expect(page.getByRole('alert')).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Import a report' })).toBeVisible();
});

test('selected findings change status together', async ({ page }) => {
  await login(page, 'admin', process.env.VULNBRIDGE_E2E_ADMIN);
  await page.goto('/findings?severity=info&ordering=id');
  const rows = page.locator('#results tbody tr');
  await expect(rows.first()).toBeVisible();
  const first = rows.nth(0);
  const second = rows.nth(1);
  const ids = [await first.locator('td').nth(1).innerText(), await second.locator('td').nth(1).innerText()];
  await first.locator('input[name=finding]').check();
  await second.locator('input[name=finding]').check();
  await page.locator('#bulk select[name=status]').selectOption('risk_accepted');
  await page.getByRole('button', { name: 'Set status' }).click();
  await expect(page).toHaveURL(/\/findings\?severity=info&ordering=id$/);
  for (const id of ids) {
    const row = page.locator('#results tbody tr', { has: page.locator(`a[href="/findings/${id}"]`) });
    await expect(row.locator('td.c-status')).toHaveText('Risk Accepted');
  }
});

test('logout ends the session', async ({ page }) => {
  await login(page, 'admin', process.env.VULNBRIDGE_E2E_ADMIN);
  await page.locator('.user-menu summary').click();
  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto('/findings');
  await expect(page).toHaveURL(/\/login\?next=%2Ffindings$/);
});
