// Pages added after the first journeys: the case handlers' TT02 loading in batches, the
// process statistics, the vendor's certificate and grant checks on its private page, and the
// API page for system vendors.
const crypto = require('node:crypto');
const { test, expect, submit } = require('../lib/fixtures');
const { apiOrder, uid, VENDOR } = require('../lib/data');
const { privateLink } = require('../lib/mail');
const { logIn, status, orderThroughApi } = require('../lib/pages');

test('TT02 loading in a batch: tick orders on the queue, confirm, and read the result', async ({ page, open, audit, request, lang }) => {
  // The orders share a vendor contact address, so the queue's search finds these and no
  // other test's (ticking only these leaves every other test's orders where they are).
  const contact = `batch-${uid()}@leverandor.example.no`;
  const orders = [0, 1, 2].map(() => apiOrder({ language: lang, vendor_contact_email: contact }));
  const references = [];
  for (const order of orders) references.push(await orderThroughApi(request, order));

  /** The organisations to load: the vendor and each order's customer, once each. */
  async function expectOrganisations() {
    const numbers = [VENDOR.number, ...orders.map((o) => o.consumer_org_number)];
    await expect(page.locator('#organisations tbody tr')).toHaveCount(numbers.length);
    for (const number of numbers) await expect(page.locator(`#organisations tr[data-org="${number}"]`)).toHaveCount(1);
  }

  await logIn(page, open, process.env.E2E_CASE_HANDLER);
  await open(page, `/admin/orders?status=received&environment=test&q=${encodeURIComponent(contact)}`);
  await expect(page.locator('table.queue tbody tr')).toHaveCount(3);
  await expect(page.locator('#batch-heading')).toBeVisible();
  await audit(page, 'admin/queue-batch');

  // Two ticked by clicking their labelled checkboxes, the third with the keyboard alone.
  const [first, second, third] = references;
  await page.locator(`#select-${first}`).check();
  await page.locator(`#select-${second}`).check();
  await page.locator(`#select-${third}`).focus();
  await page.keyboard.press('Space');
  for (const reference of references) {
    await expect(page.locator(`#select-${reference}`)).toBeChecked();
    // Each checkbox is named by the order's reference.
    await expect(page.getByRole('checkbox', { name: new RegExp(reference) })).toHaveCount(1);
  }
  await submit(page, page.locator('#batch-form button[type="submit"]'));

  await expect(page).toHaveURL(/\/admin\/tt02-loading\?/);
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  await expect(page.locator('#error-summary')).toHaveCount(0);
  await expect(page.locator('#orders li')).toHaveCount(3);
  for (const reference of references) {
    await expect(page.locator(`#orders li[data-reference="${reference}"]`)).toBeVisible();
  }
  await expectOrganisations();
  await audit(page, 'admin/tt02-loading-confirm');

  // The confirmation is sent with the keyboard: Tab to the button, Enter.
  const button = page.locator('#confirm-form button[type="submit"]');
  await button.focus();
  await expect(button).toBeFocused();
  const navigation = page.waitForNavigation({ waitUntil: 'load' });
  await page.keyboard.press('Enter');
  await navigation;

  await expect(page).toHaveURL(/\/admin\/tt02-loading\/[^/?]+/);
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  await expect(page.locator('#moved li')).toHaveCount(3);
  for (const reference of references) {
    await expect(page.locator(`#moved li[data-reference="${reference}"]`)).toBeVisible();
  }
  await expect(page.locator('#left-out')).toHaveCount(0);
  await expectOrganisations();
  await expect(page.locator('#loading-list')).not.toBeEmpty();
  await expect(page.locator('#download')).toBeVisible();
  await audit(page, 'admin/tt02-loading-done');

  for (const reference of references) {
    await open(page, `/admin/orders/${reference}`);
    await expect(status(page)).toHaveAttribute('data-status', 'tt02_loading');
  }

  // The queue no longer offers them as received.
  await open(page, `/admin/orders?status=received&environment=test&q=${encodeURIComponent(contact)}`);
  await expect(page.locator('table.queue tbody tr')).toHaveCount(0);

  // A second confirmation of the same orders moves nothing: they are no longer received.
  const again = await open(page, `/admin/tt02-loading?${references.map((r) => `order=${r}`).join('&')}`);
  expect(again.status()).toBeLessThan(500);
  await expect(page.locator('#confirm-form')).toHaveCount(0);
  await audit(page, 'admin/tt02-loading-nothing');
});

