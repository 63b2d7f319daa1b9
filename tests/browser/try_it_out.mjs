// Opens Swagger UI at URL with Debian's Chromium (through playwright-core), checks that the
// service's APIs are listed, runs API through "Try it out" with its example body, and prints
// the response code Swagger UI shows. Exits non-zero on any failure.
//
//   node tests/browser/try_it_out.mjs http://127.0.0.1:3000 /run SCREENSHOT.png
import { createRequire } from "module";
import path from "path";
import { fileURLToPath } from "url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const require = createRequire(path.join(root, ".deps/npm/node_modules/"));
const { chromium } = require("playwright-core");

const [url, route, screenshot] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage();
  await page.goto(url + "/", { waitUntil: "load" });
  const block = page.locator(`.opblock-post:has(.opblock-summary-path[data-path="${route}"])`);
  await block.first().waitFor({ timeout: 30000 });
  const listed = await page.locator(".opblock-summary-path").allTextContents();
  console.log("listed: " + listed.map((s) => s.replace(/\u200b/g, "")).join(" "));
  await block.first().locator(".opblock-summary").click();
  await block.first().locator("button.try-out__btn").click();
  await block.first().locator("button.execute").click();
  const status = block.first().locator(".live-responses-table tbody .response-col_status").first();
  await status.waitFor({ timeout: 30000 });
  console.log("status: " + (await status.textContent()).trim());
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
} finally {
  await browser.close();
}
