// Mender clients on the console, in real headless Chromium against a real
// updraftd: a client's signed authentication request waits above the device list;
// the operator accepts it into a product there; the client, now admitted, sends its
// inventory, which its device page shows; a second one is rejected and gets 401.
// The clients are made of node's crypto and fetch, as docs/api/mender.md has them
// (the real mender-client runs in tests/integration/mender_client_test.sh).
import { test } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { env, launchBrowser, startServer, until } from "./harness.mjs";

const ARTIFACTS = env("UPDRAFT_ARTIFACTS");

// A Mender client's key and its signed request: the status and body of the answer.
function menderClient(base, mac) {
  const { publicKey, privateKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
  const body = JSON.stringify({
    id_data: JSON.stringify({ mac }),
    pubkey: publicKey.export({ type: "spki", format: "pem" }),
    tenant_token: "",
  });
  const signature = crypto.sign("sha256", Buffer.from(body), privateKey).toString("base64");
  return async () => {
    const r = await fetch(`${base}/api/devices/v1/authentication/auth_requests`, {
      method: "POST", body, headers: { "Content-Type": "application/json", "X-MEN-Signature": signature },
    });
    return { status: r.status, text: await r.text() };
  };
}

test("Mender clients are admitted and show their inventory on the console", { timeout: 90_000 }, async (t) => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const children = [];
  let browser;
  let server;
  let page;
  t.after(async () => {
    if (page) await page.screenshot({ path: path.join(ARTIFACTS, "console-mender.png"), fullPage: true }).catch(() => {});
    await browser?.close().catch(() => {});
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    if (server) fs.rmSync(server.data, { recursive: true, force: true });
  });
  server = await startServer(children, path.join(ARTIFACTS, "console_mender-updraftd.log"));
  const { base, token, call, apiGet } = server;
  assert.equal((await call("POST", "/products", { name: "gw-test", profile: "linux" })).status, 201);

  const first = menderClient(base, "02:00:00:00:01:01");
  const second = menderClient(base, "02:00:00:00:01:02");
  assert.equal((await first()).status, 401, "pending until accepted");
  assert.equal((await second()).status, 401);
  const { auth_sets: sets } = await apiGet("/mender/auth_sets?status=pending");
  const setOf = (mac) => sets.find((s) => s.id_data.mac === mac).id;

  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(15_000);
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  await page.goto(`${base}/#token=${encodeURIComponent(token)}`);
  await page.getByTestId("tab-devices").click();
  const pending = page.getByTestId("mender-pending");
  await pending.waitFor();
  await until("two pending clients", 10_000, async () => (await page.getByTestId("mender-pending-set").count()) === 2);
  assert.match(await pending.textContent(), /waiting to be admitted \(2\)/);
  assert.match(await pending.textContent(), /02:00:00:00:01:01/);

  await page.getByTestId(`mender-product-${setOf("02:00:00:00:01:01")}`).selectOption("gw-test");
  await page.getByTestId(`mender-accept-${setOf("02:00:00:00:01:01")}`).click();
  await page.getByTestId(`mender-reject-${setOf("02:00:00:00:01:02")}`).click();
  await until("the panel empties", 10_000, async () => !(await pending.isVisible()));

  const admitted = await first();
  assert.equal(admitted.status, 200, admitted.text);
  assert.equal((await second()).status, 401, "a rejected client is refused");
  const device = (await apiGet("/mender/auth_sets?status=accepted")).auth_sets[0].device;
  await until(`${device} on the device list`, 10_000, async () =>
    (await page.getByTestId(`device-link-${device}`).count()) > 0);

  const inventory = await fetch(`${base}/api/devices/v1/inventory/device/attributes`, {
    method: "PATCH",
    body: JSON.stringify([{ name: "device_type", value: "gw-test" }, { name: "ipv4", value: ["10.0.0.7/24"] }]),
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${admitted.text}` },
  });
  assert.equal(inventory.status, 200);
  await page.getByTestId(`device-link-${device}`).click();
  await page.getByTestId("device-inventory").waitFor();
  assert.match(await page.getByTestId("inventory-device_type").textContent(), /device_typegw-test/);
  assert.match(await page.getByTestId("inventory-ipv4").textContent(), /\["10\.0\.0\.7\/24"\]/);
  assert.deepEqual(pageErrors, []);
});
