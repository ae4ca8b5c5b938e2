// The vendor's submission in the browser: an empty form is refused with every field named,
// what was typed stays, a corrected form gives the receipt; a second order for the same pair
// is refused with a way on.
const { test, expect, submit } = require('../lib/fixtures');
const { apiOrder } = require('../lib/data');
const { fillOrderForm, orderFormSubmit, expectSummaryLinksFlagged } = require('../lib/pages');
const { waitForMail } = require('../lib/mail');

test('the order form: empty submit, errors kept with the values, then the receipt', async ({ page, open, audit, lang }) => {
  await open(page, '/orders/new');
  await expect(page.locator('form[action="/orders"]')).toBeVisible();
  await audit(page, 'vendor/form');

  // Empty: the summary takes focus, names each field, and each field is flagged.
  await submit(page, orderFormSubmit(page));
  await expect(page.locator('#error-summary')).toBeFocused();
  await expect(page).toHaveTitle(/.+/);
  const flagged = await expectSummaryLinksFlagged(page);
  for (const required of ['vendor_org_number', 'vendor_org_name', 'vendor_contact_email', 'consumer_org_number']) {
    expect(flagged, `the empty form flags ${required}`).toContain(required);
  }
  await audit(page, 'vendor/form-empty-submit');

  // Some right, some wrong: only the wrong ones are flagged, and everything typed stays.
  const order = apiOrder({ language: lang });
  const typed = {
    ...order,
    vendor_org_number: '123 456',
    consumer_contact_email: 'kari.kunde.example.no',
    ip_addresses: ['10.0.0.1'],
    acknowledge_test_data: false,
  };
  await fillOrderForm(page, typed);
  await submit(page, orderFormSubmit(page));
  await expect(page.locator('#error-summary')).toBeFocused();
  const wrong = await expectSummaryLinksFlagged(page);
  expect(wrong.sort()).toEqual(
    ['acknowledge_test_data', 'consumer_contact_email', 'ip_addresses', 'vendor_org_number'].sort(),
  );
  await expect(page.locator('#vendor_org_number')).toHaveValue('123 456');
  await expect(page.locator('#consumer_contact_email')).toHaveValue('kari.kunde.example.no');
  await expect(page.locator('#ip_addresses')).toHaveValue('10.0.0.1');
  await expect(page.locator('#vendor_org_name')).toHaveValue(order.vendor_org_name);
  await expect(page.locator('#consumer_org_number')).toHaveValue(order.consumer_org_number);
  await expect(page.locator('#message')).toHaveValue(order.message ?? '');
  await expect(page.locator('input[name="environment"][value="test"]')).toBeChecked();
  await expect(page.locator('#vendor_contact_name')).not.toHaveAttribute('aria-invalid', 'true');
  await audit(page, 'vendor/form-some-wrong');

  // Corrected: the receipt, with the reference, and the contacts get their links.
  await fillOrderForm(page, order);
  await submit(page, orderFormSubmit(page));
  await expect(page).toHaveURL(/\/orders\/[^/?]+\/receipt(\?|$)/);
  const reference = (await page.locator('#reference').innerText()).trim();
  expect(page.url()).toContain(`/orders/${reference}/receipt`);
  await expect(page.locator('main')).toContainText(order.consumer_org_name);
  await audit(page, 'vendor/receipt');
  const mail = await waitForMail(order.vendor_contact_email, { match: (m) => m.text.includes(reference) });
  expect(mail.links.length, 'the vendor is mailed its private link').toBeGreaterThan(0);

  // The same pair again while the first is open: refused, with the way to the links.
  await open(page, '/orders/new');
  await fillOrderForm(page, order);
  await submit(page, orderFormSubmit(page));
  await expect(page.locator('#error-summary')).toBeFocused();
  await expect(page.locator('#error-summary-next')).toHaveAttribute('href', /^\/track/);
  await audit(page, 'vendor/form-duplicate');
});
