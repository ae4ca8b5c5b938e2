// The contacts' private pages, reached through the links in their emails: the consumer sees
// the TT02 identity, the schema and the steps, and confirms the delegation; the vendor checks
// its Maskinporten token (a bogus one, one for the wrong customer, a good one); a vendor
// withdraws a production order.
const { test, expect, submit } = require('../lib/fixtures');
const { apiOrder, TT02_IDENTITY } = require('../lib/data');
const { privateLink } = require('../lib/mail');
const { delegatedClaims, signToken } = require('../lib/maskinporten');
const { logIn, act, status, orderThroughApi } = require('../lib/pages');

/** Pastes `token` into the vendor's token check and sends it. */
async function checkToken(page, token) {
  const form = page.locator('form[action$="/token"]');
  await form.locator('[name="access_token"]').fill(token);
  await submit(page, form.locator('button[type="submit"]'));
  await expect(page.locator('#token-report')).toBeVisible();
}

function outcome(page, check) {
  return page.locator(`#token-report [data-check="${check}"]`);
}

test('a test order: the consumer confirms the delegation, the vendor verifies its token', async ({ page, open, audit, request, lang, newPerson }) => {
  const order = apiOrder({ language: lang });
  const reference = await orderThroughApi(request, order);
  const consumer = await newPerson();
  const vendor = await newPerson();
  const caseHandler = page;

  // Each contact's first email carries that contact's own link.
  const consumerLink = await privateLink(order.consumer_contact_email);
  const vendorLink = await privateLink(order.vendor_contact_email);
  expect(consumerLink).not.toBe(vendorLink);

  await open(consumer, consumerLink);
  await expect(status(consumer)).toHaveAttribute('data-status', 'received');
  await expect(consumer.locator('form[action$="/delegation"]')).toHaveCount(0);
  await expect(consumer.locator('form[action$="/token"]')).toHaveCount(0);
  await audit(consumer, 'consumer/received');

  await open(vendor, vendorLink);
  await expect(status(vendor)).toHaveAttribute('data-status', 'received');
  await expect(vendor.locator('#grant-help')).toBeVisible();
  await expect(vendor.locator('#grant-claims')).toContainText(order.consumer_org_number);
  await expect(vendor.locator('form[action$="/withdrawal"]')).toBeVisible();
  await expect(vendor.locator('form[action$="/delegation"]')).toHaveCount(0);
  await audit(vendor, 'vendor/track-received');

  await logIn(caseHandler, open, process.env.E2E_CASE_HANDLER);
  await open(caseHandler, `/admin/orders/${reference}`);
  await act(caseHandler, 'start_tt02_loading');
  await act(caseHandler, 'mark_tt02_loaded', { tt02_identity: TT02_IDENTITY });
  await expect(status(caseHandler)).toHaveAttribute('data-status', 'tt02_loaded');

  // The consumer at tt02_loaded: the identity to log in with, the schema, the steps.
  await open(consumer, consumerLink);
  await expect(status(consumer)).toHaveAttribute('data-status', 'tt02_loaded');
  await expect(consumer.locator('#tt02-identity')).toHaveText(TT02_IDENTITY);
  await expect(consumer.locator('#delegation-schema')).not.toBeEmpty();
  expect(await consumer.locator('#delegation ol li').count()).toBeGreaterThanOrEqual(3);
  await audit(consumer, 'consumer/tt02-loaded');
  // The vendor never sees the identity.
  await open(vendor, vendorLink);
  await expect(vendor.locator('#tt02-identity')).toHaveCount(0);

  await submit(consumer, consumer.locator('form[action$="/delegation"] button[type="submit"]'));
  await expect(consumer).toHaveURL(/done=delegation/);
  await expect(consumer.locator('.notice[role="status"]')).toBeVisible();
  await expect(status(consumer)).toHaveAttribute('data-status', 'delegated');
  await expect(consumer.locator('form[action$="/delegation"]')).toHaveCount(0);
  await audit(consumer, 'consumer/delegated');

  // The vendor's token check: each check is listed with its outcome.
  await open(vendor, vendorLink);
  await expect(status(vendor)).toHaveAttribute('data-status', 'delegated');
  await expect(vendor.locator('form[action$="/token"]')).toBeVisible();
  await audit(vendor, 'vendor/token-form');

  await checkToken(vendor, 'this is not a token');
  await expect(outcome(vendor, 'format')).toHaveAttribute('data-outcome', 'failed');
  await expect(outcome(vendor, 'signature')).toHaveAttribute('data-outcome', 'not_checked');
  await expect(status(vendor)).toHaveAttribute('data-status', 'delegated');
  await audit(vendor, 'vendor/token-bogus');

  const keyFile = process.env.E2E_MASKINPORTEN_KEY;
  const otherCustomer = delegatedClaims(order, { consumer: { authority: 'iso6523-actorid-upis', ID: '0192:310000001' } });
  await checkToken(vendor, signToken(keyFile, otherCustomer));
  await expect(outcome(vendor, 'signature')).toHaveAttribute('data-outcome', 'passed');
  await expect(outcome(vendor, 'consumer')).toHaveAttribute('data-outcome', 'failed');
  await expect(outcome(vendor, 'consumer').locator('.check-fix')).toBeVisible();
  await audit(vendor, 'vendor/token-wrong-consumer');

  await checkToken(vendor, `Bearer ${signToken(keyFile, delegatedClaims(order))}`);
  const checks = vendor.locator('#token-report [data-check]');
  expect(await checks.count()).toBeGreaterThanOrEqual(10);
  await expect(vendor.locator('#token-report [data-check]:not([data-outcome="passed"])')).toHaveCount(0);
  await expect(status(vendor)).toHaveAttribute('data-status', 'token_verified');
  await audit(vendor, 'vendor/token-verified');

  // The case handler completes; both pages say so.
  await open(caseHandler, `/admin/orders/${reference}`);
  await expect(status(caseHandler)).toHaveAttribute('data-status', 'token_verified');
  await act(caseHandler, 'complete');
  await expect(status(caseHandler)).toHaveAttribute('data-status', 'completed');
  for (const [person, link, name] of [
    [consumer, consumerLink, 'consumer/completed'],
    [vendor, vendorLink, 'vendor/completed'],
  ]) {
    await open(person, link);
    await expect(status(person)).toHaveAttribute('data-status', 'completed');
    await audit(person, name);
  }
});

