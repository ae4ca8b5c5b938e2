// Starts what the browser tests talk to: the real app binary on a free port with a fresh
// SQLite database and mail folder, stand-ins for Enhetsregisteret and Maskinporten's JWKS, and
// the workspace accounts. What the tests need to know is passed on in E2E_* variables. The
// returned function stops it all.
const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const { LANGUAGES } = require('./languages');
const { registeredName } = require('./data');
const { newKey } = require('./maskinporten');
const paths = require('./paths');

const PASSWORD = 'e2e correct horse battery staple';
const ACCOUNTS = [
  { email: 'saksbehandler@brreg.example.no', name: 'Siri Saksbehandler', role: 'case-handler' },
  { email: 'admin@brreg.example.no', name: 'Arne Admin', role: 'admin' },
];

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function cargoBuild() {
  execFileSync('cargo', ['build', '--locked', '--bin', 'rrh-tt02'], { cwd: paths.REPO, stdio: 'inherit' });
}

/**
 * Whether `binary` was built from this checkout's sources: it holds this checkout's stylesheet
 * (compiled in, byte for byte). Several checkouts may share one target directory, and cargo
 * takes a unit built from another checkout as up to date when this one's files are older, so
 * target/debug/rrh-tt02 can hold another checkout's code and serve its stylesheet.
 */
function builtHere(binary) {
  const stylesheet = fs.readFileSync(path.join(paths.REPO, 'static', 'app.css'));
  return fs.readFileSync(binary).includes(stylesheet);
}

/** The app binary: `E2E_APP_BIN`, or this checkout's debug build (built now if needed). */
function appBinary() {
  if (process.env.E2E_APP_BIN) return path.resolve(process.env.E2E_APP_BIN);
  console.log('[e2e] cargo build --bin rrh-tt02');
  cargoBuild();
  const metadata = JSON.parse(
    execFileSync('cargo', ['metadata', '--format-version', '1', '--no-deps'], {
      cwd: paths.REPO,
      maxBuffer: 64 * 1024 * 1024,
    }),
  );
  const binary = path.join(metadata.target_directory, 'debug', 'rrh-tt02');
  if (fs.existsSync(binary) && !builtHere(binary)) {
    // Newer crate roots make cargo compile this checkout's library and binary again.
    console.log(`[e2e] ${binary} holds another checkout's build; building this one's`);
    const now = new Date();
    for (const root of ['lib.rs', 'main.rs']) fs.utimesSync(path.join(paths.REPO, 'src', root), now, now);
    cargoBuild();
    if (!builtHere(binary)) console.log(`[e2e] warning: cannot tell whether ${binary} is this checkout's build`);
  }
  return binary;
}