test('the statistics page, and a reversed period', async ({ page, open, audit }) => {
  await logIn(page, open, process.env.E2E_CASE_HANDLER);
  const response = await open(page, '/admin/stats');
  expect(response.status()).toBe(200);
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  await expect(page.locator('#period')).toBeVisible();
  await expect(page.locator('#ended')).toBeVisible();
  await expect(page.locator('#months')).toBeVisible();
  await expect(page.locator('#stats-csv')).toBeVisible();
  await audit(page, 'admin/stats');

  await page.locator('#from').fill('2025-06-30');
  await page.locator('#to').fill('2025-06-01');
  const answer = page.waitForResponse((r) => r.url().includes('/admin/stats?') && r.request().resourceType() === 'document');
  await submit(page, page.locator('form[action="/admin/stats"] button[type="submit"]'));
  expect((await answer).status()).toBe(400);
  await expect(page.locator('#error-summary')).toBeFocused();
  await expect(page.locator('#error-summary li')).not.toHaveCount(0);
  await expect(page.locator('#period')).toHaveCount(0);
  // The typed dates stay, so the case handler can correct them.
  await expect(page.locator('#from')).toHaveValue('2025-06-30');
  await expect(page.locator('#to')).toHaveValue('2025-06-01');
  await audit(page, 'admin/stats-reversed');
});

/** Pastes `text` into the vendor's `field` check (certificate or grant) and sends it. */
async function paste(page, field, text) {
  const form = page.locator(`form[action$="/${field}"]`);
  await form.locator(`[name="${field}"]`).fill(text);
  const answer = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith(`/${field}`));
  await submit(page, form.locator('button[type="submit"]'));
  return (await answer).status();
}

test("the vendor's certificate and grant checks", async ({ open, audit, request, lang, newPerson }) => {
  const order = apiOrder({ language: lang });
  await orderThroughApi(request, order);
  const vendor = await newPerson();
  const link = await privateLink(order.vendor_contact_email);

  await open(vendor, link);
  await expect(status(vendor)).toHaveAttribute('data-status', 'received');
  await expect(vendor.locator('#certificate-check h2')).toBeVisible();
  await expect(vendor.locator('#grant-check h2')).toBeVisible();
  await audit(vendor, 'vendor/checks');

  // Garbage for a certificate: the report says what it is not, the rest is not checked.
  expect(await paste(vendor, 'certificate', 'this is not a certificate')).toBe(422);
  await expect(vendor.locator('#error-summary')).toBeFocused();
  await expect(vendor.locator('#certificate-report')).toBeVisible();
  await expect(vendor.locator('#certificate-report [data-check="parse"]')).toHaveAttribute('data-outcome', 'failed');
  await expect(vendor.locator('#certificate-report [data-check="parse"] .check-fix')).toBeVisible();
  await expect(vendor.locator('#certificate-report [data-outcome="passed"]')).toHaveCount(0);
  await expect(status(vendor)).toHaveAttribute('data-status', 'received');
  await audit(vendor, 'vendor/certificate-garbage');

  // A private key is refused, with the warning never to share it, and not echoed back.
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' });
  expect(await paste(vendor, 'certificate', pem)).toBe(422);
  await expect(vendor.locator('#error-summary')).toBeFocused();
  await expect(vendor.locator('#error-summary a[href="#certificate"]')).toBeVisible();
  await expect(vendor.locator('#certificate')).toHaveAttribute('aria-invalid', 'true');
  await expect(vendor.locator('#certificate')).not.toHaveValue(/PRIVATE KEY/);
  await expect(vendor.locator('#certificate-report')).toHaveCount(0);
  const neverShare = { nb: /del aldri/i, nn: /del aldri/i, en: /never share/i }[lang];
  await expect(vendor.locator('#error-summary')).toContainText(neverShare);
  await audit(vendor, 'vendor/certificate-private-key');

  // Garbage for a grant: it is not a signed JWT.
  expect(await paste(vendor, 'grant', 'not.a-grant')).toBe(422);
  await expect(vendor.locator('#error-summary')).toBeFocused();
  await expect(vendor.locator('#grant-report')).toBeVisible();
  await expect(vendor.locator('#grant-report [data-check="format"]')).toHaveAttribute('data-outcome', 'failed');
  await expect(vendor.locator('#grant-report [data-check="format"] .check-fix')).toBeVisible();
  await audit(vendor, 'vendor/grant-garbage');

  // The private key pasted as a grant is refused the same way.
  expect(await paste(vendor, 'grant', pem)).toBe(422);
  await expect(vendor.locator('#error-summary a[href="#grant"]')).toBeVisible();
  await expect(vendor.locator('#grant')).toHaveAttribute('aria-invalid', 'true');
  await expect(vendor.locator('#grant')).not.toHaveValue(/PRIVATE KEY/);
  await expect(vendor.locator('#error-summary')).toContainText(neverShare);
  await audit(vendor, 'vendor/grant-private-key');
});

test('the API page for system vendors', async ({ page, open, audit }) => {
  const response = await open(page, '/api');
  expect(response.status()).toBe(200);
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  await expect(page.locator('main')).toContainText('/api/v1/orders');
  await expect(page.locator('main')).toContainText('certificate-check');
  await expect(page.locator('main')).toContainText('grant-check');
  await audit(page, 'api');
});
