// Steps that several specs take on the app's pages, by ids, names, form actions and roles
// rather than wording, so text changes do not break them.
const { expect, submit } = require('./fixtures');

/** Fills the order form (`/orders/new`) with an order given as JSON API fields. */
async function fillOrderForm(page, order) {
  await page.locator(`input[name="environment"][value="${order.environment}"]`).check();
  await page.locator(`input[name="scope"][value="${order.scope}"]`).check();
  for (const [name, value] of Object.entries(order)) {
    if (['environment', 'scope', 'language', 'acknowledge_test_data'].includes(name)) continue;
    const text = Array.isArray(value) ? value.join('\n') : String(value);
    await page.locator(`[name="${name}"]`).fill(text);
  }
  const acknowledge = page.locator('input[name="acknowledge_test_data"]');
  if (order.acknowledge_test_data) await acknowledge.check();
  else if (await acknowledge.count()) await acknowledge.uncheck();
}

/** The order form's submit button. */
function orderFormSubmit(page) {
  return page.locator('form[action="/orders"] button[type="submit"]');
}

/** Every link of the error summary points at a field that is flagged as invalid. */
async function expectSummaryLinksFlagged(page) {
  const targets = await page
    .locator('#error-summary ul a')
    .evaluateAll((links) => links.map((a) => a.getAttribute('href').slice(1)));
  expect(targets.length).toBeGreaterThan(0);
  for (const id of targets) {
    const field = page.locator(`[id="${id}"]`);
    await expect(field, `the error summary links to #${id}`).toHaveCount(1);
    const flagged = await field.evaluate(
      (el) =>
        el.getAttribute('aria-invalid') === 'true' ||
        el.closest('fieldset')?.getAttribute('aria-invalid') === 'true',
    );
    expect(flagged, `#${id} is marked aria-invalid`).toBe(true);
    await expect(page.locator(`[id="${id}"]`).locator('xpath=ancestor::*[contains(@class,"field--error")]')).toHaveCount(1);
  }
  return targets;
}

/** Logs in to the workspace as `email` and lands on the queue. */
async function logIn(page, open, email) {
  await open(page, '/admin/login');
  await page.locator('#email').fill(email);
  await page.locator('#password').fill(process.env.E2E_PASSWORD);
  await submit(page, page.locator('form[action="/admin/login"] button[type="submit"]'));
  await expect(page).toHaveURL(/\/admin\/orders/);
}

/** Submits the workflow form for `action` on the case handler's order page. */
async function act(page, action, fields = {}) {
  const form = page.locator(`form[data-action="${action}"]`);
  await expect(form, `the order offers ${action}`).toHaveCount(1);
  for (const [name, value] of Object.entries(fields)) {
    await form.locator(`[name="${name}"]`).fill(value);
  }
  await submit(page, form.locator('button[type="submit"]'));
}

/** The order's status as the page marks it (`data-status`). */
function status(page) {
  return page.locator('#status[data-status], #status [data-status]');
}

/** Submits an order through the JSON API; returns its reference. */
async function orderThroughApi(request, order) {
  const response = await request.post('/api/v1/orders', { data: order });
  expect(response.status(), await response.text()).toBe(201);
  return (await response.json()).reference;
}

module.exports = { fillOrderForm, orderFormSubmit, expectSummaryLinksFlagged, logIn, act, status, orderThroughApi };
