// Verifying payd's webhooks in Node.js with no dependencies: one function per format.
//
// Each function takes the endpoint's secret, the request headers (names in lower case) and
// the raw body as a Buffer exactly as received, and returns true only for a request from
// payd. docs/webhooks.md shows these functions; payd's tests run this very file against real
// deliveries:
//
//     node verify.mjs FORMAT SECRET REQUEST.json
//
// where REQUEST.json is {"headers": {...}, "body": "..."}; it prints "ok" and exits 0 when
// the signature is valid, and exits 1 otherwise.

import { createHmac, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";

const TOLERANCE = 300; // seconds: refuse replays of old deliveries

function same(a, b) {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

// Standard Webhooks: any "v1,<base64>" in the signature header matches the HMAC-SHA256 of
// "{id}.{timestamp}.{body}" keyed by the base64-decoded part after whsec_.
function standard(secret, id, timestamp, signatures, body) {
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > TOLERANCE) return false;
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const expected = createHmac("sha256", key)
    .update(`${id}.${timestamp}.`)
    .update(body)
    .digest("base64");
  return signatures.split(" ").some((s) => same(s, `v1,${expected}`));
}

export function verifyNative(secret, headers, body) {
  return standard(secret, headers["webhook-id"], headers["webhook-timestamp"], headers["webhook-signature"], body);
}

export function verifyPaygentic(secret, headers, body) {
  return standard(secret, headers["svix-id"], headers["svix-timestamp"], headers["svix-signature"], body);
}

// X-AstraPay-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "{t}.{body}"> keyed by the whole secret.
export function verifyAstrapay(secret, headers, body) {
  const parts = Object.fromEntries(headers["x-astrapay-signature"].split(",").map((p) => p.split("=")));
  if (Math.abs(Date.now() / 1000 - Number(parts.t)) > TOLERANCE) return false;
  const expected = createHmac("sha256", secret).update(`${parts.t}.`).update(body).digest("hex");
  return same(expected, parts.v1 ?? "");
}

// X-MutoPay-Signature: sha256=<hex HMAC-SHA256 of the body>.
export function verifyMutopay(secret, headers, body) {
  const expected = "sha256=" + createHmac("sha256", secret).update(body).digest("hex");
  return same(expected, headers["x-mutopay-signature"] ?? "");
}

// X-HMAC: hex HMAC-SHA256 of the body under the endpoint's secret (whsec_...).
export function verifyAlppay(signingSecret, headers, body) {
  const expected = createHmac("sha256", signingSecret).update(body).digest("hex");
  return same(expected, headers["x-hmac"] ?? "");
}

const VERIFY = {
  native: verifyNative,
  paygentic: verifyPaygentic,
  astrapay: verifyAstrapay,
  mutopay: verifyMutopay,
  alppay: verifyAlppay,
};

if (import.meta.url === `file://${process.argv[1]}`) {
  const [format, secret, path] = process.argv.slice(2);
  const request = JSON.parse(readFileSync(path, "utf8"));
  if (VERIFY[format](secret, request.headers, Buffer.from(request.body, "utf8"))) {
    console.log("ok");
  } else {
    console.log("invalid");
    process.exit(1);
  }
}
