// Configuring a GitHub integration entirely in the browser, against the demo's GitHub simulator:
// an instance (with its help texts and a connection check), a mapping with the vendor defaults
// pre-filled, an assignment of the product, then a push that shows the ticket icon and link, and
// the issue closed in GitHub closing the finding through the webhook the mapping registered.
// The demo leaves acme/internal-tools unmapped and the Internal Tools product unassigned for it.
const { test, expect } = require('@playwright/test');

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (global-setup reads it from the demo's output)`);
  return v;
};

async function login(page) {
  await page.goto('/');
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill(env('VULNBRIDGE_E2E_ADMIN'));
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
}

test('a GitHub integration configured in the UI pushes a finding to GitHub, and hears back', async ({ page, request }) => {
  const repo = env('VULNBRIDGE_E2E_GITHUB_REPO');
  const location = env('VULNBRIDGE_E2E_GITHUB_LOCATION');
  const token = env('VULNBRIDGE_E2E_GITHUB_TOKEN');
  await login(page);

  // The instance: GitHub chosen from the trackers, its fields explained as the docs explain them.
  await page.goto('/settings/integrations');
  await page.getByRole('link', { name: 'Add instance' }).click();
  await page.getByRole('navigation', { name: 'Tracker' }).getByRole('link', { name: 'GitHub' }).click();
  await expect(page.getByText('repo and project scopes')).toBeVisible();
  await page.getByLabel('Label', { exact: true }).fill('GitHub (configured in the UI)');
  await page.getByLabel('Location').fill(location);
  await page.getByLabel('Token').fill(token);
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('heading', { name: 'GitHub (configured in the UI)' })).toBeVisible();
  await expect(page.getByText('Instance added.')).toBeVisible();
  await expect(page.locator('code.secret')).toHaveText(/\S{16,}/);
  // The token is never shown back.
  expect(await page.content()).not.toContain(token);

  await page.getByRole('button', { name: 'Check connection' }).click();
  await expect(page.locator('.check-report h2')).toHaveText('Connection OK');
  await expect(page.locator('.check-report li.passed').first()).toBeVisible();
  await expect(page.locator('.check-report li.failed')).toHaveCount(0);

  // The mapping: GitHub's defaults are pre-filled and editable.
  await page.getByRole('link', { name: 'Add mapping' }).click();
  await expect(page.getByLabel('Critical mapping')).toHaveValue('P4');
  await expect(page.getByLabel('High mapping')).toHaveValue('P3');
  await expect(page.getByLabel('Active mapping')).toHaveValue('In Progress');
  await expect(page.getByLabel('Title template')).toHaveValue('[VULNBRIDGE] {{ id }} - {{ title }}');
  await page.getByLabel('Issue Tracker Mapping label').fill(repo);
  await page.getByLabel('Repository name').fill(repo);
  await page.getByLabel('Labels').fill('security, from-ui');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('status').first()).toContainText(/registered/);

  // The assignment: Internal Tools pushes through it when someone presses Push.
  await page.goto('/settings/integrations/assignments/new');
  await page.getByLabel('Mapping').selectOption({ label: `GitHub (configured in the UI) › ${repo}` });
  await page.getByLabel('Product', { exact: true }).selectOption({ label: 'Internal Tools' });
  await page.getByLabel('Push mode').selectOption({ label: 'Explicitly Publish Changes' });
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page).toHaveURL(/\/settings\/integrations/);
  await expect(page.locator('tr').filter({ hasText: 'Internal Tools' }).filter({ hasText: repo }).first()).toBeVisible();

  // Push an Internal Tools finding: its GitHub issue appears with the icon and a link to it.
  await page.goto('/findings?status=active');
  await page.getByLabel('Product').selectOption({ label: 'Internal Tools' });
  await expect(page).toHaveURL(/product=\d+/);
  const list = page.url();
  const href = await page.locator('#results tbody tr td.c-title a').first().getAttribute('href');
  await page.goto(href);
  await page.getByRole('button', { name: 'Push to Integrators' }).click();
  await expect(page.getByRole('status')).toContainText(/Queued \d+ push/);
  const key = new RegExp(`^acme/${repo}#\\d+$`);
  await expect(async () => {
    await page.goto(href);
    await expect(page.locator('a.ticket-key', { hasText: key })).toBeVisible();
  }).toPass({ timeout: 20_000 });
  const link = page.locator('a.ticket-key', { hasText: key });
  expect(await link.getAttribute('href')).toMatch(new RegExp(`/acme/${repo}/issues/\\d+$`));
  await expect(page.locator('.ticket-block svg[role="img"]').first()).toBeVisible();
  // And in the findings list's Integrator Tickets column: the GitHub icon beside the key.
  await page.goto(list);
  const row = page.locator('#results tbody tr').filter({ has: page.locator('a.ticket-key', { hasText: key }) });
  await expect(row).toHaveCount(1);
  await expect(row.locator('.ticket svg[role="img"]').first()).toBeVisible();

  // The webhook the mapping registered works: a developer closes the issue, the finding closes.
  const number = (await row.locator('a.ticket-key', { hasText: key }).textContent()).split('#')[1];
  const closed = await request.post(`${env('VULNBRIDGE_E2E_GITHUB')}/_sim/repos/acme/${repo}/issues/${number}/close`, {
    data: { as: 'dev-alice', state_reason: 'completed' },
  });
  expect(closed.status()).toBe(204);
  await expect(async () => {
    await page.goto(href);
    await expect(page.locator('dt:text-is("Status") + dd')).toHaveText('Closed');
  }).toPass({ timeout: 20_000 });
});
