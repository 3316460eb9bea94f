// The dashboard's views in headless Chromium (playwright-core driving Debian's chromium):
// `node views.mjs '<json params>'`, called by tests/api/dashboard_views.rs, which boots payd
// with a self-mining devnet and creates an operator and a test payment. The script logs in,
// reads the payments-per-day chart, opens the payment, pays it on its checkout page (devnet
// simulation) and watches the payment page turn completed without a reload (its live
// status); then reads the money received page and the instance health page. axe-core finds
// no serious or critical violation on any page; screenshots at 1280 and 360 px go under
// `shots`. Exits 1 with the reason on the first thing that is not as expected; prints one
// JSON line on success.

import { open } from "./harness.mjs";

const { p, expect, browser, axe, screenshots } = await open("dashboard views", "target/dashboard-views");

// A bound on waits for the server (a page, blocks, a credit), not an assertion on speed.
const PATIENCE = 120000;

function csp(res) {
  const v = res.headers()["content-security-policy"] || "";
  expect(v.includes("default-src 'none'") && !v.includes("unsafe-inline"), `CSP: ${v}`);
  return v;
}

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

  // The chart: today's bar holds the test payment.
  const list = await page.goto(`${p.url}/dashboard/payments?mode=test`);
  expect(csp(list).includes("script-src 'none'"), "the list runs no script");
  await page.locator("svg#payments-chart").waitFor();
  const today = new Date().toISOString().slice(0, 10);
  const count = await page.locator(`svg#payments-chart rect[data-day="${today}"]`).first().getAttribute("data-payments");
  expect(count === "1", `today's bar: ${count}`);
  await axe(page, "chart");
  await screenshots(page, "chart");

  // The payment page follows the payment: paid on its checkout page, it turns completed here
  // with no reload (a marker set in the page survives).
  const res = await page.goto(`${p.url}/dashboard/payments/${p.paymentId}`);
  expect(csp(res).includes("script-src 'self'"), "the payment page allows payd's script");
  await page.locator("#live-note", { hasText: "Following this payment" }).waitFor();
  await page.evaluate(() => { window.paydMarker = "still the same page"; });
  await axe(page, "payment");
  const checkout = await context.newPage();
  await checkout.goto(`${p.url}${await page.locator('a[href^="/checkout/"]').getAttribute("href")}`);
  await checkout.locator('form.simulate button[value="full"]').click();
  await page.locator("#live-status .tag.completed").waitFor();
  await page.locator("#live-transfers td", { hasText: "confirmed" }).first().waitFor();
  const marker = await page.evaluate(() => window.paydMarker);
  expect(marker === "still the same page", "the page was reloaded");
  const confirmed = await page.locator("#live-confirmed").textContent();
  expect(confirmed === p.due, `received, confirmed: ${confirmed}`);
  await axe(page, "payment followed");
  await screenshots(page, "payment-live");

  // Money received: the payment's transfer, exact, and the operator's unattributed section.
  await page.getByRole("link", { name: "Money", exact: true }).click();
  await page.waitForURL(/\/dashboard\/money/);
  const row = page.locator('#received tr[data-network="devnet"][data-token="USDC"]');
  expect((await row.getAttribute("data-received")) === p.dueUnits, "money received");
  await page.locator("#unattributed-title").waitFor();
  await axe(page, "money");
  await screenshots(page, "money");

  // Instance health.
  await page.getByRole("link", { name: "Health", exact: true }).click();
  await page.waitForURL(/\/dashboard\/health/);
  await page.locator('#chains tr[data-network="devnet"]').waitFor();
  await axe(page, "health");
  await screenshots(page, "health");

  expect(errors.length === 0, `console errors: ${errors.join(" | ")}`);
  console.log(JSON.stringify({ today, marker }));
  await browser.close();
} catch (e) {
  console.error(e && e.stack ? e.stack : String(e));
  await browser.close();
  process.exit(1);
}
