// A stand-in for Maskinporten: an RSA key whose public half the harness serves as the JWKS of
// both environments, and access tokens signed with it, shaped like Maskinporten's delegated
// tokens (the claims `src/maskinporten/mod.rs` checks).
const crypto = require('node:crypto');
const fs = require('node:fs');

const KID = 'e2e-maskinporten-key';

/** A new key pair; the private key as PEM, the public key as a JWKS. */
function newKey() {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: KID, alg: 'RS256', use: 'sig' };
  return {
    privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }),
    jwks: { keys: [jwk] },
  };
}

const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** An RS256 token with `claims`, signed with the key in the PEM file `keyFile`. */
function signToken(keyFile, claims, kid = KID) {
  const key = crypto.createPrivateKey(fs.readFileSync(keyFile));
  const signingInput = `${b64({ alg: 'RS256', typ: 'JWT', kid })}.${b64(claims)}`;
  const signature = crypto.sign('sha256', Buffer.from(signingInput), key).toString('base64url');
  return `${signingInput}.${signature}`;
}

/** The claims of a delegated test-environment token for `order` (JSON API field names). */
function delegatedClaims(order, changes = {}) {
  const now = Math.floor(Date.now() / 1000);
  const production = order.environment === 'production';
  return {
    iss: production ? 'https://maskinporten.no/' : 'https://test.maskinporten.no/',
    aud: 'unspecified',
    scope: order.scope,
    client_id: order.maskinporten_client_id || 'e2e-client',
    token_type: 'Bearer',
    iat: now,
    exp: now + 120,
    jti: crypto.randomUUID(),
    consumer: { authority: 'iso6523-actorid-upis', ID: `0192:${order.consumer_org_number}` },
    supplier: { authority: 'iso6523-actorid-upis', ID: `0192:${order.vendor_org_number}` },
    delegation_source: production ? 'https://www.altinn.no/' : 'https://tt02.altinn.no/',
    ...changes,
  };
}

module.exports = { KID, newKey, signToken, delegatedClaims };
