// The order form with the keyboard only: the skip link, the Tab order, a visible focus on
// every stop, the error summary's links moving focus to their fields, and a whole order
// typed and sent without a pointer.
const { test, expect } = require('../lib/fixtures');
const { apiOrder } = require('../lib/data');

/** Names an element the same way in both lists: its id, else its tag and href or type. */
async function defineNames(page) {
  await page.evaluate(() => {
    window.__e2eName = (el) => {
      if (el.id) return `#${el.id}`;
      const tag = el.tagName.toLowerCase();
      if (el.hasAttribute('href')) return `${tag}[href="${el.getAttribute('href')}"]`;
      return el.type ? `${tag}[type="${el.type}"]` : tag;
    };
    window.__e2ePrevious = null;
  });
}

/** What Tab should reach in `main`, in DOM order: one stop per radio group. */
async function expectedStops(page) {
  await defineNames(page);
  return page.evaluate(() => {
    const stops = [];
    const groups = new Set();
    const candidates = document.querySelectorAll(
      'main a[href], main input:not([type="hidden"]), main textarea, main select, main button, main [tabindex]:not([tabindex="-1"])',
    );
    for (const el of candidates) {
      if (el.disabled || el.getClientRects().length === 0) continue;
      if (el.type === 'radio') {
        if (groups.has(el.name)) continue;
        groups.add(el.name);
        const checked = document.querySelector(`input[type="radio"][name="${el.name}"]:checked`);
        stops.push(`#${(checked || el).id}`);
      } else {
        stops.push(window.__e2eName(el));
      }
    }
    return stops;
  });
}

/** The focused element (as in expectedStops) and how its focus is drawn. */
async function focusNow(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    const style = (node) => {
      const s = getComputedStyle(node);
      return [s.outlineStyle, s.outlineWidth, s.outlineColor, s.boxShadow, s.backgroundColor].join(' | ');
    };
    const name = window.__e2eName(el);
    // The previous stop, now unfocused, shows how it looks without focus.
    const previous = window.__e2ePrevious;
    const unfocused = previous && previous !== el ? { name: previous.name, style: style(previous.el) } : null;
    window.__e2ePrevious = { el, name };
    const box = el.getBoundingClientRect();
    return {
      name,
      tag: el.tagName.toLowerCase(),
      type: el.type || '',
      fieldName: el.name || '',
      focused: style(el),
      unfocused,
      visible: box.width > 0 && box.height > 0 && box.bottom > 0 && box.top < window.innerHeight,
    };
  });
}

/**
 * Tabs from where focus is to the order form's submit button, and returns the stops. Each
 * stop is checked to be on screen with a focus style that differs from its unfocused style.
 * `onStop` may type into the stop.
 */
async function tabToSubmit(page, onStop = async () => {}) {
  const stops = [];
  const focusedStyle = new Map();
  for (let i = 0; i < 80; i++) {
    await page.keyboard.press('Tab');
    const now = await focusNow(page);
    if (now.unfocused && focusedStyle.has(now.unfocused.name)) {
      expect(
        now.unfocused.style,
        `${now.unfocused.name} looks different when focused (outline, box-shadow or background)`,
      ).not.toBe(focusedStyle.get(now.unfocused.name));
    }
    focusedStyle.set(now.name, now.focused);
    expect(now.visible, `${now.name} is scrolled into view when focused`).toBe(true);
    stops.push(now.name);
    await onStop(now);
    const isSubmit = await page.evaluate(
      () => document.activeElement.matches('form[action="/orders"] button[type="submit"]'),
    );
    if (isSubmit) return stops;
  }
  throw new Error(`the submit button was not reached with Tab: ${stops.join(' ')}`);
}

test('the order form with the keyboard only', async ({ page, open, audit, lang }) => {
  await open(page, '/orders/new');

  // The first Tab shows the skip link; Enter moves focus to the main content.
  await page.keyboard.press('Tab');
  const skip = page.locator('a.skip-link');
  await expect(skip).toBeFocused();
  const skipBox = await skip.boundingBox();
  expect(skipBox.width, 'the skip link is visible when focused').toBeGreaterThan(20);
  await audit(page, 'keyboard/skip-link-focused');
  await page.keyboard.press('Enter');
  await expect(page.locator('main')).toBeFocused();

  // Tab walks the form in reading order, one stop per control, focus always visible.
  const expected = await expectedStops(page);
  const walked = await tabToSubmit(page);
  expect(walked).toEqual(expected);

  // Enter on the button sends the empty form; the summary has focus and its links move
  // focus to the fields.
  await page.keyboard.press('Enter');
  await page.waitForLoadState('load');
  await expect(page.locator('#error-summary')).toBeFocused();
  await audit(page, 'keyboard/error-summary-focused');
  await page.keyboard.press('Tab');
  const links = page.locator('#error-summary ul a');
  await expect(links.first()).toBeFocused();
  const targets = await links.evaluateAll((all) => all.map((a) => a.getAttribute('href').slice(1)));
  for (const [i, id] of targets.entries()) {
    if (i > 0) await links.nth(i).focus();
    await page.keyboard.press('Enter');
    await expect(page.locator(`[id="${id}"]`), `the summary's link moves focus to #${id}`).toBeFocused();
    const inView = await page
      .locator(`[id="${id}"]`)
      .evaluate((el) => {
        const box = el.getBoundingClientRect();
        return box.top >= 0 && box.bottom <= window.innerHeight;
      });
    expect(inView, `#${id} is on screen after the summary's link`).toBe(true);
  }

  // From the first field, the whole order typed with the keyboard: Space checks radios and
  // the checkbox, text is typed, Enter on the button sends it.
  const order = apiOrder({ language: lang });
  await page.locator('#error-summary ul a').first().focus();
  await page.keyboard.press('Enter');
  await expect(page.locator('input[name="environment"]').first()).toBeFocused();
  await page.keyboard.press('Space');
  await defineNames(page);
  await tabToSubmit(page, async (stop) => {
    if (stop.type === 'radio' || stop.type === 'checkbox') {
      await page.keyboard.press('Space');
    } else if (['input', 'textarea'].includes(stop.tag) && stop.fieldName in order) {
      const value = order[stop.fieldName];
      await page.keyboard.press('ControlOrMeta+A');
      await page.keyboard.type(Array.isArray(value) ? value.join('\n') : String(value));
    }
  });
  await expect(page.locator('input[name="environment"][value="test"]')).toBeChecked();
  await expect(page.locator('input[name="acknowledge_test_data"]')).toBeChecked();
  await page.keyboard.press('Enter');
  await page.waitForLoadState('load');
  await expect(page).toHaveURL(/\/receipt(\?|$)/);
  await expect(page.locator('#reference')).toBeVisible();
});
