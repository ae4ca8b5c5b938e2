// Where the run writes what people look at afterwards: screenshots, each page state's HTML
// (checked by the Nu HTML Checker at the end) and one JSON line per page state.
const path = require('node:path');

const REPO = path.resolve(__dirname, '..', '..', '..');
const OUT = process.env.E2E_OUT_DIR
  ? path.resolve(process.env.E2E_OUT_DIR)
  : path.join(REPO, 'target', 'e2e');

module.exports = {
  REPO,
  OUT,
  SCREENSHOTS: path.join(OUT, 'screenshots'),
  HTML: path.join(OUT, 'html'),
  STATES: path.join(OUT, 'states.jsonl'),
  RESULTS: path.join(OUT, 'test-results'),
  CHROMIUM: process.env.E2E_CHROMIUM || '/usr/bin/chromium',
  VNU_JAR: path.join(__dirname, '..', 'node_modules', 'vnu-jar', 'build', 'dist', 'vnu.jar'),
};
