// Campaigns: the list with one progress bar each, the create form, and a campaign's
// page with its actions, a bar per phase and a row per device. Both refresh on
// live events for the campaigns they show (throttled).
import { api, Campaign, Deployment, kFinalStates, mayOperate, PhaseSpec, Release, Session } from "./api.js";
import { clear, h, pager, parseLocalTime, progressBar, row, stateBadge, table, throttle, time } from "./dom.js";
import type { LiveEvent } from "./live.js";
import { errorCell, reportError, View } from "./views.js";

const kRefreshMs = 400;
const kCampaignsPage = 50;
const kDeploymentsPage = 100;

// Share of the campaign's deployments that are final, and of those that failed.
function campaignPercent(c: Campaign): { done: number; failed: number } {
  const total = c.deployments?.total ?? 0;
  if (total === 0) return { done: c.state === "completed" ? 100 : 0, failed: 0 };
  const by = c.deployments?.by_state ?? {};
  const final = kFinalStates.reduce((n, s) => n + (by[s] ?? 0), 0);
  const failed = (by["failed"] ?? 0) + (by["rolled_back"] ?? 0);
  return { done: (100 * final) / total, failed: (100 * failed) / total };
}

function phaseLabel(p: PhaseSpec | undefined, i: number): string {
  if (!p) return `Phase ${i + 1}`;
  return `Phase ${i + 1} (${p.percent !== undefined ? `${p.percent}%` : `${p.count} devices`})`;
}

// "10%, 100%" or "5, 50%" -> [{percent:10},{percent:100}] / [{count:5},{percent:50}].
export function parsePhases(text: string): PhaseSpec[] {
  const phases: PhaseSpec[] = [];
  for (const part of text.split(",").map((s) => s.trim()).filter(Boolean)) {
    const m = /^(\d+)(%?)$/.exec(part);
    if (!m) throw new Error(`phases: "${part}" is neither N% nor a device count`);
    phases.push(m[2] ? { percent: Number(m[1]) } : { count: Number(m[1]) });
  }
  return phases;
}

function list(text: string): string[] {
  return text.split(",").map((s) => s.trim()).filter(Boolean);
}

function releaseLabel(r: Release | undefined, id: number): string {
  return r ? `${r.product} ${r.version}` : `#${id}`;
}

export function campaignsView(session: Session | null, preselectRelease?: number): View {
  const body = h("div", { class: "scroll" });
  const pages = pager("campaigns", kCampaignsPage, () => void refresh().catch(reportError));
  let releases = new Map<number, Release>();
  const refresh = async () => {
    if (releases.size === 0) {
      const list = await api<{ releases: Release[] }>("GET", "/releases?limit=1000");
      releases = new Map(list.releases.map((r) => [r.id, r]));
    }
    const { campaigns, total } = await api<{ campaigns: Campaign[]; total: number }>(
      "GET", `/campaigns?limit=${kCampaignsPage}&offset=${pages.offset}`);
    pages.set(campaigns.length, total);
    clear(
      body,
      table(
        ["Id", "Name", "Release", "State", "Progress", "Devices", "Created"],
        campaigns.map((c) => {
          const p = campaignPercent(c);
          return row(
            `campaign-row-${c.id}`,
            c.id,
            h("a", { href: `#/campaigns/${c.id}`, "data-testid": `campaign-link-${c.id}` }, c.name),
            releaseLabel(releases.get(c.release), c.release),
            stateBadge(c.state, `campaign-row-state-${c.id}`),
            progressBar(p.done, p.failed, `campaign-row-progress-${c.id}`),
            c.deployments?.total ?? 0,
            time(c.created_at),
          );
        }),
        "campaigns-table",
      ),
    );
  };
  const root = h(
    "section",
    { "data-testid": "campaigns-view" },
    h("h2", {}, "Campaigns"),
    body,
    pages.el,
    mayOperate(session) ? createForm(preselectRelease) : null,
  );
  refresh().catch(reportError);
  const throttled = throttle(() => refresh().catch(reportError), kRefreshMs);
  return { root, onLive: () => throttled() };
}

