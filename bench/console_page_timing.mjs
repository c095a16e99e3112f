// The devices page's timings in headless Chromium, for bench/console_bench.py:
// navigation to #/devices until its first rows show, and an id-prefix search typed
// into the page until its rows show. Each run opens a fresh page (no cache).
//   node bench/console_page_timing.mjs http://127.0.0.1:PORT TOKEN DEVICES [RUNS]
// (DEVICES: how many the fixture made, dev-000000 on, so each search finds 10.)
// Prints one JSON line: {"first_page":[ms...],"search":[ms...]}.
import { chromium } from "playwright-core";

const [base, token, devicesArg, runsArg] = process.argv.slice(2);
const devices = Number(devicesArg);
const runs = Number(runsArg ?? 5);
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
const out = { first_page: [], search: [] };
try {
  for (let i = 0; i < runs; i++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.addInitScript((t) => localStorage.setItem("updraft.token", t), token);
    const page = await context.newPage();
    const t0 = Date.now();
    await page.goto(`${base}/#/devices`);
    await page.getByTestId("devices-table").locator("tbody tr").nth(49).waitFor({ timeout: 30_000 });
    out.first_page.push(Date.now() - t0);

    const prefix = `dev-${String(Math.floor(devices * 0.4) + i * 7).padStart(6, "0").slice(0, 5)}`;
    await page.getByTestId("filter-id").fill(prefix);
    const t1 = Date.now();
    await page.getByTestId("filter-apply").click();
    await page.waitForFunction((p) => {
      const rows = [...document.querySelectorAll('[data-testid="devices-table"] tbody tr')];
      return rows.length > 0 && rows.every((r) => r.dataset.testid.startsWith(`device-${p}`));
    }, prefix, { timeout: 30_000 });
    out.search.push(Date.now() - t1);
    await context.close();
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
