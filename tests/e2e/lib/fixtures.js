// The test API every spec uses: `test` runs once per language (the project's `lang`), and
// `audit(page, name)` records one page state: axe (WCAG 2.0/2.1/2.2 A and AA and best
// practice), the HTML the server sent (checked by the Nu HTML Checker at the end of the run),
// a reflow check and screenshots at 320 and 1280 px.
const fs = require('node:fs');
const path = require('node:path');
const { test: base, expect } = require('@playwright/test');
const { AxeBuilder } = require('@axe-core/playwright');
const paths = require('./paths');

const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'];
const WIDE = { width: 1280, height: 900 };
const NARROW = { width: 320, height: 700 };

/** The last main-frame document each page received (what a state's HTML came from). */
const lastDocument = new WeakMap();

function trackDocuments(page) {
  page.on('response', (response) => {
    const request = response.request();
    if (request.resourceType() === 'document' && request.frame() === page.mainFrame()) {
      if (response.status() < 300 || response.status() >= 400) lastDocument.set(page, response);
    }
  });
}

function slug(text) {
  return text
    .normalize('NFKD')
    .replace(/[^\w/-]+/g, '-')
    .replace(/[/_]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '')
    .toLowerCase();
}

function uniqueBase(lang, name) {
  let base = `${lang}-${slug(name)}`;
  for (let n = 2; fs.existsSync(path.join(paths.HTML, `${base}.html`)); n++) {
    base = `${lang}-${slug(name)}-${n}`;
  }
  return base;
}

/** Elements wider than the narrow viewport, for the reflow message. */
async function overflowing(page) {
  return page.evaluate((width) => {
    const wide = [];
    for (const el of document.body.querySelectorAll('*')) {
      const box = el.getBoundingClientRect();
      if (box.right > width + 1 && getComputedStyle(el).position !== 'fixed') {
        // Only the outermost culprit: skip those inside an element already listed.
        if (!wide.some((w) => w.el.contains(el))) wide.push({ el, right: Math.round(box.right) });
      }
    }
    return wide.slice(0, 5).map(({ el, right }) => {
      const id = el.id ? `#${el.id}` : '';
      const cls = el.classList.length ? `.${[...el.classList].join('.')}` : '';
      return `${el.tagName.toLowerCase()}${id}${cls} (right edge ${right}px)`;
    });
  }, NARROW.width);
}

function describeViolations(violations, url) {
  return violations
    .flatMap((v) =>
      v.nodes.map(
        (node) =>
          `  [${v.impact}] ${v.id}: ${v.help}\n    target: ${node.target.join(' ')}\n    page:   ${url}\n    html:   ${node.html.slice(0, 200)}\n    ${v.helpUrl}`,
      ),
    )
    .join('\n');
}

async function recordState(page, lang, name, testInfo) {
  await page.waitForLoadState('load');
  const url = page.url();
  const file = uniqueBase(lang, name);

  // The HTML as the server sent it (the Nu HTML Checker reads the markup, not the DOM).
  let html;
  const response = lastDocument.get(page);
  if (response && response.url() === url.split('#')[0]) {
    html = await response.text().catch(() => undefined);
  }
  const htmlSource = html === undefined ? 'dom' : 'response';
  if (html === undefined) html = await page.content();
  fs.writeFileSync(path.join(paths.HTML, `${file}.html`), html);

  // Legacy mode runs axe in the page itself instead of opening a helper page for the last
  // step; that step only matters for cross-origin frames, which the app has none of, and it
  // halves the time each check takes.
  const axe = await new AxeBuilder({ page }).withTags(AXE_TAGS).setLegacyMode(true).analyze();
  const violations = axe.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    helpUrl: v.helpUrl,
    nodes: v.nodes.map((n) => ({ target: n.target, html: n.html })),
  }));

  const screenshots = [];
  const before = page.viewportSize() || WIDE;
  const shoot = async (size) => {
    await page.setViewportSize(size);
    const shot = path.join(paths.SCREENSHOTS, `${file}-${size.width}.png`);
    await page.screenshot({ path: shot, fullPage: true });
    screenshots.push(path.relative(paths.OUT, shot));
  };
  await shoot(WIDE);
  await shoot(NARROW);
  const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
  const reflow = scrollWidth > NARROW.width + 1 ? await overflowing(page) : [];
  await page.setViewportSize(before);

  // Every state is in the test's language, error pages included.
  const htmlLang = await page.locator('html').getAttribute('lang');

  // An error summary's links must lead to something on the page.
  const deadSummaryLinks = await page
    .locator('#error-summary a[href^="#"]')
    .evaluateAll((links) =>
      links
        .map((a) => a.getAttribute('href'))
        .filter((href) => href.length > 1 && !document.getElementById(href.slice(1))),
    );

  const record = {
    lang,
    name,
    test: testInfo.titlePath.slice(1).join(' › '),
    url,
    html: `html/${file}.html`,
    htmlSource,
    screenshots,
    violations,
    reflow,
  };
  fs.appendFileSync(paths.STATES, `${JSON.stringify(record)}\n`);

  expect
    .soft(violations.length, `axe violations on ${name} (${url}):\n${describeViolations(violations, url)}`)
    .toBe(0);
  expect.soft(htmlLang, `${name} (${url}) is in the test's language`).toBe(lang);
  expect.soft(deadSummaryLinks, `${name} (${url}): error summary links without a target`).toEqual([]);
  expect
    .soft(reflow.length, `${name} (${url}) scrolls sideways at ${NARROW.width} px: ${reflow.join(', ')}`)
    .toBe(0);
  return record;
}

const test = base.extend({
  lang: ['nb', { option: true }],

  baseURL: async ({}, use) => {
    await use(process.env.E2E_BASE_URL);
  },

  // Languages the app does not serve yet are skipped (global-setup says so, or fails the run).
  languageAvailable: [
    async ({ lang }, use, testInfo) => {
      const available = (process.env.E2E_LANGUAGES || '').split(',');
      testInfo.skip(!available.includes(lang), `${lang} not available yet`);
      await use(true);
    },
    { auto: true },
  ],

  context: async ({ context }, use) => {
    context.on('page', trackDocuments);
    await use(context);
  },

  /** `audit(page, name)`: checks and records the page as it is now. */
  audit: async ({ lang }, use, testInfo) => {
    await use((page, name) => recordState(page, lang, name, testInfo));
  },

  /** `open(page, path)`: goes to `path` in the test's language (`?lang=`). */
  open: async ({ lang }, use) => {
    await use(async (page, target) => {
      const url = new URL(target, process.env.E2E_BASE_URL);
      url.searchParams.set('lang', lang);
      const response = await page.goto(url.pathname + url.search + url.hash);
      return response;
    });
  },

  /** `newPerson()`: a page in a browser context of its own (another person's cookies). */
  newPerson: async ({ browser, contextOptions, viewport }, use) => {
    const contexts = [];
    await use(async () => {
      const context = await browser.newContext({
        ...contextOptions,
        viewport,
        baseURL: process.env.E2E_BASE_URL,
      });
      contexts.push(context);
      context.on('page', trackDocuments);
      return context.newPage();
    });
    for (const context of contexts) await context.close();
  },
});

/** Clicks `target` (a locator) and waits for the page that the click loads. */
async function submit(page, target) {
  const navigation = page.waitForNavigation({ waitUntil: 'load' });
  await target.click();
  await navigation;
}

module.exports = { test, expect, submit, AXE_TAGS };
