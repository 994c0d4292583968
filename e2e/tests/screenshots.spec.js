// Screenshots of the main pages for the README (docs/screenshots/), taken from the demo in
// Chromium. Run on demand, not in CI: VULNBRIDGE_SCREENSHOTS=1 bash e2e/run.sh screenshots
const path = require('node:path');
const { test, expect } = require('@playwright/test');

const out = path.join(__dirname, '..', '..', 'docs', 'screenshots');

test.skip(!process.env.VULNBRIDGE_SCREENSHOTS, 'screenshots are taken on demand (VULNBRIDGE_SCREENSHOTS=1)');
test.use({ viewport: { width: 1680, height: 900 } });

test('screenshots of the main pages', async ({ page }) => {
  await page.goto('/');
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill(process.env.VULNBRIDGE_E2E_ADMIN);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
  await page.screenshot({ path: path.join(out, 'dashboard.png') });

  await page.goto('/findings?open=true');
  await expect(page.locator('#results tbody tr').first()).toBeVisible();
  await page.screenshot({ path: path.join(out, 'findings.png') });

  // A finding with a ticket: its page shows the ticket and its changelog.
  await page.locator('#results tbody tr').filter({ has: page.locator('td.tickets a') }).first().locator('td.c-title a').click();
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  await page.screenshot({ path: path.join(out, 'finding.png'), fullPage: true });

  for (const [name, url] of [
    ['integrations', '/settings/integrations'],
    ['connectors', '/connectors'],
    ['products', '/products'],
    ['import', '/import'],
  ]) {
    await page.goto(url);
    await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
    await page.screenshot({ path: path.join(out, `${name}.png`) });
  }

  // Adding a mapping: GitHub's defaults pre-filled, each field explained.
  await page.goto('/settings/integrations');
  await page.getByRole('link', { name: 'GitHub (acme)' }).first().click();
  await page.getByRole('link', { name: 'Add mapping' }).click();
  await expect(page.getByLabel('High mapping')).toHaveValue('P3');
  await page.screenshot({ path: path.join(out, 'mapping-form.png'), fullPage: true });

  // A connector: its records (mapped or waiting), operations, Discover and Sync.
  await page.goto('/connectors');
  await page.locator('main table a[href^="/connectors/"]').first().click();
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  await page.screenshot({ path: path.join(out, 'connector.png'), fullPage: true });
});
