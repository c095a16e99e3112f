// A fleet operator's workflows, every one through the console's pages in real
// headless Chromium against a real updraftd, at a desktop and at a phone viewport:
// create a product, upload releases (with the upload progress bar), register a
// device and edit its tags, run a campaign in which the device fails, resume the
// campaign (that paused itself) with a higher threshold, retry the device, watch it
// succeed, read its history (both attempts) and its log, see the delta on the
// release page, delete a draft campaign and an unused release, make and revoke a
// token, and sign in as a viewer who is offered no changes. The device is driven
// by hand over the device API, as a real one would report. Screenshots go to
// UPDRAFT_ARTIFACTS/console-<viewport>-*.png.
import { test } from "node:test";
import assert from "node:assert/strict";
import crypto, { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { deviceClient, env, launchBrowser, startServer, until } from "./harness.mjs";

const ARTIFACTS = env("UPDRAFT_ARTIFACTS");
const sha256 = (bytes) => crypto.createHash("sha256").update(bytes).digest("hex");

const viewports = {
  desktop: { width: 1280, height: 900 },
  phone: { width: 390, height: 844 },
};

for (const [name, viewport] of Object.entries(viewports)) {
  test(`console workflows at the ${name} viewport`, { timeout: 120_000 }, async (t) => {
    let page;
    try {
      await run(t, name, viewport, (p) => (page = p));
    } catch (e) {
      await page?.screenshot({ path: path.join(ARTIFACTS, `console-${name}-failure.png`), fullPage: true })
        .catch(() => {});
      throw e;
    }
  });
}

async function run(t, name, viewport, exposePage) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  fs.rmSync(path.join(ARTIFACTS, `console-${name}-failure.png`), { force: true });
  const children = [];
  let browser;
  let server;
  t.after(async () => {
    await browser?.close().catch(() => {});
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    if (server) fs.rmSync(server.data, { recursive: true, force: true });
  });
  server = await startServer(children, path.join(ARTIFACTS, `console_workflows_${name}-updraftd.log`));
  const { base, token, call, apiGet } = server;

  const v1 = randomBytes(96 * 1024);
  const v2 = Buffer.from(v1);
  randomBytes(3000).copy(v2, 40_000);
  const v3 = Buffer.from(v2);
  randomBytes(500).copy(v3, 1000);
  for (const [file, bytes] of [["v1.bin", v1], ["v2.bin", v2], ["v3.bin", v3]]) {
    fs.writeFileSync(path.join(server.data, file), bytes);
  }

  browser = await launchBrowser();
  const page = await browser.newPage({ viewport });
  exposePage(page);
  page.setDefaultTimeout(15_000);
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  const shot = (what) => page.screenshot({ path: path.join(ARTIFACTS, `console-${name}-${what}.png`), fullPage: true });
  const text = (id) => page.getByTestId(id).first().textContent();
  // Prompts and confirmations answer what the next step queued.
  const answers = [];
  page.on("dialog", (dialog) => {
    const answer = answers.shift();
    if (answer === false) dialog.dismiss();
    else dialog.accept(typeof answer === "string" ? answer : undefined);
  });
  // A phone shows the whole page in its width: tables scroll inside themselves.
  const fitsWidth = async (what) => {
    const { scroll, width } = await page.evaluate(() =>
      ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
    assert.ok(scroll <= width + 1, `${what}: the page is ${scroll} px wide in a ${width} px window`);
  };

  await page.goto(`${base}/#token=${encodeURIComponent(token)}`);
  await page.getByTestId("campaigns-view").waitFor();
  assert.equal(await text("whoami"), "admin (admin)");

  // A product, from its form.
  await page.getByTestId("tab-products").click();
  await page.getByTestId("product-name").fill("wf");
  await page.getByTestId("product-profile").selectOption("mcu-tiny");
  await page.getByTestId("product-slot").fill("1048576");
  await page.getByTestId("product-submit").click();
  await page.getByTestId("product-wf").waitFor();
  assert.match(await text("product-wf"), /wfmcu-tiny1\.00 MB/);
  await fitsWidth("products");
  await shot("products");

  // Three releases, uploaded from the page; the bar follows each upload.
  await page.getByTestId("tab-releases").click();
  const upload = async (file, version, counter) => {
    await page.getByTestId("upload-file").setInputFiles(path.join(server.data, file));
    await page.getByTestId("upload-product").selectOption("wf");
    await page.getByTestId("upload-version").fill(version);
    await page.getByTestId("upload-counter").fill(counter);
    await page.getByTestId("upload-hardware").fill("board-a");
    await page.evaluate(() => {
      const box = document.querySelector('[data-testid="upload-progress-box"]');
      window.uploadPercents = [];
      new MutationObserver(() => {
        const bar = box.querySelector('[data-testid="upload-progress"]');
        if (bar) window.uploadPercents.push(Number(bar.getAttribute("data-percent")));
      }).observe(box, { childList: true, subtree: true });
    });
    await page.getByTestId("upload-submit").click();
    await until(`release ${version} uploaded`, 10_000, async () =>
      (await page.getByTestId("upload-done").count()) > 0 &&
      (await text("upload-done")).includes(`wf ${version}`));
    const seen = await page.evaluate(() => window.uploadPercents);
    assert.ok(seen.length > 0 && seen.at(-1) === 100, `the upload bar showed ${seen} for ${version}`);
  };
  await upload("v1.bin", "1.0.0", "1");
  await upload("v2.bin", "2.0.0", "2");
  await upload("v3.bin", "3.0.0", "3");
  const { releases } = await apiGet("/releases");
  const id = Object.fromEntries(releases.map((r) => [r.version, r.id]));
  assert.deepEqual(releases.map((r) => r.sha256), [sha256(v3), sha256(v2), sha256(v1)], "newest first");
  await fitsWidth("releases");
  await shot("releases");

  // Two devices, registered from the devices page; the secret shows once.
  await page.getByTestId("tab-devices").click();
  const register = async (deviceId, tags, serial = "") => {
    await page.getByTestId("register-id").fill(deviceId);
    await page.getByTestId("register-product").selectOption("wf");
    await page.getByTestId("register-hardware").fill("board-a");
    await page.getByTestId("register-tags").fill(tags);
    await page.getByTestId("register-serial").fill(serial);
    await page.getByTestId("register-submit").click();
    await until(`${deviceId}'s secret`, 10_000, async () =>
      (await page.getByTestId("register-result").textContent()).includes(`Device ${deviceId} registered`));
    return text("register-secret");
  };
  const secret = await register("wf-meter-1", "pilot", "SN-WF-0001");  // its EnOS serial
  assert.match(secret, /^\S{16,}$/);
  await register("other-1", "");
  const device = await deviceClient(base, "wf-meter-1", secret);
  assert.equal((await device.checkInOnce(sha256(v1))).update, false);

  // Lists are paged on the server: 60 more devices make two pages of 50.
  for (let i = 0; i < 60; i++) {
    const r = await call("POST", "/devices", { id: `bulk-${String(i).padStart(2, "0")}`, product: "wf",
      hardware: "board-a" });
    assert.equal(r.status, 201);
  }
  await page.getByTestId("filter-apply").click();
  await until("the first page", 10_000, async () => (await text("devices-page")) === "1–50 of 62");
  await page.getByTestId("devices-next").click();
  await until("the second page", 10_000, async () => (await text("devices-page")) === "51–62 of 62");
  assert.equal(await page.getByTestId("devices-table").locator("tbody tr").count(), 12);

  // Last seen: of the 62, only the one that checked in was seen this hour.
  await page.getByTestId("filter-seen").selectOption("3600");
  await page.getByTestId("filter-apply").click();
  await until("the devices seen lately", 10_000, async () => (await text("devices-total")) === "1 shown of 1");
  await page.getByTestId("filter-seen").selectOption("");

  // The search runs on the server: an id prefix finds one device of 62.
  await page.getByTestId("filter-id").fill("wf-");
  await page.getByTestId("filter-apply").click();
  await until("the id search", 10_000, async () => (await text("devices-total")) === "1 shown of 1");
  await fitsWidth("devices");
  await shot("devices");

  // Its page: status as reported, tags edited.
  await page.getByTestId("device-link-wf-meter-1").click();
  await page.getByTestId("device-view").waitFor();
  await until("the reported version", 10_000, async () => (await text("device-version")) === "1.0.0");
  assert.equal(await text("device-serial"), "SN-WF-0001");
  answers.push("pilot, eu");
  await page.getByTestId("device-tags-edit").click();
  await until("the new tags", 10_000, async () => (await text("device-tags")) === "eu, pilot");
  assert.deepEqual((await apiGet("/devices/wf-meter-1")).tags, ["eu", "pilot"]);

  // A campaign from the page, started at once; the device fails its first try.
  await page.getByTestId("tab-campaigns").click();
  const form = page.getByTestId("create-campaign");
  await form.getByTestId("create-release").selectOption(String(id["2.0.0"]));
  await form.getByTestId("create-name").fill("wf rollout");
  await form.getByTestId("create-phases").fill("100%");
  await form.getByTestId("create-failure").fill("0.5");
  await form.getByTestId("create-tags").fill("pilot");
  await form.getByTestId("create-start-now").check();
  await form.getByTestId("create-submit").click();
  await until("the campaign running", 10_000, async () =>
    (await page.getByTestId("campaign-view").count()) > 0 && (await text("campaign-state")) === "running");
  const campaign = Number(await page.getByTestId("campaign-view").getAttribute("data-campaign"));
  const first = await device.checkIn(sha256(v1));
  assert.equal(first.kind, "delta");
  await device.report(first.deployment, { phase: "downloading", progress: 30, log: ["download started"] });
  await device.report(first.deployment, { phase: "failure", progress: 30, error: 202,
    log: ["flash block 3 written", "hash mismatch at the end"] });

  // 1 failed of 1 is over 0.5: the campaign pauses itself, and resuming it as it
  // is would pause it again, so the page shows the refusal and its reason.
  await until("the campaign paused itself", 10_000, async () => (await text("campaign-state")) === "paused");
  await page.getByTestId("action-resume").click();
  await until("the refusal shown", 10_000, async () =>
    (await page.getByTestId("error").isVisible()) && /^CONFLICT \(\d+\): resuming would pause/.test(await text("error-text")));
  await shot("campaign-resume-refused");
  await fitsWidth("campaign");

  // The device page shows the failure; Retry offers the update again.
  await page.goto(`${base}/#/devices/wf-meter-1`);
  await until("the failure on the device page", 10_000, async () =>
    (await page.getByTestId("device-deployment-state").count()) > 0 &&
    (await text("device-deployment-state")) === "failed");
  await page.getByTestId("action-retry").click();
  await until("the retried deployment pending", 10_000, async () =>
    (await text("device-deployment-state")) === "pending");

  // Resumed from its page with a higher failure threshold, the campaign runs.
  await page.goto(`${base}/#/campaigns/${campaign}`);
  await until("the paused campaign", 10_000, async () => (await text("campaign-state")) === "paused");
  await page.getByTestId("resume-threshold").fill("1");
  await page.getByTestId("action-resume").click();
  await until("the campaign running again", 10_000, async () => (await text("campaign-state")) === "running");
  assert.equal((await apiGet(`/campaigns/${campaign}`)).failure_threshold, 1);
  await page.goto(`${base}/#/devices/wf-meter-1`);
  await page.getByTestId("device-deployment-state").waitFor();
  const second = await device.checkIn(sha256(v1));
  assert.equal(second.deployment, first.deployment);
  await device.report(second.deployment, { phase: "downloading", progress: 100, log: ["resumed at byte 0"] });
  await device.report(second.deployment, { phase: "success", progress: 100, running_version: "2.0.0",
    log: ["booted 2.0.0"] });

  // Its history: both attempts, newest first; its log: every line, in order.
  await until("the success on the device page", 10_000, async () =>
    (await text("device-deployment-state")) === "succeeded");
  const entries = page.getByTestId("history-entry");
  await until("the history of both attempts", 10_000, async () => {
    const steps = await entries.evaluateAll((els) => els.map((e) => `${e.dataset.state}/${e.dataset.attempt}`));
    return steps.includes("failed/1") && steps[0] === "succeeded/2";
  });
  await until("the log", 10_000, async () => /booted 2\.0\.0/.test(await text("device-log")));
  const logText = await text("device-log");
  const order = ["download started", "flash block 3 written", "hash mismatch at the end", "resumed at byte 0",
    "booted 2.0.0"].map((line) => logText.indexOf(line));
  assert.ok(order.every((at, i) => at >= 0 && (i === 0 || at > order[i - 1])), `log in order: ${logText}`);
  await until("the campaign completed", 10_000, async () =>
    (await apiGet(`/campaigns/${campaign}`)).state === "completed");
  await fitsWidth("device");
  await shot("device");

  // The release page: the delta built from 1.0.0, its size and share of the image.
  await page.goto(`${base}/#/releases/${id["2.0.0"]}`);
  const delta = page.getByTestId("delta-1.0.0");
  await delta.waitFor();
  const cells = await delta.locator("td").allTextContents();
  assert.equal(cells[0], "1.0.0");
  assert.equal(cells[2], "ready");
  const { deltas } = await apiGet(`/releases/${id["2.0.0"]}/deltas`);
  assert.equal(cells[4], `${(100 * deltas[0].ratio).toFixed(1)}%`);
  assert.ok(deltas[0].ratio < 0.2, `a 3 KB change is a small patch: ${deltas[0].ratio}`);
  await fitsWidth("release");
  await shot("release");

  // A draft that would start itself next year, dynamic and with a deployment
  // timeout, made from the form; then deleted from its page, then its release.
  await page.getByTestId("tab-campaigns").click();
  await form.getByTestId("create-release").selectOption(String(id["3.0.0"]));
  await form.getByTestId("create-name").fill("never");
  await form.getByTestId("create-phases").fill("100%");
  await form.getByTestId("create-start-now").uncheck();
  await form.getByTestId("create-start-at").fill("2030-01-02T03:04");
  await form.getByTestId("create-timeout").fill("15");
  await form.getByTestId("create-dynamic").check();
  await form.getByTestId("create-submit").click();
  await until("the draft's page", 10_000, async () =>
    (await page.getByTestId("campaign-view").count()) > 0 &&
    Number(await page.getByTestId("campaign-view").getAttribute("data-campaign")) !== campaign &&
    (await text("campaign-state")) === "draft");
  const draft = Number(await page.getByTestId("campaign-view").getAttribute("data-campaign"));
  const stored = await apiGet(`/campaigns/${draft}`);
  assert.equal(stored.start_at, Math.floor(new Date("2030-01-02T03:04").getTime() / 1000));
  assert.equal(stored.deployment_timeout_seconds, 900);
  assert.equal(stored.dynamic, true);
  assert.match(await text("campaign-start-at"), /^starts itself at 2030-01-02 03:04:00$/);
  answers.push(true);
  await page.getByTestId("action-delete").click();
  await page.getByTestId("campaigns-view").waitFor();
  assert.equal((await call("GET", `/campaigns/${draft}`)).status, 404);
  await page.goto(`${base}/#/releases/${id["3.0.0"]}`);
  await page.getByTestId("release-delete").waitFor();
  answers.push(true);
  await page.getByTestId("release-delete").click();
  await page.getByTestId("releases-view").waitFor();
  await until("the release gone from the list", 10_000, async () =>
    (await page.getByTestId(`release-${id["3.0.0"]}`).count()) === 0 &&
    (await page.getByTestId(`release-${id["2.0.0"]}`).count()) === 1);
  assert.equal((await call("GET", `/releases/${id["3.0.0"]}`)).status, 404);
  // The release a campaign used stays, and the page says why.
  await page.goto(`${base}/#/releases/${id["2.0.0"]}`);
  answers.push(true);
  await page.getByTestId("release-delete").click();
  await until("the refusal", 10_000, async () => /used by campaign/.test(await text("error-text")));

  // The other actions on one device, in a campaign whose second phase waits:
  // update one now, defer another to a date, then cancel it.
  const bulk = await call("POST", "/campaigns", { name: "bulk", release: id["2.0.0"],
    phases: [{ count: 1 }, { percent: 100 }], target: { devices: ["bulk-00", "bulk-01", "other-1"] } });
  assert.equal(bulk.status, 201, JSON.stringify(bulk.body));
  assert.equal((await call("POST", `/campaigns/${bulk.body.id}/start`, {})).status, 200);
  await page.goto(`${base}/#/devices/bulk-01`);
  await until("bulk-01 waiting for its phase", 10_000, async () =>
    (await page.getByTestId("device-deployment-state").count()) > 0 &&
    (await text("device-deployment-state")) === "scheduled");
  await page.getByTestId("action-update-now").click();
  await until("bulk-01 released now", 10_000, async () => (await text("device-deployment-state")) === "pending");
  assert.equal((await apiGet("/devices/bulk-01")).deployments.at(-1).ignore_window, true);
  await page.goto(`${base}/#/devices/bulk-00`);
  await until("bulk-00 pending", 10_000, async () =>
    (await page.getByTestId("device-deployment-state").count()) > 0 &&
    (await text("device-deployment-state")) === "pending");
  await page.getByTestId("defer-until").fill("2031-05-06T07:08");
  await page.getByTestId("action-defer").click();
  await until("the deferral shown", 10_000, async () =>
    (await page.getByTestId("device-deferred").count()) > 0 &&
    (await text("device-deferred")) === "deferred until 2031-05-06 07:08:00");
  assert.equal((await apiGet("/devices/bulk-00")).deployments.at(-1).not_before,
    Math.floor(new Date("2031-05-06T07:08").getTime() / 1000));
  await page.getByTestId("action-cancel").click();
  await until("bulk-00 canceled", 10_000, async () => (await text("device-deployment-state")) === "canceled");
  await fitsWidth("device actions");
  await shot("device-actions");

  // A spare product, made and deleted from the products page.
  await page.getByTestId("tab-products").click();
  await page.getByTestId("product-name").fill("spare");
  await page.getByTestId("product-submit").click();
  await page.getByTestId("product-spare").waitFor();
  answers.push(true);
  await page.getByTestId("product-delete-spare").click();
  await until("the product gone", 10_000, async () => (await page.getByTestId("product-spare").count()) === 0);
  answers.push(true);
  await page.getByTestId("product-delete-wf").click();
  await until("the refusal for a product with devices", 10_000, async () =>
    /^CONFLICT \(704\): product wf has 62 devices, 2 releases and 2 campaigns/.test(await text("error-text")));

  // A viewer token, made and shown once; a second one is revoked.
  await page.getByTestId("tab-tokens").click();
  const makeToken = async (tokenName, role) => {
    await page.getByTestId("token-name").fill(tokenName);
    await page.getByTestId("token-role").selectOption(role);
    await page.getByTestId("token-submit").click();
    await until(`token ${tokenName}`, 10_000, async () =>
      (await page.getByTestId("token-created").textContent()).includes(`"${tokenName}"`));
    return text("token-secret");
  };
  const viewerToken = await makeToken("watcher", "viewer");
  await makeToken("leaked", "operator");
  answers.push(true);
  await page.getByTestId("token-revoke-leaked").click();
  await until("the revocation", 10_000, async () => (await text("token-state-leaked")) === "revoked");
  await fitsWidth("tokens");
  await shot("tokens");

  const actions = (await apiGet("/audit?limit=200")).events.map((e) => e.action);
  for (const a of ["product.create", "release.upload", "device.register", "device.tags", "campaign.resume",
    "deployment.retry", "deployment.update_now", "deployment.defer", "deployment.cancel", "campaign.delete",
    "release.delete", "product.delete", "token.create", "token.revoke"]) {
    assert.ok(actions.includes(a), `audited ${a}: ${actions}`);
  }

  // The viewer reads everything and is offered no change.
  await page.getByTestId("sign-out").click();
  await page.getByTestId("login-token").fill(viewerToken);
  await page.getByTestId("login-submit").click();
  await page.getByTestId("campaigns-view").waitFor();
  assert.equal(await text("whoami"), "watcher (viewer)");
  assert.equal(await page.getByTestId("create-campaign").count(), 0);
  assert.ok(!(await page.getByTestId("tab-tokens").isVisible()), "no tokens tab for a viewer");
  await page.goto(`${base}/#/releases`);
  await page.getByTestId("releases-table").waitFor();
  assert.equal(await page.getByTestId("upload-release").count(), 0);
  await page.goto(`${base}/#/devices/wf-meter-1`);
  await until("the device page", 10_000, async () => (await text("device-deployment-state")) === "succeeded");
  assert.equal(await page.getByTestId("device-tags-edit").count(), 0);
  assert.equal(await page.getByTestId("device-decommission").count(), 0);

  assert.deepEqual(pageErrors, [], "no script errors on the page");
  const { code, signal } = await server.stop();
  assert.equal(code, 0, `updraftd stopped with ${code ?? signal}`);
}
