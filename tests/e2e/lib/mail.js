// The app writes each email as an `.eml` file in the mail folder (no SMTP server is set).
// This reads them as a mail client would: headers unfolded, MIME parts split, bodies decoded
// (quoted-printable or base64), so links broken over soft line breaks come out whole.
const fs = require('node:fs');
const path = require('node:path');

function splitHeaders(raw) {
  const text = raw.replace(/\r\n/g, '\n');
  const end = text.indexOf('\n\n');
  const head = end === -1 ? text : text.slice(0, end);
  const body = end === -1 ? '' : text.slice(end + 2);
  const headers = {};
  for (const line of head.replace(/\n[ \t]+/g, ' ').split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { headers, body };
}

/** Quoted-printable (RFC 2045): soft line breaks `=\n` go, `=XX` become bytes, read as UTF-8. */
function decodeQuotedPrintable(text) {
  const joined = text.replace(/=\r?\n/g, '');
  const bytes = [];
  for (let i = 0; i < joined.length; i++) {
    const hex = joined.slice(i + 1, i + 3);
    if (joined[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(joined[i], 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function decodeBody(headers, body) {
  const encoding = (headers['content-transfer-encoding'] || '').toLowerCase();
  if (encoding === 'quoted-printable') return decodeQuotedPrintable(body);
  if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  return body;
}

/** The decoded text of every text part of a message (plain and HTML). */
function textParts(raw) {
  const { headers, body } = splitHeaders(raw);
  const type = headers['content-type'] || 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(type);
  if (/^multipart\//i.test(type) && boundary) {
    return body
      .split(`--${boundary[1]}`)
      .slice(1)
      .filter((part) => !part.startsWith('--'))
      .flatMap((part) => textParts(part.replace(/^\r?\n/, '')));
  }
  return /^text\//i.test(type) ? [decodeBody(headers, body)] : [];
}

/** Every message in `dir`: its headers and decoded text. */
function readAll(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((name) => name.endsWith('.eml'))
    .sort()
    .map((name) => {
      const raw = fs.readFileSync(path.join(dir, name), 'utf8');
      return { file: name, headers: splitHeaders(raw).headers, text: textParts(raw).join('\n') };
    });
}

const TRACK_LINK = /https?:\/\/[^\s"'<>]+?(\/track\/[A-Za-z0-9_-]{16,})(\?[^\s"'<>]*)?/g;

/** The private links (`/track/...` path and query) in a message's text. */
function trackLinks(message) {
  return [...new Set([...message.text.matchAll(TRACK_LINK)].map((m) => m[1] + (m[2] || '')))];
}

/**
 * Waits for a message to `to` whose text passes `match`, and returns it with its links.
 * The mail worker writes files a moment after the change that causes them.
 */
async function waitForMail(to, { match = () => true, timeout = 15_000 } = {}) {
  const dir = process.env.E2E_MAIL_DIR;
  const deadline = Date.now() + timeout;
  for (;;) {
    const found = readAll(dir).find(
      (m) => (m.headers.to || '').toLowerCase().includes(to.toLowerCase()) && match(m),
    );
    if (found) return { ...found, links: trackLinks(found) };
    if (Date.now() > deadline) {
      throw new Error(`no email to ${to} in ${dir} after ${timeout} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The contact's private link from the first email sent to `to`, as a path without `lang`. */
async function privateLink(to) {
  const message = await waitForMail(to, { match: (m) => trackLinks(m).length > 0 });
  const url = new URL(message.links[0], 'http://mail.invalid');
  url.searchParams.delete('lang');
  return url.pathname + url.search;
}

module.exports = { decodeQuotedPrintable, readAll, trackLinks, waitForMail, privateLink };
