// The dashboard's account security and invitations in headless Chromium (playwright-core
// driving Debian's chromium): `node access.mjs '<json params>'`, called by
// tests/api/dashboard_auth.rs, which boots payd and creates an admin. The script logs in,
// sets up TOTP (computing the code from the secret the page shows, RFC 6238 here in the
// script), keeps the recovery codes, logs out, logs in with password and code, invites a
// viewer, and accepts the invitation in a second browser context (a different person's
// browser). axe-core finds no serious or critical violation on any page; screenshots at 1280
// and 360 px go under `shots`. Exits 1 with the reason on the first thing that is not as
// expected; prints one JSON line on success.
import { createHmac } from "node:crypto";
import { open } from "./harness.mjs";

const { p, expect, browser, axe, screenshots: shoot } = await open("access", "target/dashboard-access");
// Each page is checked by axe at 1280 px too, before its screenshots.
async function screenshots(page, name) {
  await axe(page, name);
  await shoot(page, name);
}

// A bound on waits for the server, not an assertion on speed.
const PATIENCE = 60000;

// RFC 4648 base32 (no padding) to bytes.
function base32(text) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0;
  let value = 0;
  const out = [];
  for (const c of text.replace(/=+$/, "").toUpperCase()) {
    const i = alphabet.indexOf(c);
    expect(i >= 0, `not base32: ${text}`);
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

// RFC 6238 with SHA-1, 30 s steps, six digits (RFC 4226's dynamic truncation).
function totp(secret, unixSeconds) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unixSeconds / 30)));
  const mac = createHmac("sha1", base32(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  const n = (mac.readUInt32BE(offset) & 0x7fffffff) % 1000000;
  return String(n).padStart(6, "0");
}

async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(PATIENCE);
  context.setDefaultNavigationTimeout(PATIENCE);
  return context.newPage();
}

try {
  const page = await newPage();
  await page.goto(`${p.url}/dashboard/login`);
  await page.getByLabel("Email").fill(p.email);
  await page.getByLabel("Password").fill(p.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.waitForURL(/\/dashboard\/payments/);

  // The account page: two-factor is off; set it up.
  await page.getByRole("link", { name: "Account", exact: true }).click();
  await page.waitForURL(/\/dashboard\/account/);
  expect((await page.locator("#totp-state").innerText()).startsWith("Off"), "two-factor starts off");
  await screenshots(page, "account");
  await page.getByRole("button", { name: "Set up two-factor authentication" }).click();
  await page.locator("#totp-secret").waitFor();
  const secret = (await page.locator("#totp-secret").innerText()).trim();
  const uri = (await page.locator("#totp-uri").innerText()).trim();
  expect(uri.startsWith("otpauth://totp/payd:") && uri.includes(`secret=${secret}`), `the URI: ${uri}`);
  expect(await page.getByRole("img", { name: /QR code/ }).isVisible(), "the QR code is shown");
  await screenshots(page, "totp-setup");
  await page.getByLabel("Six-digit code").fill(totp(secret, Date.now() / 1000));
  await page.getByRole("button", { name: "Switch two-factor on" }).click();
  await page.locator("#recovery-codes").waitFor();
  const codes = await page.locator("#recovery-codes li").allInnerTexts();
  expect(codes.length === 10 && codes.every((c) => /^[a-z2-7]{5}-[a-z2-7]{5}$/.test(c)), `codes: ${codes}`);
  await screenshots(page, "recovery-codes");

  // Log out, and in again: the password, then the code (the next window's, so it is not the
  // one the set-up used).
  await page.getByRole("button", { name: "Log out", exact: true }).click();
  await page.waitForURL(/\/dashboard\/login/);
  await page.getByLabel("Email").fill(p.email);
  await page.getByLabel("Password").fill(p.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.waitForURL(/\/dashboard\/login\/code/);
  await screenshots(page, "login-code");
  await page.getByLabel(/Code from your authenticator app/).fill(totp(secret, Date.now() / 1000 + 30));
  await page.getByRole("button", { name: "Log in" }).click();
  await page.waitForURL(/\/dashboard\/payments/);

  // Invite a viewer; the link is shown once.
  await page.getByRole("link", { name: "Users", exact: true }).click();
  await page.waitForURL(/\/dashboard\/users/);
  await page.getByLabel("Email").fill(p.invitee);
  await page.getByLabel("Role").selectOption("viewer");
  await page.getByRole("button", { name: "Create invitation" }).click();
  await page.locator("#invitation-link").waitFor();
  const link = (await page.locator("#invitation-link").innerText()).trim();
  expect(link.startsWith(`${p.url}/dashboard/invite/`), `the link: ${link}`);
  await screenshots(page, "invitation");
  await page.getByRole("link", { name: "Back to the users" }).click();
  await page.waitForURL(/\/dashboard\/users/);
  expect(await page.getByRole("cell", { name: p.invitee, exact: true }).isVisible(), "the invitation is listed");
  const row = page.getByRole("region", { name: "Users table" }).locator("tr", { hasText: p.email });
  const twoFactor = await row.locator("td").nth(2).innerText();
  expect(twoFactor.trim() === "on", `the admin's two-factor shows: ${twoFactor}`);
  await screenshots(page, "users");

  // The invitee, in another browser: sets a password and is logged in as a viewer.
  const other = await newPage();
  await other.goto(link);
  await screenshots(other, "accept");
  await other.getByLabel(/Choose a password/).fill(p.inviteePassword);
  await other.getByRole("button", { name: "Set password and log in" }).click();
  await other.waitForURL(/\/dashboard\/payments/);
  const who = await other.locator("header").innerText();
  expect(who.includes(`${p.invitee} (viewer)`), `logged in as: ${who}`);

  // The link works once.
  const again = await other.goto(link);
  expect(again.status() === 404, `a used link answers ${again.status()}`);

  console.log(JSON.stringify({ ok: true }));
  await browser.close();
} catch (e) {
  console.error(e.stack || String(e));
  await browser.close();
  process.exit(1);
}
