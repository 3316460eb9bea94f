// The dashboard's management pages in headless Chromium (playwright-core driving Debian's
// chromium): `node manage.mjs '<json params>'`, called by tests/api/dashboard_manage.rs, which
// boots payd with a webhook receiver, an admin and a viewer of one merchant, an endpoint
// pointing at the receiver and a test payment. The script logs in as the admin, opens the
// endpoint's page, edits its events, rotates its secret (shown once), sends a test event and
// waits for it in the delivery log; sets the checkout branding (name, accent colour, a logo
// drawn by the browser itself) and opens the payment's checkout page to see it applied; makes
// the viewer an admin on the users page. axe-core finds no serious or critical violation on
// any page; screenshots at 1280 and 360 px go under `shots`. Exits 1 with the reason on the
// first thing that is not as expected; prints one JSON line on success.

import { open } from "./harness.mjs";

const { p, expect, browser, axe, screenshots } = await open("dashboard manage", "target/dashboard-manage");

// A bound on waits for the server (a page, a delivery), not an assertion on speed.
const PATIENCE = 60000;

try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(PATIENCE);
  context.setDefaultNavigationTimeout(PATIENCE);
  const page = await context.newPage();
  const errors = [];
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  page.on("pageerror", (e) => errors.push(String(e)));

  await page.goto(`${p.url}/dashboard/login`);
  await page.getByLabel("Email").fill(p.email);
  await page.getByLabel("Password").fill(p.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.waitForURL(/\/dashboard\/payments/);

  // The endpoint's page, reached from the list.
  await page.goto(`${p.url}/dashboard/webhooks?mode=test`);
  await page.locator(`a[href="/dashboard/webhooks/${p.endpointId}"]`).first().click();
  await page.waitForURL(new RegExp(`/dashboard/webhooks/${p.endpointId}$`));
  await page.locator("text=Nothing was sent to this endpoint yet.").waitFor();
  await axe(page, "endpoint");
  await screenshots(page, "endpoint");

  // Edit its events: two kinds instead of all.
  await page.getByLabel("payment.completed", { exact: true }).check();
  await page.getByLabel("payment.expired", { exact: true }).check();
  await page.getByRole("button", { name: "Save endpoint" }).click();
  await page.locator(".banner", { hasText: "Endpoint saved." }).waitFor();
  const events = await page.locator("dl.facts .tag").allTextContents();
  expect(JSON.stringify(events) === JSON.stringify(["payment.completed", "payment.expired"]), `events: ${events}`);

  // Rotate its secret with an hour's overlap: the new secret is shown on this answer only.
  await page.getByLabel("Old secret keeps signing for").selectOption("3600");
  await page.getByRole("button", { name: "Rotate secret" }).click();
  const secret = (await page.locator("#hook-secret").textContent()).trim();
  expect(secret.length > 20, `secret: ${secret}`);
  await axe(page, "rotated");
  await screenshots(page, "rotated");
  await page.goto(`${p.url}/dashboard/webhooks/${p.endpointId}`);
  expect(!(await page.content()).includes(secret), "the secret is shown once");
  await page.locator("dt", { hasText: "Previous secret" }).waitFor();

  // A test event: queued, then delivered to the receiver and listed with its attempt.
  await page.getByRole("button", { name: "Send test event" }).click();
  await page.locator(".banner", { hasText: "Test event queued" }).waitFor();
  const deadline = Date.now() + PATIENCE;
  for (;;) {
    const card = page.locator("#log-title ~ div.card").first();
    if ((await card.count()) > 0 && (await card.locator(".tag", { hasText: "delivered" }).count()) > 0) break;
    expect(Date.now() < deadline, "the test event was not delivered");
    await page.waitForTimeout(250);
    // The page itself, without the "queued" message the redirect carried.
    await page.goto(`${p.url}/dashboard/webhooks/${p.endpointId}`);
  }
  const entry = page.locator("#log-title ~ div.card").first();
  expect((await entry.locator(".tag.flag", { hasText: "test" }).count()) === 1, "listed as a test");
  expect((await entry.locator("tbody tr").count()) === 1, "one attempt");
  expect((await entry.locator("tbody td").nth(1).textContent()).trim() === "200", "answered 200");
  await axe(page, "endpoint log");
  await screenshots(page, "endpoint-log");

  // Checkout branding: a name, an accent colour and a logo (a PNG the browser draws).
  const drawing = await context.newPage();
  await drawing.setContent(
    '<div id="logo" style="width:64px;height:64px;border-radius:16px;background:#1d4ed8;color:#fff;' +
      'font:bold 36px sans-serif;display:flex;align-items:center;justify-content:center">A</div>',
  );
  const logo = await drawing.locator("#logo").screenshot({ omitBackground: true });
  await drawing.close();
  await page.goto(`${p.url}/dashboard/settings/${p.merchantId}/checkout`);
  await page.getByLabel("Display name").fill("Acme Books");
  await page.getByLabel("Accent colour").fill("#1d4ed8");
  await page.getByLabel("Logo", { exact: true }).setInputFiles({ name: "logo.png", mimeType: "image/png", buffer: logo });
  await page.getByRole("button", { name: "Save branding" }).click();
  await page.locator(".banner", { hasText: "Branding saved." }).waitFor();
  await page.locator('img.logo[src^="/assets/brand/"]').waitFor();
  await axe(page, "branding");
  await screenshots(page, "branding");

  // The payment's checkout page shows it: the name, the logo loaded, the accent's rule.
  const checkout = await context.newPage();
  await checkout.goto(`${p.url}${p.checkout}`);
  await checkout.locator("header.merchant", { hasText: "Acme Books" }).waitFor();
  const img = checkout.locator('header.merchant img[src^="/assets/brand/"]');
  await img.waitFor();
  expect(await img.evaluate((i) => i.complete && i.naturalWidth === 64), "the logo loads");
  const rule = await checkout.locator("header.merchant").evaluate((h) => getComputedStyle(h).borderBottomColor);
  expect(rule === "rgb(29, 78, 216)", `the accent's rule: ${rule}`);
  await axe(checkout, "checkout");
  await screenshots(checkout, "checkout-branded");
  await checkout.close();

  // The users page: the viewer becomes an admin.
  await page.goto(`${p.url}/dashboard/users`);
  const row = page.locator("tr", { hasText: p.viewerEmail });
  expect((await row.locator("td").nth(1).textContent()).trim() === "viewer", "a viewer first");
  await row.getByRole("button", { name: "Make admin" }).click();
  await page.waitForURL(/\/dashboard\/users$/);
  const after = page.locator("tr", { hasText: p.viewerEmail });
  expect((await after.locator("td").nth(1).textContent()).trim() === "admin", "an admin now");
  await after.getByRole("button", { name: "Make viewer" }).waitFor();
  await axe(page, "users");
  await screenshots(page, "users-role");

  expect(errors.length === 0, `console errors: ${errors.join(" | ")}`);
  console.log(JSON.stringify({ secret, events }));
  await browser.close();
} catch (e) {
  console.error(e && e.stack ? e.stack : String(e));
  await browser.close();
  process.exit(1);
}
