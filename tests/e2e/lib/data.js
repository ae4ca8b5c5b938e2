// Test data that the app accepts: organisation numbers with valid check digits, orders as
// the JSON API takes them, and the names the stand-in Enhetsregisteret gives.
const crypto = require('node:crypto');

/** Modulus 11 as Norwegian numbers use it; `null` when no valid digit exists. */
function mod11(digits, weights) {
  const sum = digits.reduce((s, d, i) => s + d * weights[i], 0);
  const k = 11 - (sum % 11);
  if (k === 11) return 0;
  if (k === 10) return null;
  return k;
}

/** A fresh, valid organisation number starting with `first` (2 or 3: synthetic TT02). */
function orgNumber(first) {
  for (;;) {
    const digits = [first, ...Array.from({ length: 7 }, () => crypto.randomInt(10))];
    const check = mod11(digits, [3, 2, 7, 6, 5, 4, 3, 2]);
    if (check !== null) return [...digits, check].join('');
  }
}

/** The vendor of every order: looked up in (the stand-in for) Enhetsregisteret. */
const VENDOR = { number: '974760673', name: 'Leverandør Systemer AS' };

/** What the stand-in Enhetsregisteret calls an organisation, so names match the orders'. */
function registeredName(number) {
  if (number === VENDOR.number) return VENDOR.name.toUpperCase();
  return `KUNDE ${number} AS`;
}

/** A consumer organisation: synthetic for test orders, "real" (looked up) for production. */
function consumer(environment) {
  const number = orgNumber(environment === 'test' ? 3 : 9);
  return { number, name: `Kunde ${number} AS` };
}

/** A synthetic (Tenor) fødselsnummer the app accepts as the TT02 login identity. */
const TT02_IDENTITY = '01818610099';

/** A unique word for contact addresses, so each test finds its own emails. */
function uid() {
  return crypto.randomBytes(4).toString('hex');
}

/** An order as the JSON API takes it; `overrides` replaces fields. */
function apiOrder({ environment = 'test', language = 'nb', ...overrides } = {}) {
  const id = uid();
  const customer = consumer(environment);
  return {
    environment,
    language,
    scope: 'brreg:reelle/offentlig',
    vendor_org_number: VENDOR.number,
    vendor_org_name: VENDOR.name,
    vendor_contact_name: 'Ola Nordmann',
    vendor_contact_email: `vendor-${id}@leverandor.example.no`,
    vendor_contact_phone: '912 34 567',
    consumer_org_number: customer.number,
    consumer_org_name: customer.name,
    consumer_contact_name: 'Kari Nordmann',
    consumer_contact_email: `consumer-${id}@kunde.example.no`,
    consumer_contact_phone: '412 34 567',
    ...(environment === 'test'
      ? { ip_addresses: ['185.7.240.10'], acknowledge_test_data: true }
      : {}),
    maskinporten_client_id: '0f9a1c7e-4b8e-4d9a-9c1f-2b7e3d4c5a6b',
    ...overrides,
  };
}

module.exports = { orgNumber, VENDOR, registeredName, consumer, TT02_IDENTITY, uid, apiOrder };
