// The run's closing report: every page state's HTML goes through the Nu HTML Checker in one
// run (errors fail the run, listed per page with its URL), then the totals: page states, axe
// violations, HTML errors, screenshots, tests.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { LANGUAGES } = require('./languages');
const paths = require('./paths');

function readStates() {
  if (!fs.existsSync(paths.STATES)) return [];
  return fs
    .readFileSync(paths.STATES, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

/** Runs vnu over the saved HTML; returns its error messages, or throws if it cannot run. */
function checkHtml(states) {
  if (states.length === 0) return [];
  if (!fs.existsSync(paths.VNU_JAR)) throw new Error(`no ${paths.VNU_JAR}: run npm ci in tests/e2e`);
  const files = states.map((s) => path.join(paths.OUT, s.html));
  const run = spawnSync(
    'java',
    ['-jar', paths.VNU_JAR, '--errors-only', '--format', 'json', '--stdout', ...files],
    { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 },
  );
  if (run.error) throw new Error(`the Nu HTML Checker needs Java (java -jar): ${run.error.message}`);
  let report;
  try {
    report = JSON.parse(run.stdout);
  } catch {
    throw new Error(`the Nu HTML Checker did not answer with JSON (exit ${run.status}): ${run.stderr || run.stdout}`);
  }
  return report.messages.filter((m) => m.type === 'error' || m.subType === 'fatal');
}

class SummaryReporter {
  constructor() {
    // Made before the global setup runs, so the time includes building and starting the app.
    this.started = Date.now();
  }

  onBegin(config, suite) {
    this.suite = suite;
  }

  printsToStdio() {
    return true;
  }

  async onEnd(result) {
    const states = readStates();
    const byFile = new Map(states.map((s) => [path.join(paths.OUT, s.html), s]));
    let htmlErrors = [];
    let htmlProblem = null;
    try {
      htmlErrors = checkHtml(states);
    } catch (error) {
      htmlProblem = error.message;
    }

    const lines = [];
    const out = (line = '') => lines.push(line);
    if (htmlErrors.length > 0) {
      out(`Nu HTML Checker: ${htmlErrors.length} error(s)`);
      const grouped = new Map();
      for (const message of htmlErrors) {
        const file = message.url ? decodeURIComponent(new URL(message.url).pathname) : '?';
        if (!grouped.has(file)) grouped.set(file, []);
        grouped.get(file).push(message);
      }
      for (const [file, messages] of grouped) {
        const state = byFile.get(file);
        out(`  ${path.relative(paths.OUT, file)}${state ? ` — ${state.name} (${state.lang}) ${state.url}` : ''}`);
        for (const m of messages) {
          out(`    line ${m.lastLine}:${m.firstColumn ?? m.lastColumn}: ${m.message}`);
          if (m.extract) out(`      ${m.extract.replace(/\s+/g, ' ').trim().slice(0, 160)}`);
        }
      }
      out();
    }
    if (htmlProblem) out(`Nu HTML Checker could not run: ${htmlProblem}\n`);

    const axePages = states.filter((s) => s.violations.length > 0);
    if (axePages.length > 0) {
      out('axe violations:');
      for (const s of axePages) {
        out(`  ${s.name} (${s.lang}) ${s.url}`);
        for (const v of s.violations) {
          for (const node of v.nodes) out(`    ${v.id} [${v.impact}] ${node.target.join(' ')}`);
        }
      }
      out();
    }
    const reflowPages = states.filter((s) => s.reflow.length > 0);
    for (const s of reflowPages) out(`reflow: ${s.name} (${s.lang}) ${s.url} is wider than 320 px: ${s.reflow.join(', ')}`);

    const tests = this.suite ? this.suite.allTests() : [];
    const count = (outcomes) => tests.filter((t) => outcomes.includes(t.outcome())).length;
    // The HTML check over all states counts as one test of its own.
    const htmlFailed = states.length > 0 && (htmlErrors.length > 0 || htmlProblem !== null);
    const htmlPassed = states.length > 0 && !htmlFailed;
    const passed = count(['expected', 'flaky']) + (htmlPassed ? 1 : 0);
    let failed = count(['unexpected']) + (htmlFailed ? 1 : 0);
    // A run that failed outside any test (the global setup, a timeout) is not a green line.
    if (result.status !== 'passed' && failed === 0) failed = 1;
    const skipped = count(['skipped']);
    const violations = states.reduce((n, s) => n + s.violations.length, 0);
    const violationNodes = states.reduce(
      (n, s) => n + s.violations.reduce((m, v) => m + v.nodes.length, 0),
      0,
    );
    const screenshots = states.reduce((n, s) => n + s.screenshots.length, 0);
    const languages = [...new Set(states.map((s) => s.lang))].join(', ');
    out('Browser tests summary');
    out(`  page states visited: ${states.length} (languages: ${languages || 'none'})`);
    const served = (process.env.E2E_LANGUAGES || '').split(',');
    const notYet = LANGUAGES.map((l) => l.code).filter((code) => !served.includes(code));
    if (process.env.E2E_LANGUAGES !== undefined && notYet.length > 0) {
      out(`  not available yet:   ${notYet.join(', ')} (its tests were skipped)`);
    }
    out(`  axe violations:      ${violations} (${violationNodes} element(s))`);
    out(`  Nu HTML errors:      ${htmlProblem ? 'not checked' : htmlErrors.length}`);
    out(`  reflow at 320 px:    ${reflowPages.length} page state(s) scroll sideways`);
    out(`  screenshots written: ${screenshots} in ${paths.SCREENSHOTS}`);
    out(`  run time:            ${((Date.now() - this.started) / 1000).toFixed(1)} s`);
    out(`e2e: ${passed} passed, ${failed} failed, ${skipped} skipped`);
    process.stdout.write(`\n${lines.join('\n')}\n`);

    if (htmlErrors.length > 0 || htmlProblem) return { status: 'failed' };
    return undefined;
  }
}

module.exports = SummaryReporter;
