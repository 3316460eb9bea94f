// What every dashboard browser script shares: its JSON params (argv[2]), the screenshot
// directory, `expect` (throws with the script's label), Chromium (Debian's, driven by
// playwright-core), axe-core (no serious or critical violation allowed), and screenshots at
// 1280 and 360 px (a page wider than 360 px at 360 is a fault; axe runs again at 360).
import { chromium } from "playwright-core";
import AxeBuilder from "@axe-core/playwright";
import { mkdirSync } from "node:fs";
import path from "node:path";

export async function open(label, defaultShots) {
  const p = JSON.parse(process.argv[2] || "{}");
  const shots = p.shots || defaultShots;
  mkdirSync(shots, { recursive: true });

  function expect(cond, message) {
    if (!cond) throw new Error(`${label}: ${message}`);
  }

  const browser = await chromium.launch({
    executablePath: process.env.PAYD_CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox"],
  });

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
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(width <= 360, `${name}: ${width}px wide at a 360px viewport`);
    await axe(page, `${name} at 360px`);
    await page.setViewportSize({ width: 1280, height: 900 });
  }

  return { p, shots, expect, browser, axe, screenshots };
}
