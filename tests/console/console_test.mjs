// The web console in real headless Chromium against a real updraftd and a fleet of
// real simulated devices (updraft-sim): a campaign created and started from the page
// runs to 100% and shows "completed"; a second one paused from the page shows
// "paused", and the API agrees. Screenshots go to UPDRAFT_ARTIFACTS.
//
// Run by CTest (tests/console/CMakeLists.txt), which passes the binaries' paths:
//   UPDRAFTD, UPDRAFT_CLI, UPDRAFT_SIM, UPDRAFT_ARTIFACTS; CHROMIUM overrides /usr/bin/chromium.
// A missing browser or binary fails the test; nothing here skips.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import crypto, { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { env, launchBrowser, registerDevice, startServer, until } from "./harness.mjs";

const CLI = env("UPDRAFT_CLI");
const SIM = env("UPDRAFT_SIM");
const ARTIFACTS = env("UPDRAFT_ARTIFACTS");
const FLEET_A = 16; // devices updated by the first campaign
const FLEET_B = 4; // devices of the campaign that gets paused

test("console drives a campaign to completion and pauses another", { timeout: 150_000 }, async (t) => {
  let page;
  try {
    await run(t, (p) => (page = p));
  } catch (e) {
    // What the page showed when it went wrong, next to the other screenshots.
    await page?.screenshot({ path: path.join(ARTIFACTS, "console-failure.png"), fullPage: true }).catch(() => {});
    throw e;
  }
});

