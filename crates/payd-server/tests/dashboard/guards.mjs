// The dashboard's guards in headless Chromium (playwright-core driving Debian's chromium):
// `node guards.mjs '<json params>'`, called by tests/api/dashboard_guards.rs, which boots payd
// with a webhook receiver answering 500, two accounts each with an admin, a viewer and a user
// to lock out in account A, A's endpoint pointing at the receiver and A's test payments made
// through the native, AstraPay and AlpPay APIs. The script locks a user out with wrong
// passwords (the right one is then refused too); as A's admin finds the payments by each
// API's id, opens the native one, sees its failed delivery and redelivers it until one more
// attempt is listed; as A's viewer (a second browser) sees no change form and has every
// change post refused 403 although it carries the viewer's own form token; as B's admin (a
// third browser) gets 404 for A's payment, endpoint and settings, and finds nothing by A's
// payment id; and as A's admin has a form posted without its token refused 403. axe-core
// finds no serious or critical violation on any page; screenshots at 1280 and 360 px go under
// `shots`. Exits 1 with the reason on the first thing that is not as expected; prints one
// JSON line on success.

import { open } from "./harness.mjs";

const { p, expect, browser, axe, screenshots: shoot } = await open("dashboard guards", "target/dashboard-guards");
// Each page is checked by axe at 1280 px too, before its screenshots.
async function screenshots(page, name) {
  await axe(page, name);
  await shoot(page, name);
}

// A bound on waits for the server (a page, a delivery), not an assertion on speed.
const PATIENCE = 60000;

// The refusals below are answered 401, 403 and 404 on purpose, which Chromium logs as failed
// loads; any other console error is a fault.
const errors = [];
async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(PATIENCE);
  context.setDefaultNavigationTimeout(PATIENCE);
  const page = await context.newPage();
  page.on("console", (m) => {
    if (m.type() !== "error") return;
    if (/Failed to load resource: the server responded with a status of (401|403|404)/.test(m.text())) return;
    errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(String(e)));
  return page;
}

async function login(page, email, password) {
  await page.goto(`${p.url}/dashboard/login`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith("/dashboard/login") && r.request().method() === "POST"),
    page.getByRole("button", { name: "Log in" }).click(),
  ]);
  await page.waitForLoadState();
  return res;
}

// Searches the test-mode list for `term`; returns the payment links listed.
async function search(page, term) {
  await page.goto(`${p.url}/dashboard/payments?mode=test`);
  await page.getByLabel("Search").fill(term);
  await page.getByRole("button", { name: "Apply" }).click();
  await page.waitForURL(/q=/);
  return page.locator('[aria-label="Payments table"] tbody a[href^="/dashboard/payments/"]').evaluateAll((as) =>
    as.map((a) => a.getAttribute("href")),
  );
}

// Posts a form with the page's session (its cookie, through the browser context) and the
// form token its page holds, from payd's own origin: answers the status. (The pages' policy
// has no connect-src, so a script on them could not even fetch.)
async function postFrom(page, route, fields) {
  const csrf = await page.locator('input[name="csrf"]').first().inputValue();
  const res = await page.request.post(`${p.url}${route}`, {
    form: { csrf, ...fields },
    headers: { origin: p.url, "sec-fetch-site": "same-origin" },
    maxRedirects: 0,
  });
  return res.status();
}

