// The live dashboard in Chromium while the stack is under load (started by
// tests/api/browser.rs, which makes the load):
//
//   node tests/browser/dashboard.mjs BASE_URL OUTPUT_DIR
//
// Waits until the charts hold several seconds of points with requests
// flowing and the edge answering from its cache, then saves a screenshot.
// Fails on any console or page error.

import { createRequire } from "node:module";
import { join } from "node:path";
import { mkdirSync } from "node:fs";
import assert from "node:assert/strict";

const [base, outDir] = process.argv.slice(2);
const require = createRequire(join(process.env.NODE_MODULES, "noop.js"));
const { chromium } = require("playwright-core");
mkdirSync(outDir, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless=new", "--no-sandbox"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => message.type() === "error" && problems.push(`console: ${message.text()}`));
  await page.goto(`${base}/_local/dashboard`);
  await page.waitForFunction(() => Number(document.body.dataset.points || 0) >= 6, null, { timeout: 30_000 });
  const status = await page.textContent("#now");
  const rate = Number(status.match(/^(\d+) API requests\/s/)?.[1]);
  const hitRate = Number(status.match(/edge hit rate ([\d.]+) %/)?.[1]);
  assert.ok(rate > 0, `requests are plotted: ${status}`);
  assert.ok(hitRate > 0, `the edge's hit rate is plotted: ${status}`);
  assert.equal(await page.locator(".uplot").count(), 6, "six charts");
  await page.screenshot({ path: join(outDir, "dashboard.png"), fullPage: true });
  assert.deepEqual(problems, []);
  console.log(`dashboard passed: ${status}`);
} finally {
  await browser.close();
}