async function run(t, exposePage) {
  for (const f of [env("UPDRAFTD"), CLI, SIM]) {
    assert.ok(fs.existsSync(f), `${f} is missing (build updraftd, updraft, updraft-sim)`);
  }
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  fs.rmSync(path.join(ARTIFACTS, "console-failure.png"), { force: true });
  const children = [];
  let browser;
  let data;
  t.after(async () => {
    await browser?.close().catch(() => {});
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    if (data) fs.rmSync(data, { recursive: true, force: true });
  });
  const started = Date.now();
  const log = (text) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)} s] ${text}`);

  // The server, on a free port, with a fast campaign scheduler.
  const server = await startServer(children, path.join(ARTIFACTS, "console_test-updraftd.log"));
  data = server.data;
  const { port, base, token, apiGet } = server;

  // The console's files come from the binary itself: no token, right types, ETag/304.
  const index = await fetch(`${base}/`);
  assert.equal(index.status, 200);
  assert.equal(index.headers.get("content-type"), "text/html; charset=utf-8");
  assert.match(await index.text(), /<script type="module" src="\/console\/main.js">/);
  const script = await fetch(`${base}/console/main.js`);
  assert.equal(script.headers.get("content-type"), "text/javascript; charset=utf-8");
  const etag = script.headers.get("etag");
  assert.match(etag, /^"[0-9a-f]+"$/);
  assert.equal((await fetch(`${base}/console/main.js`, { headers: { "If-None-Match": etag } })).status, 304);
  assert.equal((await fetch(`${base}/console/style.css`)).headers.get("content-type"), "text/css; charset=utf-8");
  assert.equal((await fetch(`${base}/console/nothing.js`)).status, 404);

  // A product and two releases, through the CLI as an operator would.
  const v1 = randomBytes(64 * 1024);
  const v2 = Buffer.from(v1);
  randomBytes(2000).copy(v2, 30_000);
  fs.writeFileSync(`${data}/v1.bin`, v1);
  fs.writeFileSync(`${data}/v2.bin`, v2);
  const cli = (...args) => execFileSync(CLI, args, { timeout: 20_000, encoding: "utf8",
    env: { ...process.env, UPDRAFT_SERVER: base, UPDRAFT_TOKEN_FILE: `${data}/admin.token` } });
  cli("product", "create", "console-test", "--profile", "mcu-tiny", "--slot-size", "1048576");
  for (const [file, version, counter] of [["v1.bin", "1.0.0", "1"], ["v2.bin", "2.0.0", "2"]]) {
    cli("release", "upload", `${data}/${file}`, "--product", "console-test", "--version", version,
      "--security-counter", counter, "--hardware", "board-a,board-b");
  }
  const { releases } = await apiGet("/releases");
  const release2 = releases.find((r) => r.version === "2.0.0");
  assert.ok(release2, "release 2.0.0 uploaded");

  // Two fleets: board-a updates during the test, board-b only registers and checks in.
  const sim = (hardware, prefix, devices, rounds) => ["--server", `127.0.0.1:${port}`, "--token-file",
    `${data}/admin.token`, "--product", "console-test", "--image", `${data}/v1.bin`, "--version",
    "1.0.0", "--target-version", "2.0.0", "-n", String(devices), "--hardware", hardware,
    "--id-prefix", prefix, "--threads", "2", "--max-rounds", String(rounds), "-q"];
  for (const [hardware, prefix, devices] of [["board-a", "a-", FLEET_A], ["board-b", "b-", FLEET_B]]) {
    execFileSync(SIM, sim(hardware, prefix, devices, 2), { timeout: 30_000, stdio: "ignore" });
  }
  const simLog = fs.openSync(path.join(ARTIFACTS, "console_test-sim.log"), "w");
  // Most devices sit out each round, as sleeping devices do, so updates spread out.
  const fleetA = spawn(SIM, [...sim("board-a", "a-", FLEET_A, 3000), "--offline-rate", "0.7"],
    { stdio: ["ignore", simLog, simLog] });
  children.push(fleetA);
  log(`updraftd on ${base}, ${FLEET_A + FLEET_B} devices registered, fleet board-a running`);

  browser = await launchBrowser();
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  exposePage(page);
  page.setDefaultTimeout(15_000);
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  // No token ever travels in a URL: the live stream opens with a one-time ticket.
  const tokenUrls = [];
  const streamUrls = [];
  page.on("request", (r) => {
    if (/[?&]token=/.test(r.url())) tokenUrls.push(r.url());
    if (r.url().includes("/api/v1/events?")) streamUrls.push(r.url());
  });
  const shot = (name) => page.screenshot({ path: path.join(ARTIFACTS, name), fullPage: true });
  const text = (id) => page.getByTestId(id).first().textContent();
  const percent = async (id) => Number(await page.getByTestId(id).first().getAttribute("data-percent"));

  // A wrong token: the API's error shows, number and all, and the sign-in form stays.
  await page.goto(`${base}/#token=not-a-token`);
  await page.getByTestId("login").waitFor();
  assert.match(await text("error-text"), /^UNAUTHORIZED \(701\): /);

  // The ready link signs in and opens the campaigns; the live stream connects.
  await page.goto(`${base}/#token=${encodeURIComponent(token)}`);
  await page.getByTestId("campaigns-view").waitFor();
  await until("the live event stream", 10_000, async () => (await text("live-status")) === "live");

  // Create the first campaign from the form (a draft), then start it from its page.
  const form = page.getByTestId("create-campaign");
  await form.getByTestId("create-release").selectOption(String(release2.id));
  await form.getByTestId("create-name").fill("board-a rollout");
  await form.getByTestId("create-phases").fill("50%,100%");
  await form.getByTestId("create-success").fill("0.8");
  await form.getByTestId("create-hardware").fill("board-a");
  // One download at a time, so the bar has steps to show on the way to 100%.
  await form.getByTestId("create-max-downloads").fill("1");
  await form.getByTestId("create-submit").click();
  await page.getByTestId("campaign-view").waitFor();
  const first = Number(await page.getByTestId("campaign-view").getAttribute("data-campaign"));
  await until("the draft's state", 10_000, async () => (await text("campaign-state")) === "draft");
  const seen = [await percent("campaign-progress")];
  assert.ok(seen[0] < 100, `a draft shows ${seen[0]}%`);
  assert.equal(await page.getByTestId("deployments-table").locator("tbody tr").count(), FLEET_A);
  await page.getByTestId("action-start").click();
  log(`campaign ${first} started from the page`);

  // Live updates move the bar; nothing but the page's own refreshes is polled here.
  await until("campaign 1 completed at 100%", 60_000, async () => {
    const p = await percent("campaign-progress");
    if (p !== seen[seen.length - 1]) seen.push(p);
    return p === 100 && (await text("campaign-state")) === "completed";
  });
  log(`campaign ${first} completed; the page showed ${seen.join("% → ")}%`);
  assert.ok(seen.some((p) => p > 0 && p < 100), `the bar moved through intermediate values: ${seen}`);
  assert.equal(seen.at(-1), 100);
  for (const i of [0, 1]) assert.equal(await percent(`phase-progress-${i}`), 100, `phase ${i + 1}`);
  await until("every device row succeeded", 10_000, async () =>
    (await page.getByTestId("deployments-table").locator("tbody tr", { hasText: "succeeded" }).count()) === FLEET_A);
  assert.equal((await apiGet(`/campaigns/${first}`)).state, "completed");
  await shot("console-campaign-completed.png");

  // The devices view filters by version: the updated fleet runs 2.0.0.
  await page.getByTestId("tab-devices").click();
  await page.getByTestId("filter-version").fill("2.0.0");
  // Every device of the first fleet runs 2.0.0, by its success report alone.
  await until("the fleet's success reports recorded", 10_000, async () =>
    (await apiGet("/devices?version=2.0.0")).total === FLEET_A);
  await page.getByTestId("filter-apply").click();
  await until("devices filtered by version", 10_000, async () =>
    (await text("devices-total")) === `${FLEET_A} shown of ${FLEET_A}`);
  const versions = await page.getByTestId("devices-table").locator("tbody tr td:nth-child(5)").allTextContents();
  assert.deepEqual(new Set(versions), new Set(["2.0.0"]));
  await shot("console-devices.png");

  // The second campaign is created started ("start now") and paused from its page.
  // Its fleet stays idle but for one device this test drives by hand through the
  // device API, so the page must show that device's progress and error as reported.
  const manual = await registerDevice(base, token, "c-manual", "console-test", "board-b");
  await page.getByTestId("tab-campaigns").click();
  await form.getByTestId("create-release").selectOption(String(release2.id));
  await form.getByTestId("create-name").fill("board-b rollout");
  await form.getByTestId("create-phases").fill("100%");
  await form.getByTestId("create-failure").fill("0.5");
  await form.getByTestId("create-hardware").fill("board-b");
  await form.getByTestId("create-start-now").check();
  await form.getByTestId("create-submit").click();
  await until("the second campaign's page", 10_000, async () => {
    const id = await page.getByTestId("campaign-view").getAttribute("data-campaign").catch(() => null);
    return id && Number(id) !== first && (await text("campaign-state")) === "running";
  });
  const second = Number(await page.getByTestId("campaign-view").getAttribute("data-campaign"));
  assert.equal(await page.getByTestId("deployments-table").locator("tbody tr").count(), FLEET_B + 1);

  const offer = await manual.checkIn(crypto.createHash("sha256").update(v1).digest("hex"));
  await manual.report(offer.deployment, { phase: "downloading", progress: 40 });
  await until("the device's 40% on the page", 10_000, async () =>
    (await percent("device-progress-c-manual")) === 40);
  await manual.report(offer.deployment, { phase: "failure", progress: 40, error: 202 });
  const failedRow = page.getByTestId("deployment-c-manual");
  await until("the device's error on the page", 10_000, async () =>
    /failed/.test(await failedRow.textContent()));
  assert.equal(await failedRow.getByTestId("error-number").textContent(),
    "202 HASH_MISMATCH — SHA-256 does not match");
  await shot("console-campaign-failure-shown.png");

  await page.getByTestId("action-pause").click();
  await until("campaign 2 paused on the page", 10_000, async () => (await text("campaign-state")) === "paused");
  assert.equal((await apiGet(`/campaigns/${second}`)).state, "paused");
  assert.ok(await page.getByTestId("action-resume").isVisible(), "a paused campaign offers Resume");
  await shot("console-campaign-paused.png");

  // The list shows both, and the audit log records what the page did.
  await page.getByTestId("tab-campaigns").click();
  await until("both campaigns listed", 10_000, async () =>
    (await text(`campaign-row-state-${first}`)) === "completed" &&
    (await text(`campaign-row-state-${second}`)) === "paused");
  await shot("console-campaigns.png");
  await page.getByTestId("tab-audit").click();
  await page.getByTestId("audit-table").locator("tbody tr", { hasText: "campaign.pause" }).first().waitFor();
  await shot("console-audit.png");

  // Releases and products are listed as uploaded.
  await page.getByTestId("tab-releases").click();
  assert.match(await page.getByTestId(`release-${release2.id}`).textContent(), /console-test2\.0\.02board-a, board-b64\.0 KB/);
  await shot("console-releases.png");
  await page.getByTestId("tab-products").click();
  assert.match(await page.getByTestId("product-console-test").textContent(), /console-testmcu-tiny1\.00 MB/);

  // The devices view keeps a device's last error after its deployment ended.
  await page.getByTestId("tab-devices").click();
  await page.getByTestId("filter-version").fill("1.0.0");
  await page.getByTestId("filter-apply").click();
  const manualRow = page.getByTestId("device-c-manual");
  await manualRow.waitFor();
  assert.match(await manualRow.textContent(), /failed/);
  assert.equal(await manualRow.getByTestId("error-number").textContent(),
    "202 HASH_MISMATCH — SHA-256 does not match");

  // A serial number is set from the devices view (EnOS sub-devices prove themselves with it).
  page.once("dialog", (dialog) => dialog.accept("SN-0042"));
  await page.getByTestId("serial-edit-c-manual").click();
  await until("the serial shows", 10_000, async () =>
    (await page.getByTestId("serial-c-manual").textContent()) === "SN-0042");
  const stored = await (await fetch(`${base}/api/v1/devices/c-manual`, {
    headers: { authorization: `Bearer ${token}` },
  })).json();
  assert.equal(stored.serial, "SN-0042");

  assert.deepEqual(pageErrors, [], "no script errors on the page");
  assert.deepEqual(tokenUrls, [], "no token in any URL the page asked for");
  assert.ok(streamUrls.length > 0 && streamUrls.every((u) => /\/api\/v1\/events\?ticket=[0-9a-f]{96}$/.test(u)),
    `the live stream opened with tickets: ${streamUrls}`);

  // A clean stop with the browser's event stream still open (and, in the asan
  // preset, no leak report, which would make the exit code non-zero).
  fleetA.kill("SIGKILL");
  const { code, signal } = await server.stop();
  assert.equal(code, 0, `updraftd stopped with ${code ?? signal}`);
  log("done");
}
