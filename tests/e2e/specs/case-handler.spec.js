// The case handler's workspace: login, the queue, and every workflow step of a test order and
// a production order, a refusal that needs its reason, and the admin's pages.
const { test, expect, submit } = require('../lib/fixtures');
const { apiOrder, uid, TT02_IDENTITY } = require('../lib/data');
const { logIn, act, status, orderThroughApi } = require('../lib/pages');

test('login, the queue, and every step of a test order', async ({ page, open, audit, request, lang }) => {
  const reference = await orderThroughApi(request, apiOrder({ language: lang }));

  // The workspace sends a visitor without a session to the login page.
  await open(page, '/admin/orders');
  await expect(page).toHaveURL(/\/admin\/login/);
  await expect(page.locator('form[action="/admin/login"]')).toBeVisible();
  await audit(page, 'admin/login');

  await page.locator('#email').fill(`nobody-${uid()}@brreg.example.no`);
  await page.locator('#password').fill('not the password at all');
  await submit(page, page.locator('form[action="/admin/login"] button[type="submit"]'));
  await expect(page.locator('#error-summary')).toBeFocused();
  await audit(page, 'admin/login-error');

  await logIn(page, open, process.env.E2E_CASE_HANDLER);
  await expect(page.getByRole('link', { name: reference })).toBeVisible();
  await audit(page, 'admin/queue');

  await page.locator('#q').fill(reference);
  await submit(page, page.locator('form.filters button[type="submit"]'));
  await expect(page.locator('table.queue tbody tr')).toHaveCount(1);
  await audit(page, 'admin/queue-search');

  await submit(page, page.getByRole('link', { name: reference }));
  await expect(page).toHaveURL(new RegExp(`/admin/orders/${reference}`));
  await expect(status(page)).toHaveAttribute('data-status', 'received');
  await audit(page, 'admin/order-received');

  await submit(page, page.locator(`form[action="/admin/orders/${reference}/assignment"] button`));
  await expect(page.locator('.notice[role="status"]')).toBeVisible();
  await audit(page, 'admin/order-assigned');

  await page.locator('#note').fill('Ringte kunden – venter på Altinn.');
  await submit(page, page.locator(`form[action="/admin/orders/${reference}/notes"] button`));
  await expect(page.locator('#timeline')).toContainText('Ringte kunden');
  await audit(page, 'admin/order-note');

  await act(page, 'start_tt02_loading', { comment: 'Vi har bedt Altinn lese inn virksomhetene.' });
  await expect(status(page)).toHaveAttribute('data-status', 'tt02_loading');
  await audit(page, 'admin/order-tt02-loading');

  // The identity is checked; the typed value stays with its error.
  await act(page, 'mark_tt02_loaded', { tt02_identity: '12345678901' });
  await expect(page.locator('#error-summary')).toBeFocused();
  await expect(page.locator('#tt02_identity')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.locator('#tt02_identity')).toHaveValue('12345678901');
  await expect(status(page)).toHaveAttribute('data-status', 'tt02_loading');
  await audit(page, 'admin/order-identity-error');

  await act(page, 'mark_tt02_loaded', { tt02_identity: TT02_IDENTITY });
  await expect(status(page)).toHaveAttribute('data-status', 'tt02_loaded');
  await expect(page.locator('#tt02-identity')).toHaveText(TT02_IDENTITY);
  await audit(page, 'admin/order-tt02-loaded');

  await act(page, 'confirm_delegation');
  await expect(status(page)).toHaveAttribute('data-status', 'delegated');
  await audit(page, 'admin/order-delegated');

  await act(page, 'verify_token');
  await expect(status(page)).toHaveAttribute('data-status', 'token_verified');
  await audit(page, 'admin/order-token-verified');

  await act(page, 'complete', { comment: 'Alt er klart.' });
  await expect(status(page)).toHaveAttribute('data-status', 'completed');
  await expect(page.locator('form[data-action]')).toHaveCount(0);
  await audit(page, 'admin/order-completed');
});

test('every step of a production order, and a refusal that needs its reason', async ({ page, open, audit, request, lang }) => {
  const production = await orderThroughApi(request, apiOrder({ environment: 'production', language: lang }));
  const refused = await orderThroughApi(request, apiOrder({ language: lang }));
  await logIn(page, open, process.env.E2E_CASE_HANDLER);

  await open(page, `/admin/orders/${production}`);
  await expect(status(page)).toHaveAttribute('data-status', 'received');
  // Production skips TT02: the first step is the delegation.
  await expect(page.locator('form[data-action="start_tt02_loading"]')).toHaveCount(0);
  await expect(page.locator('#registry-check')).toBeVisible();
  await audit(page, 'admin/production-received');
  for (const [action, reached] of [
    ['confirm_delegation', 'delegated'],
    ['verify_token', 'token_verified'],
    ['complete', 'completed'],
  ]) {
    await act(page, action);
    await expect(status(page)).toHaveAttribute('data-status', reached);
  }
  await audit(page, 'admin/production-completed');

  // A colleague moves the order while this page is open: the step is refused, and the
  // page shows the order as it now stands.
  await open(page, `/admin/orders/${refused}`);
  const colleague = await page.context().newPage();
  await open(colleague, `/admin/orders/${refused}`);
  await act(colleague, 'start_tt02_loading');
  await expect(status(colleague)).toHaveAttribute('data-status', 'tt02_loading');
  await colleague.close();
  await act(page, 'start_tt02_loading');
  await expect(page.locator('#error-summary')).toBeFocused();
  await expect(status(page)).toHaveAttribute('data-status', 'tt02_loading');
  await audit(page, 'admin/order-conflict');

  await act(page, 'reject');
  await expect(page.locator('#error-summary')).toBeFocused();
  await expect(page.locator('#reason')).toHaveAttribute('aria-invalid', 'true');
  await expect(status(page)).toHaveAttribute('data-status', 'tt02_loading');
  await audit(page, 'admin/order-reject-error');
  await act(page, 'reject', { reason: 'Kunden har ikke svart på tre uker.' });
  await expect(status(page)).toHaveAttribute('data-status', 'rejected');
  await audit(page, 'admin/order-rejected');

  const missing = await open(page, '/admin/orders/RRH-0000-0000');
  expect(missing.status()).toBe(404);
  await expect(page.locator('form[action="/admin/logout"]')).toBeVisible();
  await audit(page, 'admin/order-not-found');

  await open(page, '/admin/orders?status=all');
  await expect(page.getByRole('link', { name: production })).toBeVisible();
  await audit(page, 'admin/queue-all');
});

test("an admin's pages: the outbox and the accounts, then logging out", async ({ page, open, audit }) => {
  await logIn(page, open, process.env.E2E_ADMIN);
  await open(page, '/admin/outbox');
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  await audit(page, 'admin/outbox');
  await open(page, '/admin/outbox?status=sent');
  await audit(page, 'admin/outbox-sent');
  await open(page, '/admin/users');
  await expect(page.locator('main')).toContainText(process.env.E2E_CASE_HANDLER);
  await audit(page, 'admin/users');

  await submit(page, page.locator('form[action="/admin/logout"] button'));
  await expect(page).toHaveURL(/\/admin\/login/);
  await audit(page, 'admin/logged-out');
});