function createForm(preselectRelease?: number): HTMLElement {
  const field = (label: string, input: HTMLElement, hint?: string) =>
    h("label", {}, h("span", {}, label), input, hint ? h("small", {}, hint) : null);
  const release = h("select", { name: "release", required: true, "data-testid": "create-release" });
  const name = h("input", { name: "name", required: true, "data-testid": "create-name", placeholder: "2.0 rollout" });
  const phases = h("input", { name: "phases", value: "10%,100%", "data-testid": "create-phases" });
  const success = h("input", { name: "success", type: "number", step: "0.01", min: "0", max: "1", value: "0.9", "data-testid": "create-success" });
  const failure = h("input", { name: "failure", type: "number", step: "0.01", min: "0", max: "1", value: "0.2", "data-testid": "create-failure" });
  const hardware = h("input", { name: "hardware", placeholder: "any", "data-testid": "create-hardware" });
  const versions = h("input", { name: "versions", placeholder: "any", "data-testid": "create-versions" });
  const tags = h("input", { name: "tags", placeholder: "any", "data-testid": "create-tags" });
  const devices = h("input", { name: "devices", placeholder: "any", "data-testid": "create-devices" });
  const maxDownloads = h("input", { name: "max", type: "number", min: "0", value: "0", "data-testid": "create-max-downloads" });
  const force = h("input", { name: "force", type: "checkbox", "data-testid": "create-force" });
  const startNow = h("input", { name: "start", type: "checkbox", "data-testid": "create-start-now" });
  const startAt = h("input", { name: "start_at", type: "datetime-local", "data-testid": "create-start-at" });
  const timeout = h("input", { name: "timeout", type: "number", min: "0", value: "0", "data-testid": "create-timeout" });
  const dynamic = h("input", { name: "dynamic", type: "checkbox", "data-testid": "create-dynamic" });
  const submit = h("button", { type: "submit", "data-testid": "create-submit" }, "Create campaign");

  api<{ releases: Release[] }>("GET", "/releases?limit=1000")
    .then(({ releases }) => {
      for (const r of releases) {
        release.append(
          h("option", { value: r.id, selected: r.id === preselectRelease }, `${r.product} ${r.version} (#${r.id})`),
        );
      }
    })
    .catch(reportError);

  const onSubmit = async (e: Event) => {
    e.preventDefault();
    const body = {
      name: name.value.trim(),
      release: Number(release.value),
      phases: parsePhases(phases.value),
      success_threshold: Number(success.value),
      failure_threshold: Number(failure.value),
      target: {
        hardware: list(hardware.value),
        versions: list(versions.value),
        tags: list(tags.value),
        devices: list(devices.value),
      },
      max_concurrent_downloads: Number(maxDownloads.value) || 0,
      force: force.checked,
      deployment_timeout_seconds: Math.round((Number(timeout.value) || 0) * 60),
      dynamic: dynamic.checked,
      ...(startAt.value ? { start_at: parseLocalTime(startAt.value) } : {}),
    };
    submit.disabled = true;
    try {
      const created = await api<Campaign>("POST", "/campaigns", body);
      if (startNow.checked) await api<Campaign>("POST", `/campaigns/${created.id}/start`);
      location.hash = `#/campaigns/${created.id}`;
    } finally {
      submit.disabled = false;
    }
  };
  return h(
    "form",
    {
      class: "create",
      "data-testid": "create-campaign",
      onsubmit: (e: Event) => {
        onSubmit(e).catch(reportError);
      },
    },
    h("h3", {}, "New campaign"),
    h(
      "div",
      { class: "grid" },
      field("Release", release),
      field("Name", name),
      field("Phases", phases, "cumulative: 10%,100% or 5,100%"),
      field("Success threshold", success, "share to advance a phase"),
      field("Failure threshold", failure, "share that pauses"),
      field("Max downloads at once", maxDownloads, "0: no limit"),
      field("Hardware", hardware, "comma-separated"),
      field("Running versions", versions, "comma-separated"),
      field("Tags", tags, "comma-separated"),
      field("Devices", devices, "comma-separated ids"),
      field("Start at", startAt, "empty: start by hand"),
      field("Deployment timeout", timeout, "minutes without news; 0: never"),
    ),
    h("div", { class: "checks" },
      h("label", {}, force, " skip user confirmation (force)"),
      h("label", {}, dynamic, " dynamic: devices join while it runs"),
      h("label", {}, startNow, " start now")),
    submit,
  );
}

