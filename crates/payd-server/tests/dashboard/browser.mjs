// The merchant dashboard in headless Chromium (playwright-core driving Debian's chromium):
// `node browser.mjs '<json params>'`, called by tests/api/dashboard.rs, which boots payd with a
// self-mining devnet, creates the user and a test payment. The script logs in (a wrong
// password first), switches to test mode, finds the payment by its reference, filters, exports
// the CSV and checks it, opens the payment, pays it on its checkout page (devnet simulation)
// and watches the dashboard turn it paid; then creates an API key and revokes it, registers a
// webhook endpoint, previews and saves an xpub, ticks an asset off (the checkout stops
// offering it), sets the profile, and reads the audit log. axe-core finds no
// serious or critical violation on any page; screenshots at 1280 and 360 px go under `shots`.
// Exits 1 with the reason on the first thing that is not as expected; prints one JSON line on
// success.
import { readFileSync } from "node:fs";
import { open } from "./harness.mjs";

const { p, expect, browser, axe, screenshots } = await open("dashboard", "target/dashboard");

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// A bound on waits for the server (a page, blocks, a credit), not an assertion on speed.
const PATIENCE = 120000;

function checkHeaders(res, script = "'none'") {
  const csp = res.headers()["content-security-policy"] || "";
  expect(csp.includes("default-src 'none'") && csp.includes(`script-src ${script}`), `CSP: ${csp}`);
  expect(!csp.includes("unsafe-inline"), `CSP allows inline code: ${csp}`);
}