test('a production order: the consumer sees its steps, the vendor withdraws the order', async ({ open, audit, request, lang, newPerson }) => {
  const order = apiOrder({ environment: 'production', language: lang });
  await orderThroughApi(request, order);
  const consumer = await newPerson();
  const vendor = await newPerson();

  // Production: no TT02, so the consumer can delegate at once.
  const consumerLink = await privateLink(order.consumer_contact_email);
  await open(consumer, consumerLink);
  await expect(consumer.locator('form[action$="/delegation"]')).toBeVisible();
  await expect(consumer.locator('#tt02-identity')).toHaveCount(0);
  await audit(consumer, 'consumer/production-received');

  await open(vendor, await privateLink(order.vendor_contact_email));
  const withdrawal = vendor.locator('form[action$="/withdrawal"]');
  await submit(vendor, withdrawal.locator('button[type="submit"]'));
  await expect(vendor.locator('#error-summary')).toBeFocused();
  await expect(vendor.locator('#withdraw_reason')).toHaveAttribute('aria-invalid', 'true');
  await audit(vendor, 'vendor/withdraw-error');

  await withdrawal.locator('[name="withdraw_reason"]').fill('Kunden har valgt en annen leverandør.');
  await submit(vendor, withdrawal.locator('button[type="submit"]'));
  await expect(vendor).toHaveURL(/done=withdrawn/);
  await expect(status(vendor)).toHaveAttribute('data-status', 'withdrawn');
  await expect(vendor.locator('form[action$="/withdrawal"]')).toHaveCount(0);
  await audit(vendor, 'vendor/withdrawn');

  await open(consumer, consumerLink);
  await expect(status(consumer)).toHaveAttribute('data-status', 'withdrawn');
  await expect(consumer.locator('form[action$="/delegation"]')).toHaveCount(0);
  await audit(consumer, 'consumer/withdrawn');
});
