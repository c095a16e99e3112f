// What the console tests share: the binaries CTest passes by environment, bounded
// waits, a real updraftd on a free loopback port, headless Chromium, and a device
// driven by hand over the device API (docs/api/device.md).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

export const env = (name) => {
  const value = process.env[name];
  assert.ok(value, `${name} must name the built binary or directory (set by CTest)`);
  return value;
};

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls `probe` until it returns a truthy value, for at most `ms`.
export async function until(what, ms, probe) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    last = await probe();
    if (last) return last;
    await sleep(100);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

// updraftd on a free port with a fast scheduler, its data in a temp directory;
// `children` collects the process so the caller's cleanup kills it.
export async function startServer(children, logPath) {
  const data = fs.mkdtempSync(path.join(os.tmpdir(), "updraft-console-"));
  const serverLog = fs.openSync(logPath, "w");
  const server = spawn(env("UPDRAFTD"), ["--data", data, "--port", "0", "--port-file", `${data}/port`,
    "--tick-ms", "100", "--active-poll-seconds", "5"], { stdio: ["ignore", serverLog, serverLog] });
  children.push(server);
  const port = await until("updraftd's port file", 10_000,
    () => fs.existsSync(`${data}/port`) && fs.readFileSync(`${data}/port`, "utf8").trim());
  const base = `http://127.0.0.1:${port}`;
  const token = fs.readFileSync(`${data}/admin.token`, "utf8").trim();
  const call = async (method, p, body, bearer = token) => {
    const r = await fetch(`${base}/api/v1${p}`, {
      method,
      body: body === undefined ? undefined : JSON.stringify(body),
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${bearer}` },
    });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : null };
  };
  const apiGet = async (p) => {
    const r = await call("GET", p);
    assert.equal(r.status, 200, `GET ${p}: ${JSON.stringify(r.body)}`);
    return r.body;
  };
  // SIGTERM, and the exit code: 0 for a clean stop (in the asan preset, no leak).
  const stop = async () => {
    const exited = new Promise((resolve) => server.once("exit", (code, signal) => resolve({ code, signal })));
    server.kill("SIGTERM");
    let timer;
    const timeout = new Promise((resolve) => (timer = setTimeout(() => resolve({ code: "timeout" }), 15_000)));
    const result = await Promise.race([exited, timeout]);
    clearTimeout(timer);
    return result;
  };
  return { server, data, port, base, token, call, apiGet, stop };
}

export async function launchBrowser() {
  const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
  assert.ok(fs.existsSync(executablePath), `${executablePath} is missing (install chromium)`);
  return chromium.launch({ executablePath, timeout: 30_000,
    args: ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
}

// A device that proves itself with `secret`, then checks in and reports by hand.
export async function deviceClient(base, id, secret, version = "1.0.0") {
  const post = async (p, body, bearer, expect) => {
    const r = await fetch(`${base}/api/v1${p}`, { method: "POST", body: JSON.stringify(body),
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${bearer}` } });
    const text = await r.text();
    assert.equal(r.status, expect, `POST ${p}: ${text}`);
    return text ? JSON.parse(text) : null;
  };
  const { token } = await post("/device/token", { device_id: id, secret }, "", 200);
  const checkInOnce = (imageSha256) => post("/device/checkin", { version, image_sha256: imageSha256,
    slot: 0, battery: 90, network: "wifi", nonce: randomBytes(8).toString("hex") }, token, 200);
  return {
    checkInOnce,
    // The offer, waiting (bounded) while the server prepares a delta.
    checkIn: (imageSha256) => until(`an offer for ${id}`, 15_000, async () => {
      const answer = await checkInOnce(imageSha256);
      return answer.update ? answer : null;
    }),
    report: (deployment, body) =>
      post(`/device/deployments/${deployment}/report`, { error: 0, running_version: version, ...body }, token, 204),
  };
}

// Registers a device through the admin API and returns its client.
export async function registerDevice(base, adminToken, id, product, hardware) {
  const r = await fetch(`${base}/api/v1/devices`, { method: "POST",
    body: JSON.stringify({ id, product, hardware }),
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${adminToken}` } });
  const text = await r.text();
  assert.equal(r.status, 201, `POST /devices: ${text}`);
  return deviceClient(base, id, JSON.parse(text).secret);
}