try {
  // 1. Lockout: five wrong passwords in a row, then the right one is refused as well.
  const lou = await newPage();
  for (let i = 0; i < 5; i++) {
    const res = await login(lou, p.locked, `wrong password ${i}`);
    expect(res.status() === 401, `wrong password ${i}: ${res.status()}`);
    await lou.locator(".error").waitFor();
  }
  const locked = await login(lou, p.locked, p.password);
  expect(locked.status() === 401, `the right password while locked: ${locked.status()}`);
  expect(lou.url().endsWith("/dashboard/login"), `locked, yet at ${lou.url()}`);
  const said = (await lou.locator(".error").innerText()).trim();
  // One answer for a wrong password and a locked user, so the form tells nobody which is which.
  expect(said.includes("too many wrong attempts"), `the refusal says: ${said}`);
  const cookies = await lou.context().cookies();
  expect(!cookies.some((c) => c.name === "payd_session"), "a session cookie for a locked user");
  await screenshots(lou, "locked");
  await lou.context().close();

  // 2. A's admin finds the payments by each API's kind of id.
  const page = await newPage();
  const ok = await login(page, p.admin, p.password);
  expect(ok.status() === 303 && /\/dashboard\/payments/.test(page.url()), `admin login: ${ok.status()} ${page.url()}`);
  for (const s of p.searches) {
    const found = await search(page, s.term);
    expect(
      found.length === 1 && found[0] === `/dashboard/payments/${s.id}`,
      `search by ${s.what} (${s.term}) lists ${JSON.stringify(found)}`,
    );
  }
  await screenshots(page, "search");

  // 3. The native payment's page: its created event failed at the receiver (500) until its
  // attempts ran out ("dead": only a redelivery sends it again); redeliver it and watch one
  // more attempt get listed.
  const paymentUrl = `${p.url}/dashboard/payments/${p.paymentId}`;
  const card = page.locator("#webhooks-title ~ div.card").first();
  let before = 0;
  let deadline = Date.now() + PATIENCE;
  for (;;) {
    await page.goto(paymentUrl);
    if ((await card.count()) > 0 && (await card.locator(".tag", { hasText: "dead" }).count()) > 0) {
      before = await card.locator("tbody tr").count();
      break;
    }
    expect(Date.now() < deadline, "the delivery did not fail for good");
    await page.waitForTimeout(250);
  }
  expect(before >= 1, "failed attempts are listed");
  const answers = await card.locator("tbody tr td:nth-child(2)").allInnerTexts();
  expect(answers.every((a) => a.trim() === "500"), `answers: ${answers}`);
  const action = await card.locator('form[action*="/redeliver"]').getAttribute("action");
  const delivery = action.split("/deliveries/")[1].split("/")[0];
  await screenshots(page, "payment-failed");
  await card.getByRole("button", { name: "Redeliver" }).click();
  await page.waitForURL(new RegExp(`/dashboard/payments/${p.paymentId}`));
  deadline = Date.now() + PATIENCE;
  let after = 0;
  for (;;) {
    const c = page.locator("#webhooks-title ~ div.card").first();
    after = await c.locator("tbody tr").count();
    if (after > before && (await c.locator(".tag", { hasText: "dead" }).count()) > 0) break;
    expect(Date.now() < deadline, `no new attempt: ${after} listed, ${before} before`);
    await page.waitForTimeout(250);
    await page.goto(paymentUrl);
  }
  const summary = await page.locator("#webhooks-title ~ div.card").first().locator("p").first().innerText();
  expect(summary.includes(`${after} attempt(s)`), `the summary: ${summary}`);
  await screenshots(page, "redelivered");

  // 4. A's viewer, in another browser: no change form anywhere, and every change post refused.
  const viewer = await newPage();
  const vres = await login(viewer, p.viewer, p.password);
  expect(vres.status() === 303, `viewer login: ${vres.status()}`);
  const looks = [
    [paymentUrl, "viewer-payment", ["Cancel payment", "Redeliver"]],
    [`${p.url}/dashboard/keys?mode=test`, "viewer-keys", ["Create key", "Revoke"]],
    [`${p.url}/dashboard/webhooks?mode=test`, "viewer-webhooks", ["Register endpoint"]],
    [`${p.url}/dashboard/settings?merchant=${p.merchantId}`, "viewer-settings", ["Save", "Save assets", "Save profile", "Preview addresses"]],
    [`${p.url}/dashboard/users`, "viewer-users", ["Make admin", "Make viewer", "Create invitation"]],
  ];
  for (const [url, name, buttons] of looks) {
    const res = await viewer.goto(url);
    expect(res.status() === 200, `${name}: ${res.status()}`);
    for (const b of buttons) {
      expect((await viewer.getByRole("button", { name: b, exact: true }).count()) === 0, `${name} offers "${b}"`);
    }
    // Whatever form the page shows a viewer (the settings are shown in theirs, read-only) has
    // no button to send it and no field to change.
    const open = await viewer.locator("main form[method='post']").evaluateAll((fs) =>
      fs
        .filter((f) => f.querySelector("button, input[type=submit]") || [...f.elements].some((e) => e.type !== "hidden" && e.tagName !== "FIELDSET" && !e.disabled))
        .map((f) => f.getAttribute("action")),
    );
    expect(open.length === 0, `${name} has change forms: ${open}`);
    await screenshots(viewer, name);
  }
  await viewer.goto(`${p.url}/dashboard/payments?mode=test`);
  const posts = [
    ["/dashboard/keys", { owner: p.merchantId, mode: "test" }],
    ["/dashboard/webhooks", { merchant: p.merchantId, mode: "test", url: "https://hooks.example/viewer", format: "native" }],
    [`/dashboard/settings/${p.merchantId}`, { min_amount: "1000", settlement: "", tolerance: "" }],
    [`/dashboard/settings/${p.merchantId}/profile`, { email: "viewer@example.com", site_url: "" }],
    [`/dashboard/payments/${p.paymentId}/cancel`, {}],
    [`/dashboard/payments/${p.paymentId}/deliveries/${delivery}/redeliver`, {}],
    [`/dashboard/webhooks/${p.endpointId}/edit`, { url: "https://hooks.example/viewer", format: "native" }],
    [`/dashboard/users/${p.adminId}/role`, { role: "viewer" }],
  ];
  const refused = {};
  for (const [route, fields] of posts) {
    const status = await postFrom(viewer, route, fields);
    refused[route] = status;
    expect(status === 403, `the viewer's post to ${route} was answered ${status}`);
  }
  await viewer.context().close();

  // 5. B's admin, in a third browser: A's payment, endpoint and settings are not found, and
  // B's search for A's payment id lists nothing.
  const other = await newPage();
  const bres = await login(other, p.other, p.password);
  expect(bres.status() === 303, `B's admin login: ${bres.status()}`);
  for (const url of [
    paymentUrl,
    `${p.url}/dashboard/webhooks/${p.endpointId}`,
    `${p.url}/dashboard/settings?merchant=${p.merchantId}`,
    `${p.url}/dashboard/settings/${p.merchantId}/checkout`,
  ]) {
    const res = await other.goto(url);
    expect(res.status() === 404, `B's admin opening ${url}: ${res.status()}`);
    await other.getByRole("heading", { name: "Not found" }).waitFor();
    expect(!(await other.content()).includes("Shop A"), `${url} names A's merchant`);
  }
  await screenshots(other, "not-yours");
  for (const term of [p.paymentId, p.searches[1].term]) {
    const found = await search(other, term);
    expect(found.length === 0, `B's search for ${term} lists ${JSON.stringify(found)}`);
  }
  // B's own payment is listed, so the list does work for B.
  expect((await search(other, p.otherPaymentId)).length === 1, "B finds its own payment");
  await other.context().close();

  // The same kind of post from A's admin passes the token, origin and role checks: it is
  // answered by the form's own validation (an unknown format), so the viewer's 403s above were
  // its role's.
  await page.goto(`${p.url}/dashboard/webhooks/${p.endpointId}`);
  const control = await postFrom(page, `/dashboard/webhooks/${p.endpointId}/edit`, { url: "https://hooks.example/admin", format: "soap" });
  expect(control === 400, `the admin's post with an unknown format was answered ${control}`);

  // 6. A's admin: the key form without its token is refused, and no key is made.
  await page.goto(`${p.url}/dashboard/keys?mode=test`);
  const keysBefore = await page.locator('[aria-label="Keys table"] tbody tr').count();
  const form = page.locator("form", { has: page.getByRole("button", { name: "Create key" }) });
  expect((await form.locator('input[name="csrf"]').count()) === 1, "the key form carries its token");
  await form.evaluate((f) => f.querySelector('input[name="csrf"]').remove());
  const [refusal] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith("/dashboard/keys") && r.request().method() === "POST"),
    form.getByRole("button", { name: "Create key" }).click(),
  ]);
  expect(refusal.status() === 403, `a form without its token: ${refusal.status()}`);
  await page.getByRole("heading", { name: "Refused" }).waitFor();
  expect((await page.locator("#key-secret").count()) === 0, "a key secret is shown");
  await screenshots(page, "csrf-refused");
  await page.goto(`${p.url}/dashboard/keys?mode=test`);
  const keysAfter = await page.locator('[aria-label="Keys table"] tbody tr').count();
  expect(keysAfter === keysBefore, `keys: ${keysBefore} before, ${keysAfter} after`);

  expect(errors.length === 0, `console errors: ${errors.join(" | ")}`);
  console.log(JSON.stringify({ delivery, attemptsBefore: before, attemptsAfter: after, refused }));
  await browser.close();
} catch (e) {
  console.error(e && e.stack ? e.stack : String(e));
  await browser.close();
  process.exit(1);
}