export function campaignView(id: number, session: Session | null): View {
  const operate = mayOperate(session);
  const header = h("div", { class: "campaign-head" });
  const phases = h("div", { class: "phases", "data-testid": "phases" });
  const devices = h("div", { class: "scroll" });
  const devicePages = pager("deployments", kDeploymentsPage, () => void refresh().catch(reportError));
  const actions = h("div", { class: "actions" });

  const act = (action: string, body?: unknown) => async () => {
    for (const b of actions.querySelectorAll("button")) b.disabled = true;
    try {
      await api<Campaign>("POST", `/campaigns/${id}/${action}`, body);
    } finally {
      await refresh();
    }
  };
  const remove = async () => {
    if (!window.confirm(`Delete draft campaign #${id} and its deployments?`)) return;
    await api("DELETE", `/campaigns/${id}`);
    location.hash = "#/campaigns";
  };
  // A campaign that paused itself for failures resumes only with a higher
  // failure threshold, so Resume sends the one typed beside it.
  const resumeControls = (c: Campaign) => {
    const threshold = h("input", { type: "number", step: "0.01", min: "0", max: "1",
      value: String(c.failure_threshold), "data-testid": "resume-threshold", title: "failure threshold" });
    return h("span", { class: "resume" },
      h("label", { class: "muted" }, "failure threshold ", threshold),
      h("button", { type: "button", class: "primary", "data-testid": "action-resume",
        onclick: () => {
          const value = Number(threshold.value);
          const body = value !== c.failure_threshold ? { failure_threshold: value } : undefined;
          act("resume", body)().catch(reportError);
        } }, "Resume"));
  };
  const button = (action: string, label: string, cls = "") =>
    h("button", { type: "button", class: cls, "data-testid": `action-${action}`,
      onclick: () => { act(action)().catch(reportError); } }, label);

  let release: Release | undefined;
  const refresh = async () => {
    const [c, { deployments, total }] = await Promise.all([
      api<Campaign>("GET", `/campaigns/${id}`),
      api<{ deployments: Deployment[]; total: number }>(
        "GET", `/campaigns/${id}/deployments?limit=${kDeploymentsPage}&offset=${devicePages.offset}`),
    ]);
    devicePages.set(deployments.length, total);
    release ??= await api<Release>("GET", `/releases/${c.release}`);
    const p = campaignPercent(c);
    const by = c.deployments?.by_state ?? {};
    clear(
      header,
      h("h2", {}, h("span", { "data-testid": "campaign-name" }, c.name), h("span", { class: "muted" }, ` #${c.id}`)),
      h(
        "div",
        { class: "summary" },
        stateBadge(c.state, "campaign-state"),
        c.pause_reason && c.state === "paused"
          ? h("span", { class: "pause-reason", "data-testid": "pause-reason" }, `reason: ${c.pause_reason}`)
          : null,
        h("span", { class: "muted" },
          `release ${releaseLabel(release, c.release)} · phase ${Math.min(c.current_phase + 1, c.phases.length)} of ${c.phases.length} · ` +
          `thresholds ${c.success_threshold} / ${c.failure_threshold} · by ${c.created_by} · started ${time(c.started_at)}`),
        c.state === "draft" && c.start_at
          ? h("span", { class: "warn", "data-testid": "campaign-start-at" }, `starts itself at ${time(c.start_at)}`)
          : null,
        c.deployment_timeout_seconds
          ? h("span", { class: "muted" }, `timeout ${Math.round(c.deployment_timeout_seconds / 60)} min`)
          : null,
        c.dynamic ? h("span", { class: "muted", "data-testid": "campaign-dynamic" }, "dynamic") : null,
      ),
      progressBar(p.done, p.failed, "campaign-progress"),
      h(
        "div",
        { class: "counts", "data-testid": "campaign-counts" },
        ...Object.entries(by).map(([state, n]) => h("span", {}, stateBadge(state), ` ${n}`)),
      ),
    );
    clear(actions);
    if (operate) {
      if (c.state === "draft") actions.append(button("start", "Start", "primary"));
      if (c.state === "running") actions.append(button("pause", "Pause"));
      if (c.state === "paused") actions.append(resumeControls(c));
      if (["draft", "running", "paused"].includes(c.state)) actions.append(button("abort", "Abort", "danger"));
      if (c.state === "draft") {
        actions.append(h("button", { type: "button", class: "danger", "data-testid": "action-delete",
          onclick: () => void remove().catch(reportError) }, "Delete draft"));
      }
    }
    clear(
      phases,
      ...(c.phase_progress ?? []).map((ph, i) =>
        h(
          "div",
          { class: `phase${i === c.current_phase ? " current" : ""}`, "data-testid": `phase-${i}` },
          h("div", { class: "phase-label" }, phaseLabel(c.phases[i], i),
            h("span", { class: "muted" },
              ` ${ph.released}/${ph.devices} released · ${ph.succeeded} succeeded · ${ph.failed} failed`)),
          progressBar(
            ph.devices ? (100 * (ph.succeeded + ph.failed)) / ph.devices : 0,
            ph.devices ? (100 * ph.failed) / ph.devices : 0,
            `phase-progress-${i}`,
          ),
        ),
      ),
    );
    clear(
      devices,
      table(
        ["Device", "Phase", "State", "Progress", "Error", "Attempts", "Artifact", "Updated"],
        deployments.map((d) =>
          row(
            `deployment-${d.device}`,
            h("a", { href: `#/devices/${encodeURIComponent(d.device)}` }, d.device),
            d.phase + 1,
            stateBadge(d.state),
            progressBar(d.state === "succeeded" ? 100 : d.progress, 0, `device-progress-${d.device}`),
            d.error ? errorCell(d.error, d.error_name, d.error_text) : "",
            d.attempts,
            d.artifact_kind,
            time(d.updated_at),
          ),
        ),
        "deployments-table",
      ),
    );
  };

  const root = h(
    "section",
    { "data-testid": "campaign-view", "data-campaign": id },
    h("a", { href: "#/campaigns" }, "← all campaigns"),
    header,
    actions,
    h("h3", {}, "Phases"),
    phases,
    h("h3", {}, "Devices"),
    devices,
    devicePages.el,
  );
  refresh().catch(reportError);
  const throttled = throttle(() => refresh().catch(reportError), kRefreshMs);
  return {
    root,
    onLive: (e: LiveEvent) => {
      if (e.campaign === id) throttled();
    },
  };
}
