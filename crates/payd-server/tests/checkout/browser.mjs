// The checkout page in headless Chromium (playwright-core driving Debian's chromium), one
// scenario per run: `node browser.mjs <scenario> '<json params>'`. Called by
// tests/api/checkout.rs, which boots payd and creates the payments; this script fails (exit 1,
// the reason on stderr) on the first thing that is not as expected, and prints one JSON line
// of measurements on success. QR codes are decoded from the rendered page by two real
// decoders (Debian's zbarimg and npm's jsqr); axe-core checks accessibility.
import { chromium } from "playwright-core";
import AxeBuilder from "@axe-core/playwright";
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(import.meta.url);
const [scenario, raw] = process.argv.slice(2);
const params = JSON.parse(raw || "{}");
const shots = params.shots || "target/checkout";
mkdirSync(shots, { recursive: true });

function fail(message) {
  throw new Error(`${scenario}: ${message}`);
}
function expect(cond, message) {
  if (!cond) fail(message);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// How long to wait for anything the server does (a page, a block, a credit): bounds on a
// wait, not assertions on speed; generous, because the suite shares two cores with
// everything else it runs.
const PATIENCE = 120000;

const browser = await chromium.launch({
  executablePath: process.env.PAYD_CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox"],
});

/** A page that records console errors and failed requests. */
async function open(options = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
  context.setDefaultTimeout(PATIENCE);
  context.setDefaultNavigationTimeout(PATIENCE);
  const page = await context.newPage();
  page.errors = [];
  page.on("console", (m) => {
    if (m.type() === "error") page.errors.push(`${m.text()} (${m.location().url})`);
  });
  page.on("pageerror", (e) => page.errors.push(String(e)));
  return page;
}

/** Both decoders read the QR code as it is drawn on screen, and must agree. */
async function decodeQr(page, name) {
  const png = await page.locator("#qr svg").screenshot();
  const file = path.join(shots, `${name}-qr.png`);
  writeFileSync(file, png);
  const zbar = execFileSync("zbarimg", ["--raw", "-q", file], { encoding: "utf8" }).trim();
  // jsqr on the same pixels, in a blank page (no CSP there) that draws the PNG on a canvas.
  const blank = await browser.newPage();
  await blank.addScriptTag({ path: require.resolve("jsqr/dist/jsQR.js") });
  const jsqr = await blank.evaluate(async (b64) => {
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const c = document.createElement("canvas");
    c.width = img.width;
    c.height = img.height;
    const ctx = c.getContext("2d");
    ctx.drawImage(img, 0, 0);
    const data = ctx.getImageData(0, 0, c.width, c.height);
    const code = window.jsQR(data.data, c.width, c.height);
    return code ? code.data : null;
  }, png.toString("base64"));
  await blank.close();
  expect(zbar === jsqr, `zbarimg read ${zbar}, jsqr read ${jsqr}`);
  return zbar;
}

async function axe(page, name) {
  const result = await new AxeBuilder({ page }).analyze();
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  expect(bad.length === 0, `${name}: axe: ${JSON.stringify(bad.map((v) => [v.id, v.impact, v.nodes.map((n) => n.target)]))}`);
}

async function screenshots(page, name) {
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.screenshot({ path: path.join(shots, `${name}-1280.png`), fullPage: true });
  await page.setViewportSize({ width: 360, height: 780 });
  await page.screenshot({ path: path.join(shots, `${name}-360.png`), fullPage: true });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(overflow <= 360, `${name}: ${overflow}px wide at a 360px viewport`);
  await page.setViewportSize({ width: 1280, height: 900 });
}

function checkHeaders(res) {
  const csp = res.headers()["content-security-policy"] || "";
  expect(csp.includes("script-src 'self'") && csp.includes("default-src 'none'"), `CSP: ${csp}`);
  expect(!csp.includes("unsafe-inline"), `CSP allows inline code: ${csp}`);
  expect((res.headers()["content-type"] || "").startsWith("text/html"), "not HTML");
}

async function waitFor(page, selector, ms, what) {
  try {
    await page.locator(selector).first().waitFor({ timeout: ms });
  } catch {
    fail(`${what}: ${selector} did not appear; status reads: ${await page.locator("#status").innerText().catch(() => "?")}`);
  }
}

const scenarios = {
  // Amount, address and QR; a partial payment and its remainder; full payment, live; then
  // the redirect to the shop.
  async pay(p) {
    const page = await open();
    const res = await page.goto(p.url);
    expect(res.status() === 200, `status ${res.status()}`);
    checkHeaders(res);
    const html = (await res.body()).length;
    const qrBytes = await page.evaluate(() => document.querySelector("#qr svg").outerHTML.length);
    const asset = async (sel, attr) => {
      const href = await page.locator(sel).getAttribute(attr);
      const r = await page.request.get(new URL(href, p.url).toString());
      expect((r.headers()["cache-control"] || "").includes("immutable"), `${href} is not cached`);
      return (await r.body()).length;
    };
    const css = await asset("link[rel=stylesheet]", "href");
    const js = await asset("script[src]", "src");
    expect((await page.locator("#amount").innerText()).startsWith(p.amount), `amount ${await page.locator("#amount").innerText()}`);
    expect((await page.locator("#address").getAttribute("data-address")) === p.address, "address");
    const grouped = (await page.locator("#address").innerText()).replace(/\s+/g, "");
    expect(grouped === p.address, `the shown address ${grouped} is not the whole address`);
    const qr = await decodeQr(page, `${p.name}-waiting`);
    expect(qr === p.uri, `QR holds ${qr}, expected ${p.uri}`);
    if (p.uri.startsWith("ethereum:")) {
      expect((await page.locator("#wallet-link").getAttribute("href")) === p.uri, "wallet link");
    }
    await axe(page, "waiting");
    await screenshots(page, `${p.name}-waiting`);

    // Live from here on: the marker would vanish with a reload.
    await page.evaluate(() => {
      window.__notReloaded = true;
    });
    await page.click("button[value=part]");
    await waitFor(page, "#status.partially_paid", PATIENCE, "partial payment");
    await waitFor(page, "#qr", PATIENCE, "remainder QR");
    expect(await page.evaluate(() => window.__notReloaded === true), "the page reloaded");
    const rest = await decodeQr(page, `${p.name}-partial`);
    expect(rest === p.remainderUri, `remainder QR holds ${rest}, expected ${p.remainderUri}`);
    expect((await page.locator("#amount").innerText()).startsWith(p.remainder), `remainder ${await page.locator("#amount").innerText()}`);
    await axe(page, "partial");
    await screenshots(page, `${p.name}-partial`);

    const started = Date.now();
    await page.click("button[value=full]");
    await waitFor(page, "#status.paid", PATIENCE, "full payment");
    const paidAfter = Date.now() - started;
    expect(await page.evaluate(() => window.__notReloaded === true), "the page reloaded");
    await page.screenshot({ path: path.join(shots, `${p.name}-paid-1280.png`), fullPage: true });
    await axe(page, "paid");
    expect(page.errors.length === 0, `console errors: ${page.errors.join(" | ")}`);
    if (p.successUrl) {
      await page.waitForURL(p.successUrl, { timeout: PATIENCE });
    }
    return { html, css, js, qr: qrBytes, weight_without_qr: html - qrBytes + css + js, paid_after_ms: paidAfter };
  },

  // A payment created without a token: the customer picks one, then pays to its address.
  async choose(p) {
    const page = await open();
    const res = await page.goto(p.url);
    checkHeaders(res);
    await waitFor(page, "form.choose", PATIENCE, "the choice");
    await axe(page, "choose");
    await screenshots(page, "choose");
    await page.click(`form.choose button[value="${p.asset}"]`);
    await waitFor(page, "#qr", PATIENCE, "the chosen asset's QR code");
    const address = await page.locator("#address").getAttribute("data-address");
    const qr = await decodeQr(page, "chosen");
    expect(qr === `${p.uriPrefix}${address}${p.uriSuffix}`, `QR holds ${qr}`);
    expect((await page.locator("details.switch").count()) === 1, "no way to switch");
    if (p.countdown) {
      // The script's tick keeps the server's rule (days and hours past a day).
      await page.waitForTimeout(1200);
      const shown = (await page.locator("#countdown").textContent()).trim();
      expect(new RegExp(p.countdown).test(shown), `countdown reads ${shown}`);
    }
    await axe(page, "chosen");
    expect(page.errors.length === 0, `console errors: ${page.errors.join(" | ")}`);
    return {};
  },

  // A browser wallet: an EIP-1193 provider, announced over EIP-6963, whose requests go to
  // anvil (through an exposed function: the page's CSP rightly allows it no other host).
  async wallet(p) {
    const page = await open();
    const sent = [];
    // The wallet starts on Ethereum mainnet: the page must ask it to switch.
    let chain = "0x1";
    await page.exposeFunction("__anvil", async (method, params) => {
      sent.push(method);
      if (method === "eth_requestAccounts" || method === "eth_accounts") return [p.account];
      if (method === "eth_chainId") return chain;
      if (method === "wallet_switchEthereumChain") {
        if (params[0].chainId !== p.chainId) throw new Error("4902 unknown chain");
        chain = params[0].chainId;
        return null;
      }
      if (method === "eth_sendTransaction") expect(chain === p.chainId, "sent before switching chain");
      const r = await fetch(p.rpc, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params: params || [] }),
      });
      const v = await r.json();
      if (v.error) throw new Error(JSON.stringify(v.error));
      return v.result;
    });
    await page.addInitScript(() => {
      const provider = { request: ({ method, params }) => window.__anvil(method, params) };
      const announce = () =>
        window.dispatchEvent(
          new CustomEvent("eip6963:announceProvider", {
            detail: Object.freeze({ info: { uuid: "0", name: "Test wallet", icon: "", rdns: "test.payd" }, provider }),
          }),
        );
      window.addEventListener("eip6963:requestProvider", announce);
    });
    const res = await page.goto(p.url);
    checkHeaders(res);
    expect((await decodeQr(page, "wallet")) === p.uri, "the live EIP-681 QR code");
    await waitFor(page, "#browser-wallet:not([hidden])", PATIENCE, "the wallet button");
    await page.evaluate(() => {
      window.__notReloaded = true;
    });
    const started = Date.now();
    await page.click("#browser-wallet");
    await waitFor(page, "#status.paid", PATIENCE, "paid after the wallet's transfer");
    expect(await page.evaluate(() => window.__notReloaded === true), "the page reloaded");
    expect(sent.includes("wallet_switchEthereumChain"), `requests: ${sent}`);
    expect(sent.includes("eth_sendTransaction"), `requests: ${sent}`);
    await page.screenshot({ path: path.join(shots, "wallet-paid-1280.png"), fullPage: true });
    expect(page.errors.length === 0, `console errors: ${page.errors.join(" | ")}`);
    return { requests: sent, paid_after_ms: Date.now() - started };
  },

  // For each page: pay in full, and note when "paid" appears (a DOM mutation, timed in the
  // page): the caller compares it with the time its confirming block was mined.
  async latency(p) {
    const paidAt = [];
    for (const url of p.urls) {
      const page = await open();
      await page.addInitScript(() => {
        new MutationObserver(() => {
          if (!window.__paidAt && document.querySelector("#status.paid")) window.__paidAt = Date.now();
        }).observe(document, { subtree: true, childList: true, attributes: true });
      });
      await page.goto(url);
      await waitFor(page, "#status.waiting", PATIENCE, "waiting");
      await page.click("button[value=full]");
      const at = await page.waitForFunction(() => window.__paidAt, null, { timeout: PATIENCE });
      paidAt.push(await at.jsonValue());
      await page.context().close();
    }
    return { paid_at_ms: paidAt };
  },

  // Embedded in a shop's page: the parent hears each stage over postMessage.
  async embed(p) {
    const page = await open();
    await page.goto(p.shop);
    await page.evaluate((url) => {
      window.__stages = [];
      window.addEventListener("message", (e) => {
        if (e.data && e.data.source === "payd-checkout") window.__stages.push(e.data.stage);
      });
      const f = document.createElement("iframe");
      f.src = url;
      f.title = "checkout";
      f.width = "420";
      f.height = "900";
      document.body.appendChild(f);
    }, p.url);
    await page.waitForFunction(() => window.__stages.includes("waiting"), null, { timeout: PATIENCE });
    const frame = page.frameLocator("iframe");
    await frame.locator("button[value=full]").click();
    await page.waitForFunction(() => window.__stages.includes("paid"), null, { timeout: PATIENCE });
    return { stages: await page.evaluate(() => window.__stages) };
  },

  // Without JavaScript: the page reloads itself and reaches "paid", then the shop.
  async nojs(p) {
    const page = await open({ javaScriptEnabled: false });
    const res = await page.goto(p.url);
    checkHeaders(res);
    await waitFor(page, "#status.waiting", PATIENCE, "waiting");
    expect((await page.locator("noscript").count()) > 0, "no refresh for scriptless browsers");
    await page.click("button[value=full]");
    const until = Date.now() + PATIENCE;
    while (Date.now() < until) {
      if ((await page.locator("#status.paid").count().catch(() => 0)) > 0) break;
      await sleep(300);
    }
    expect((await page.locator("#status.paid").count().catch(() => 0)) > 0, "never reached paid without JavaScript");
    await page.waitForURL(p.successUrl, { timeout: PATIENCE });
    return {};
  },

  // A page in a final state (expired, cancelled, paid late): its heading, accessibility,
  // screenshots.
  async state(p) {
    const page = await open();
    const res = await page.goto(p.url);
    expect(res.status() === 200, `status ${res.status()}`);
    checkHeaders(res);
    await waitFor(page, `#status.${p.stage}`, PATIENCE, p.stage);
    const text = await page.locator("#status").innerText();
    expect(text.includes(p.text), `${p.stage}: "${text}" lacks "${p.text}"`);
    await axe(page, p.stage);
    await screenshots(page, p.name);
    expect(page.errors.length === 0, `console errors: ${page.errors.join(" | ")}`);
    return {};
  },

  // The cancel button cancels and leads to the shop's cancel page.
  async cancel(p) {
    const page = await open();
    await page.goto(p.url);
    await page.click("form.cancel button");
    await page.waitForURL(p.cancelUrl, { timeout: PATIENCE });
    return {};
  },

  // Unknown links: the HTML 404 page.
  async notfound(p) {
    const page = await open();
    for (const url of p.urls) {
      const res = await page.goto(url);
      expect(res.status() === 404, `${url}: status ${res.status()}`);
      checkHeaders(res);
      expect((await page.locator("h1").innerText()).length > 0, `${url}: no heading`);
      await axe(page, "404");
    }
    await screenshots(page, "not-found");
    return {};
  },

  // ?lang= first, then Accept-Language.
  async lang(p) {
    const page = await open();
    await page.goto(`${p.url}?lang=es`);
    expect((await page.locator("html").getAttribute("lang")) === "es", "lang=es");
    expect((await page.locator("#status").innerText()).includes("Esperando tu pago"), "Spanish text");
    await screenshots(page, "lang-es");
    const tr = await open({ locale: "tr-TR" });
    await tr.goto(p.url);
    expect((await tr.locator("html").getAttribute("lang")) === "tr", "Accept-Language tr");
    expect((await tr.locator("#status").innerText()).includes("Ödemeniz bekleniyor"), "Turkish text");
    const zh = await open({ locale: "zh-CN" });
    await zh.goto(`${p.url}?lang=zh`);
    await screenshots(zh, "lang-zh");
    await axe(zh, "zh");
    return {};
  },
};

try {
  const run = scenarios[scenario];
  if (!run) fail("unknown scenario");
  const out = await run(params);
  console.log(JSON.stringify(out));
  await browser.close();
} catch (e) {
  console.error(e && e.stack ? e.stack : String(e));
  await browser.close();
  process.exit(1);
}
