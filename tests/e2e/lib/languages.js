// The page languages the browser tests run in. Every test runs once per language (a
// Playwright project each). A language other than the default is checked at start-up:
// `?lang=<code>` must give `<html lang="<code>">`. One that is not there yet is skipped with
// a visible note, unless `requiredBy` names an environment variable that is set to 1 (set it
// in .ci/run once the language has landed), in which case the run fails.
const LANGUAGES = [
  { code: 'nb' },
  { code: 'en' },
  { code: 'nn', requiredBy: 'E2E_REQUIRE_NN' },
];

module.exports = { LANGUAGES };