/** Enhetsregisteret's `/enheter/{orgnr}` and Maskinporten's JWKS, on one loopback port. */
function startStandIns(jwks) {
  const server = http.createServer((req, res) => {
    const unit = /^\/enhetsregisteret\/enheter\/(\d{9})$/.exec(req.url);
    const answer = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (unit) return answer(200, { organisasjonsnummer: unit[1], navn: registeredName(unit[1]) });
    if (req.url === '/maskinporten-test/jwk' || req.url === '/maskinporten/jwk') {
      return answer(200, jwks);
    }
    return answer(404, {});
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function waitUntilReady(base, app, log) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (app.exitCode !== null) break;
    try {
      if ((await fetch(`${base}/health/ready`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the app did not become ready at ${base}; its log is ${log}`);
}

/** Which of LANGUAGES the app serves: `?lang=X` must give `<html lang="X">`. */
async function availableLanguages(base) {
  const available = [];
  for (const { code, requiredBy } of LANGUAGES) {
    const html = await (await fetch(`${base}/?lang=${code}`)).text();
    const served = new RegExp(`<html[^>]*\\slang="${code}"`).test(html);
    if (served) {
      available.push(code);
    } else if (!requiredBy) {
      throw new Error(`?lang=${code} does not give <html lang="${code}">`);
    } else if (process.env[requiredBy] === '1') {
      throw new Error(`${code} is required (${requiredBy}=1) but ?lang=${code} does not give <html lang="${code}">`);
    } else {
      console.log(`\n[e2e] *** ${code} not available yet: ?lang=${code} does not give <html lang="${code}">; the ${code} tests are skipped (${requiredBy}=1 makes this a failure) ***\n`);
    }
  }
  return available;
}

module.exports = async function globalSetup() {
  const started = Date.now();
  // Nothing of an earlier run is counted in this one's summary.
  for (const dir of [paths.SCREENSHOTS, paths.HTML]) fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(paths.STATES, { force: true });
  fs.mkdirSync(paths.SCREENSHOTS, { recursive: true });
  fs.mkdirSync(paths.HTML, { recursive: true });

  if (!fs.existsSync(paths.CHROMIUM)) {
    throw new Error(`no browser at ${paths.CHROMIUM}: install Debian's Chromium (apt-get install -y chromium) or set E2E_CHROMIUM`);
  }
  const built = appBinary();
  if (!fs.existsSync(built)) throw new Error(`no app binary at ${built}`);

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rrh-e2e-'));
  // A copy of its own: a build of another checkout into the same target directory replaces
  // target/debug/rrh-tt02, and the accounts and the server must come from one binary.
  const binary = path.join(tmp, 'rrh-tt02');
  fs.copyFileSync(built, binary);
  fs.chmodSync(binary, 0o755);
  const mailDir = path.join(tmp, 'mail');
  const keyFile = path.join(tmp, 'maskinporten-key.pem');
  const key = newKey();
  fs.writeFileSync(keyFile, key.privatePem, { mode: 0o600 });
  const standIns = await startStandIns(key.jwks);
  const standInUrl = `http://127.0.0.1:${standIns.address().port}`;

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = { ...process.env };
  for (const name of Object.keys(env)) {
    if (name.startsWith('RRH_') || name === 'DATABASE_URL') delete env[name];
  }
  Object.assign(env, {
    DATABASE_URL: `sqlite:${path.join(tmp, 'e2e.db')}`,
    RRH_LISTEN: `127.0.0.1:${port}`,
    RRH_BASE_URL: base,
    RRH_MAIL_DIR: mailDir,
    RRH_MAIL_POLL_MS: '100',
    RRH_ORDERS_PER_HOUR: '10000',
    RRH_ENHETSREGISTERET_URL: `${standInUrl}/enhetsregisteret`,
    RRH_MASKINPORTEN_TEST_JWKS_URL: `${standInUrl}/maskinporten-test/jwk`,
    RRH_MASKINPORTEN_PROD_JWKS_URL: `${standInUrl}/maskinporten/jwk`,
    RUST_LOG: process.env.RUST_LOG || 'info',
  });

  for (const account of ACCOUNTS) {
    execFileSync(binary, ['user', 'add', '--email', account.email, '--name', account.name, '--role', account.role], {
      env,
      input: `${PASSWORD}\n`,
      stdio: ['pipe', 'ignore', 'inherit'],
    });
  }

  fs.mkdirSync(paths.OUT, { recursive: true });
  const log = path.join(paths.OUT, 'app.log');
  const logFd = fs.openSync(log, 'w');
  const app = spawn(binary, ['serve'], { env, stdio: ['ignore', logFd, logFd] });
  const stop = async () => {
    if (app.exitCode === null) {
      const exited = new Promise((resolve) => app.once('exit', resolve));
      app.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
      if (app.exitCode === null) app.kill('SIGKILL');
    }
    fs.closeSync(logFd);
    standIns.close();
    if (process.env.E2E_KEEP_TMP === '1') console.log(`[e2e] kept ${tmp}`);
    else fs.rmSync(tmp, { recursive: true, force: true });
  };

  try {
    await waitUntilReady(base, app, log);
    const languages = await availableLanguages(base);
    Object.assign(process.env, {
      E2E_BASE_URL: base,
      E2E_MAIL_DIR: mailDir,
      E2E_MASKINPORTEN_KEY: keyFile,
      E2E_LANGUAGES: languages.join(','),
      E2E_CASE_HANDLER: ACCOUNTS[0].email,
      E2E_ADMIN: ACCOUNTS[1].email,
      E2E_PASSWORD: PASSWORD,
    });
    console.log(`[e2e] app at ${base} (${built}), languages ${languages.join(', ')}, ready in ${Date.now() - started} ms`);
  } catch (error) {
    await stop();
    throw error;
  }
  return stop;
};