try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  context.setDefaultTimeout(PATIENCE);
  context.setDefaultNavigationTimeout(PATIENCE);
  const page = await context.newPage();
  const errors = [];
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  page.on("pageerror", (e) => errors.push(String(e)));

  // Log in: a wrong password first.
  checkHeaders(await page.goto(`${p.url}/dashboard/login`));
  await page.getByLabel("Email").fill(p.email);
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Log in" }).click();
  await page.locator(".error").waitFor();
  // The refusal is answered 401 on purpose, which Chromium logs as a failed load.
  expect(errors.length === 1 && errors[0].includes("401"), `console errors: ${errors.join(" | ")}`);
  errors.length = 0;
  await axe(page, "login refused");
  await screenshots(page, "login");
  await page.getByLabel("Password").fill(p.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.waitForURL(/\/dashboard\/payments/);

  // The switch is always there: to test mode.
  await page.getByRole("link", { name: "Test", exact: true }).click();
  await page.waitForURL(/mode=test/);
  const row = page.locator(`a[href="/dashboard/payments/${p.paymentId}"]`);
  await row.waitFor();
  await axe(page, "list");
  await screenshots(page, "list");

  // Find it by its reference, then filter.
  await page.getByLabel("Search").fill(p.reference);
  await page.getByRole("button", { name: "Apply" }).click();
  await page.waitForURL(/q=/);
  expect((await row.count()) === 1, "the search by reference finds the payment");
  expect((await page.locator('[aria-label="Payments table"] tbody tr').count()) === 1, "the search finds only the payment");
  await page.getByLabel("Status").selectOption("completed");
  await page.getByRole("button", { name: "Apply" }).click();
  await page.waitForURL(/status=completed/);
  expect((await row.count()) === 0, "a pending payment is not among the completed ones");
  await page.getByLabel("Status").selectOption("pending");
  await page.getByRole("button", { name: "Apply" }).click();
  await page.waitForURL(/status=pending/);
  expect((await row.count()) === 1, "the pending filter shows the payment");
  await screenshots(page, "filtered");

  // Export the current filter.
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("link", { name: "Export CSV" }).click(),
  ]);
  const csv = readFileSync(await download.path(), "utf8").trim().split("\n");
  expect(csv[0].startsWith("id,created_at,mode,merchant_id,status"), `CSV header: ${csv[0]}`);
  expect(csv.length === 2 && csv[1].startsWith(`${p.paymentId},`), `CSV rows: ${csv.join(" | ")}`);
  expect(csv[1].includes(",pending,"), `CSV row: ${csv[1]}`);

  // The payment's page; pay it on its checkout page; watch it turn paid here.
  await row.click();
  await page.waitForURL(new RegExp(`/dashboard/payments/${p.paymentId}$`));
  // The payment page alone runs payd's script (its live status).
  checkHeaders(await page.reload(), "'self'");
  await axe(page, "payment");
  await screenshots(page, "payment");
  const checkout = await context.newPage();
  await checkout.goto(`${p.url}${await page.locator('a[href^="/checkout/"]').getAttribute("href")}`);
  await checkout.locator('form.simulate button[value="full"]').click();
  const deadline = Date.now() + PATIENCE;
  for (;;) {
    await page.reload();
    if ((await page.locator(".tag.completed").count()) > 0) break;
    expect(Date.now() < deadline, "the payment did not turn completed on the dashboard");
    await sleep(500);
  }
  expect((await page.locator("td", { hasText: "confirmed" }).count()) >= 1, "a confirmed transfer is listed");
  expect((await page.getByRole("button", { name: "Cancel payment" }).count()) === 0, "a paid payment offers no cancel");
  await axe(page, "paid");
  await screenshots(page, "paid");

  // API keys: create one (its secret shown once), then revoke it.
  await page.getByRole("link", { name: "API keys" }).click();
  await page.waitForURL(/\/dashboard\/keys/);
  await axe(page, "keys");
  await page.getByRole("button", { name: "Create key" }).click();
  const secret = (await page.locator("#key-secret").innerText()).trim();
  expect(secret.startsWith("pk_test_"), `new key: ${secret}`);
  await axe(page, "key created");
  await screenshots(page, "key-created");
  await page.getByRole("link", { name: "Back to the keys" }).click();
  expect(!(await page.content()).includes(secret), "the secret is shown again");
  const before = await page.locator("td", { hasText: /^revoked/ }).count();
  await page.locator("form[action$='/revoke'] button").first().click();
  await page.waitForURL(/\/dashboard\/keys/);
  expect((await page.locator("td", { hasText: /^revoked/ }).count()) === before + 1, "the key is shown revoked");
  await screenshots(page, "keys");

  // Webhook endpoints: register one (its secret shown once), see it listed.
  await page.getByRole("link", { name: "Webhooks" }).click();
  await page.waitForURL(/\/dashboard\/webhooks/);
  await page.getByLabel("URL").fill("https://hooks.example/payd");
  await page.getByRole("button", { name: "Register endpoint" }).click();
  expect((await page.locator("#hook-secret").innerText()).trim().length > 20, "the endpoint's secret");
  await axe(page, "endpoint created");
  await page.getByRole("link", { name: "Back to the endpoints" }).click();
  expect((await page.locator("dd", { hasText: "https://hooks.example/payd" }).count()) === 1, "the endpoint is listed");
  await axe(page, "webhooks");
  await screenshots(page, "webhooks");

  // Settings: a new xpub shows its first addresses before it can be saved.
  await page.getByRole("link", { name: "Settings" }).click();
  await page.waitForURL(/\/dashboard\/settings/);
  await axe(page, "settings");
  await page.getByLabel("EVM extended public key").fill(p.xpub);
  await page.getByRole("button", { name: "Preview addresses" }).click();
  const shown = await page.locator("ol li").allInnerTexts();
  expect(shown.length === 5 && shown[0] === p.firstAddress, `preview: ${shown.join(" ")}`);
  await axe(page, "settings preview");
  await screenshots(page, "settings-preview");
  await page.getByLabel("I found these addresses in my wallet").check();
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await page.waitForURL(/\/dashboard\/settings\?merchant=/);
  expect((await page.getByLabel("EVM extended public key").inputValue()) === p.xpub, "the xpub is saved");

  // Assets offered at checkout: tick USDT on Base off, save; the checkout of a payment
  // without a token no longer offers it, and still offers USDC on Base.
  const baseGroup = page.locator("fieldset", { has: page.locator("legend", { hasText: "(base)" }) });
  const usdtBase = baseGroup.getByLabel("USDT", { exact: true });
  expect(await usdtBase.isChecked(), "every asset is offered before the merchant chooses");
  await usdtBase.uncheck();
  await page.getByRole("button", { name: "Save assets" }).click();
  await page.waitForURL(/\/dashboard\/settings\?merchant=/);
  expect(!(await page.locator('input[name="asset"][value="USDT/base"]').isChecked()), "USDT on Base is ticked off");
  expect(await page.locator('input[name="asset"][value="USDC/base"]').isChecked(), "USDC on Base stays ticked");
  await axe(page, "settings assets");
  await screenshots(page, "settings-assets");
  const picker = await context.newPage();
  await picker.goto(p.pickerUrl);
  expect((await picker.locator('button[name="asset"][value="USDC:base"]').count()) === 1, "the checkout offers USDC on Base");
  expect((await picker.locator('button[name="asset"][value="USDT:base"]').count()) === 0, "the checkout no longer offers USDT on Base");
  await axe(picker, "checkout picker");
  await screenshots(picker, "checkout-picker");
  await picker.close();

  // The profile: a contact email and the site.
  await page.getByLabel("Contact email").fill("shop@example.com");
  await page.getByLabel("Site URL").fill("https://shop.example");
  await page.getByRole("button", { name: "Save profile" }).click();
  await page.waitForURL(/\/dashboard\/settings\?merchant=/);
  expect((await page.getByLabel("Contact email").inputValue()) === "shop@example.com", "the email is saved");

  // The audit log names what was just done.
  await page.getByRole("link", { name: "Audit log" }).click();
  await page.waitForURL(/\/dashboard\/audit/);
  const log = await page.locator("main").innerText();
  for (const action of ["session.login", "login.failed", "api_key.create", "api_key.revoke", "webhook_endpoint.create", "merchant.configure", "merchant.assets", "merchant.profile"]) {
    expect(log.includes(action), `the audit log lacks ${action}`);
  }
  await axe(page, "audit");
  await screenshots(page, "audit");

  expect(errors.length === 0, `console errors: ${errors.join(" | ")}`);
  console.log(JSON.stringify({ csv_rows: csv.length - 1, key: secret }));
  await browser.close();
} catch (e) {
  console.error(e && e.stack ? e.stack : String(e));
  await browser.close();
  process.exit(1);
}
