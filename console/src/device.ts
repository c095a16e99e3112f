// One device's page (#/devices/ID): what it reported (status, and the inventory a
// Mender client sends), its
// tags and serial, the deployment it is in with the operator's actions on it
// (cancel, retry, update now, defer), its history timeline, paged, and the log
// lines of each deployment. Refreshes on live events about the device.
import { api, Deployment, Device, HistoryEntry, kFinalStates, LogLine, mayOperate, Session } from "./api.js";
import { clear, h, parseLocalTime, progressBar, stateBadge, throttle, time } from "./dom.js";
import type { LiveEvent } from "./live.js";
import { inventoryTable } from "./mender.js";
import { errorCell, productNames, promptSerial, reportError, View } from "./views.js";

const kHistoryPage = 20;
const kLogPage = 200;

// The actions an operator may take on a deployment in its state
// (CampaignService::cancel_deployment and the rest).
function actionsFor(d: Deployment): string[] {
  const final = kFinalStates.includes(d.state);
  const out: string[] = [];
  if (!final) out.push("update-now", "defer", "cancel");
  if (["failed", "rolled_back", "canceled"].includes(d.state)) out.push("retry");
  return out;
}

export function deviceView(id: string, session: Session | null): View {
  const path = `/devices/${encodeURIComponent(id)}`;
  const operate = mayOperate(session);
  const status = h("div", { class: "cards", "data-testid": "device-status" });
  const current = h("div", { "data-testid": "device-deployment" });
  const timeline = h("ol", { class: "timeline", "data-testid": "device-history" });
  const historyTotal = h("span", { class: "muted", "data-testid": "device-history-total" });
  const older = h("button", { type: "button", "data-testid": "history-older" }, "Older");
  const logPick = h("select", { "data-testid": "log-deployment" });
  const logBody = h("pre", { class: "log", "data-testid": "device-log" });
  const logNote = h("span", { class: "muted", "data-testid": "device-log-note" });
  const inventory = inventoryTable();
  let shown = 0;
  let device: Device | null = null;
  let products = new Map<number, string>();

  const act = async (deployment: number, action: string, body?: unknown) => {
    await api<Deployment>("POST", `/deployments/${deployment}/${action}`, body ?? {});
    await refresh();
  };

  const item = (label: string, value: Node | string, testid?: string) =>
    h("div", { class: "card" }, h("div", { class: "card-label" }, label),
      h("div", { class: "card-value", "data-testid": testid }, value));

  const editTags = async () => {
    if (!device) return;
    const text = window.prompt(`Tags of ${id}, comma-separated`, device.tags.join(", "));
    if (text === null) return;
    const tags = text.split(",").map((t) => t.trim()).filter(Boolean);
    await api("PUT", `${path}/tags`, { tags });
    await refresh();
  };
  const editSerial = async () => {
    if (device && (await promptSerial(device))) await refresh();
  };
  const editButton = (testid: string, fn: () => Promise<void>) =>
    operate ? h("button", { type: "button", class: "link", "data-testid": testid,
      onclick: () => void fn().catch(reportError) }, "edit") : null;

  const showStatus = (d: Device) => {
    clear(
      status,
      item("Product", products.get(d.product) ?? String(d.product)),
      item("Hardware", d.hardware),
      item("Version", d.version || "—", "device-version"),
      item("Image", h("code", { title: d.image_sha256 ?? "" }, (d.image_sha256 ?? "").slice(0, 16) || "—")),
      item("Slot", d.slot === undefined ? "—" : String(d.slot)),
      item("Battery", d.battery >= 0 ? `${d.battery}%` : "—"),
      item("Network", d.network || "—"),
      item("Last seen", time(d.last_seen), "device-last-seen"),
      item("Registered", time(d.registered_at ?? 0)),
      item("Serial", h("span", {}, h("span", { "data-testid": "device-serial" }, d.serial || "—"), " ",
        editButton("device-serial-edit", editSerial))),
      item("Tags", h("span", {}, h("span", { "data-testid": "device-tags" }, d.tags.join(", ") || "—"), " ",
        editButton("device-tags-edit", editTags))),
      d.decommissioned_at ? item("Decommissioned", time(d.decommissioned_at)) : null,
    );
  };

  const showDeployment = (d: Deployment | undefined) => {
    if (!d) {
      clear(current, h("p", { class: "muted" }, "No deployment yet."));
      return;
    }
    const buttons = h("div", { class: "actions" });
    if (operate) {
      for (const action of actionsFor(d)) {
        if (action === "defer") {
          const until = h("input", { type: "datetime-local", "data-testid": "defer-until" });
          buttons.append(h("span", { class: "defer" }, until,
            h("button", { type: "button", "data-testid": "action-defer", onclick: () => {
              const at = parseLocalTime(until.value);
              if (at === null) {
                reportError(new Error("defer: choose a date and time"));
                return;
              }
              act(d.id, "defer", { until: at }).catch(reportError);
            } }, "Defer until")));
          if (d.not_before) {
            buttons.append(h("button", { type: "button", "data-testid": "action-undefer",
              onclick: () => void act(d.id, "defer", { until: 0 }).catch(reportError) }, "Lift deferral"));
          }
          continue;
        }
        const labels: Record<string, string> = { "update-now": "Update now", cancel: "Cancel", retry: "Retry" };
        buttons.append(h("button", { type: "button", class: action === "cancel" ? "danger" : action === "retry" ? "primary" : "",
          "data-testid": `action-${action}`, onclick: () => void act(d.id, action).catch(reportError) }, labels[action]));
      }
    }
    clear(
      current,
      h("div", { class: "summary" },
        stateBadge(d.state, "device-deployment-state"),
        h("a", { href: `#/campaigns/${d.campaign}` }, `campaign #${d.campaign}`),
        h("span", { class: "muted" }, `deployment #${d.id} · attempt ${d.attempts} · ${d.artifact_kind || "not offered yet"}`),
        d.not_before ? h("span", { class: "warn", "data-testid": "device-deferred" }, `deferred until ${time(d.not_before)}`) : null,
        d.ignore_window ? h("span", { class: "muted" }, "updates outside the window") : null),
      progressBar(d.state === "succeeded" ? 100 : d.progress, 0, "device-deployment-progress"),
      d.error ? h("p", {}, errorCell(d.error, d.error_name, d.error_text)) : null,
      d.message ? h("p", { class: "muted" }, d.message) : null,
      buttons,
    );
  };

  const historyItem = (e: HistoryEntry) =>
    h("li", { "data-testid": "history-entry", "data-state": e.state, "data-attempt": e.attempt },
      h("span", { class: "muted" }, time(e.at)), " ",
      stateBadge(e.state), " ",
      h("span", {}, `attempt ${e.attempt}`),
      e.progress ? h("span", { class: "muted" }, ` · ${e.progress}%`) : null,
      e.error ? h("span", { class: "error-number" }, " · ", h("b", {}, String(e.error)), ` ${e.error_name}`) : null,
      e.message ? h("span", { class: "muted" }, ` · ${e.message}`) : null,
      h("span", { class: "muted" }, " · ", h("a", { href: `#/campaigns/${e.campaign}` }, `campaign #${e.campaign}`)));

  const loadHistory = async (reset: boolean) => {
    if (reset) shown = 0;
    const page = await api<{ history: HistoryEntry[]; total: number }>(
      "GET", `${path}/history?limit=${reset ? Math.max(kHistoryPage, shown) : kHistoryPage}&offset=${shown}`);
    if (reset) timeline.replaceChildren();
    for (const e of page.history) timeline.append(historyItem(e));
    shown += page.history.length;
    historyTotal.textContent = `${shown} of ${page.total} steps`;
    older.hidden = shown >= page.total;
  };

  const loadLog = async () => {
    logPick.hidden = !logPick.value;
    if (!logPick.value) {
      logBody.textContent = "(no deployment yet)";
      logNote.textContent = "";
      return;
    }
    const log = await api<{ lines: LogLine[]; total: number; dropped: number }>(
      "GET", `/deployments/${logPick.value}/log?limit=${kLogPage}`);
    logBody.textContent = log.lines.map((l) => `${time(l.at)}  ${l.line}`).join("\n") || "(no lines)";
    logNote.textContent = `${log.total} lines${log.total > log.lines.length ? `, first ${log.lines.length} shown` : ""}` +
      (log.dropped ? `, ${log.dropped} dropped past the bound` : "");
  };

  const refresh = async () => {
    if (products.size === 0) products = await productNames();
    device = await api<Device>("GET", path);
    showStatus(device);
    const deployments = device.deployments ?? [];
    showDeployment(deployments[deployments.length - 1]);
    const picked = logPick.value;
    clear(logPick, ...[...deployments].reverse().map((d) =>
      h("option", { value: d.id }, `deployment #${d.id} (campaign #${d.campaign}, ${d.state})`)));
    if (picked && deployments.some((d) => String(d.id) === picked)) logPick.value = picked;
    await Promise.all([loadHistory(true), loadLog(), inventory.load(path)]);
  };

  older.addEventListener("click", () => void loadHistory(false).catch(reportError));
  logPick.addEventListener("change", () => void loadLog().catch(reportError));
  const rotate = async () => {
    if (!window.confirm(`Give ${id} a new secret? Its current secret and tokens stop working at once.`)) return;
    const { secret } = await api<{ secret: string }>("POST", `${path}/secret`, {});
    window.prompt(`The new secret of ${id} (shown once):`, secret);
    await refresh();
  };
  const decommission = async () => {
    if (!window.confirm(`Decommission ${id}? It can never check in again.`)) return;
    await api("POST", `${path}/decommission`, {});
    await refresh();
  };

  const root = h(
    "section",
    { "data-testid": "device-view", "data-device": id },
    h("a", { href: "#/devices" }, "← all devices"),
    h("h2", {}, id),
    status,
    inventory.el,
    h("h3", {}, "Deployment"),
    current,
    h("h3", {}, "History ", historyTotal),
    timeline,
    older,
    h("h3", {}, "Log ", logNote),
    h("div", { class: "filters" }, logPick),
    logBody,
    operate ? h("div", { class: "actions" },
      h("button", { type: "button", "data-testid": "device-rotate-secret", onclick: () => void rotate().catch(reportError) }, "New secret"),
      h("button", { type: "button", class: "danger", "data-testid": "device-decommission",
        onclick: () => void decommission().catch(reportError) }, "Decommission")) : null,
  );
  refresh().catch(reportError);
  const throttled = throttle(() => refresh().catch(reportError), 400);
  return {
    root,
    onLive: (e: LiveEvent) => {
      if (e.type === "deployment" && e.data["device"] === id) throttled();
    },
  };
}
