// The two-way sync and the error table in Chromium, against the demo's GitHub simulator
// (its control API stands in for a developer and for GitHub failing).
const { test, expect } = require('@playwright/test');

const github = () => process.env.VULNBRIDGE_E2E_GITHUB;

async function login(page) {
  await page.goto('/');
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill(process.env.VULNBRIDGE_E2E_ADMIN);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
}

test('an issue closed in GitHub closes its finding', async ({ page, request }) => {
  await login(page);
  await page.goto('/findings?status=active');
  // An active finding whose GitHub issue is open: its ticket links to acme/storefront#N.
  const row = page.locator('#results tbody tr').filter({ has: page.locator('a.ticket-key', { hasText: /^acme\/storefront#\d+$/ }) }).first();
  await expect(row).toBeVisible();
  const key = await row.locator('a.ticket-key', { hasText: /^acme\/storefront#\d+$/ }).first().textContent();
  const number = key.split('#')[1];
  const href = await row.locator('td.c-title a').getAttribute('href');
  await expect(row.locator('.ticket svg[role="img"]').first()).toBeVisible();
  await page.goto(href);
  await expect(page.locator('dt:text-is("Status") + dd')).toHaveText('Active');

  // dev-alice closes it in GitHub; GitHub's webhook comes back to vulnbridge.
  const closed = await request.post(`${github()}/_sim/repos/acme/storefront/issues/${number}/close`, { data: { as: 'dev-alice', state_reason: 'completed' } });
  expect(closed.status()).toBe(204);
  await expect(async () => {
    await page.goto(href);
    await expect(page.locator('dt:text-is("Status") + dd')).toHaveText('Closed');
  }).toPass({ timeout: 20_000 });
});

test('a failed push shows in the error table and is retried from it', async ({ page, request }) => {
  await login(page);
  // GitHub refuses the next issue created in acme/storefront.
  const fault = await request.post(`${github()}/_sim/faults`, {
    data: { method: 'POST', path_contains: '/repos/acme/storefront/issues', status: 422, body: { message: 'Validation Failed' }, times: 1 },
  });
  expect(fault.status()).toBe(204);
  // A Storefront finding without a GitHub issue yet (low severity: below the automatic filter).
  await page.goto('/findings?severity=low&status=active');
  await page.getByLabel('Product').selectOption({ label: 'Storefront' });
  await expect(page).toHaveURL(/product=\d+/);
  const row = page.locator('#results tbody tr').filter({ hasText: 'Storefront' }).filter({ hasNot: page.locator('a.ticket-key', { hasText: /^acme\/storefront#/ }) }).first();
  await expect(row).toBeVisible();
  const href = await row.locator('td.c-title a').getAttribute('href');
  await page.goto(href);
  await page.getByRole('button', { name: 'Push to Integrators' }).click();
  await expect(page.getByRole('status')).toContainText(/Queued \d+ push/);

  // The failure lands in the storefront mapping's error table.
  await expect(async () => {
    await page.goto('/settings/integrations');
    const storefront = page.locator('tr').filter({ hasText: 'storefront' }).filter({ hasText: 'GitHub' }).first();
    await expect(storefront.locator('a.bad')).toBeVisible();
  }).toPass({ timeout: 20_000 });
  await page.locator('tr').filter({ hasText: 'storefront' }).filter({ hasText: 'GitHub' }).first().locator('a.bad').click();
  const error = page.locator('table.errors tbody tr').first();
  await expect(error).toContainText('Validation Failed');
  await error.getByRole('button', { name: 'Retry' }).click();
  await expect(page.getByRole('status')).toContainText('Queued 1 push again');

  // Retried (GitHub accepts it now): the finding has its GitHub issue.
  await expect(async () => {
    await page.goto(href);
    await expect(page.locator('a.ticket-key', { hasText: /^acme\/storefront#\d+$/ })).toBeVisible();
  }).toPass({ timeout: 20_000 });
});
