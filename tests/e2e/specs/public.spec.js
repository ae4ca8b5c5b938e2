// The public pages anyone reaches without a link or an account.
const { test, expect, submit } = require('../lib/fixtures');

test('the public pages: landing, help, privacy, accessibility, not found', async ({ page, open, audit, lang }) => {
  await open(page, '/');
  await expect(page.locator('html')).toHaveAttribute('lang', lang);
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  await expect(page.locator('a[href="/orders/new"]').first()).toBeVisible();
  await audit(page, 'public/landing');

  for (const path of ['/help', '/privacy', '/accessibility']) {
    await open(page, path);
    await expect(page.locator('html')).toHaveAttribute('lang', lang);
    await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
    await audit(page, `public${path}`);
  }

  const missing = await open(page, '/no-such-page');
  expect(missing.status()).toBe(404);
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  await audit(page, 'public/not-found');

  const deadLink = await open(page, `/track/${'0'.repeat(64)}`);
  expect(deadLink.status()).toBeGreaterThanOrEqual(400);
  await expect(page.locator('main a[href="/track"]').first()).toBeVisible();
  await audit(page, 'public/dead-private-link');
});

test('asking for the private links again: an address is required, then the same answer for anyone', async ({ page, open, audit }) => {
  await open(page, '/track');
  await audit(page, 'resend/form');

  const form = page.locator('form[action="/track"]');
  await submit(page, form.locator('button[type="submit"]'));
  await expect(page.locator('#error-summary')).toBeFocused();
  await expect(page.locator('#contact_email')).toHaveAttribute('aria-invalid', 'true');
  await audit(page, 'resend/error');

  await page.locator('#contact_email').fill('nobody@example.no');
  await submit(page, form.locator('button[type="submit"]'));
  await expect(page).toHaveURL(/\/track\?sent=1/);
  await expect(page.locator('#sent')).toBeVisible();
  await audit(page, 'resend/sent');
});
