// The read-only views: products, devices (with filters), releases and the audit log.
// Each view fills its own element and may refresh itself on live events.
import { api, AuditEvent, Device, Product, Release } from "./api.js";
import { bytes, clear, h, row, stateBadge, table, time } from "./dom.js";
import type { LiveEvent } from "./live.js";

export interface View {
  root: HTMLElement;
  onLive?(event: LiveEvent): void;
}

// Shows an error where the user sees it; set by main.ts.
export let reportError: (e: unknown) => void = (e) => console.error(e);
export function setErrorReporter(fn: (e: unknown) => void): void {
  reportError = fn;
}

export async function productNames(): Promise<Map<number, string>> {
  const { products } = await api<{ products: Product[] }>("GET", "/products");
  return new Map(products.map((p) => [p.id, p.name]));
}

export function productsView(): View {
  const root = h("section", { "data-testid": "products-view" }, h("h2", {}, "Products"));
  const body = h("div");
  root.append(body);
  api<{ products: Product[] }>("GET", "/products")
    .then(({ products }) => {
      clear(
        body,
        table(
          ["Id", "Name", "Profile", "Slot size", "Sector size", "Self-registration", "Created"],
          products.map((p) =>
            row(
              `product-${p.name}`,
              p.id,
              p.name,
              p.profile,
              bytes(p.slot_size),
              bytes(p.sector_size),
              p.self_registration ? "yes" : "no",
              time(p.created_at),
            ),
          ),
          "products-table",
        ),
      );
    })
    .catch(reportError);
  return { root };
}

// The deployment a device row describes: its open one, else its latest.
function deviceStatus(d: Device) {
  return d.deployment ?? d.last_deployment ?? null;
}

export function devicesView(): View {
  const input = (name: string, placeholder: string) =>
    h("input", { name, placeholder, "data-testid": `filter-${name}` });
  const product = h("select", { name: "product", "data-testid": "filter-product" },
    h("option", { value: "" }, "any product"));
  const tag = input("tag", "tag");
  const version = input("version", "version");
  const state = h(
    "select",
    { name: "state", "data-testid": "filter-state" },
    h("option", { value: "" }, "any state"),
    ...["scheduled", "pending", "downloading", "installing", "rebooting", "deferred"].map((s) =>
      h("option", { value: s }, s),
    ),
  );
  const total = h("span", { class: "muted", "data-testid": "devices-total" });
  const body = h("div");
  let names = new Map<number, string>();

  const load = async () => {
    const query = new URLSearchParams({ limit: "500" });
    for (const [key, el] of [["product", product], ["tag", tag], ["version", version], ["state", state]] as const) {
      if (el.value.trim()) query.set(key, el.value.trim());
    }
    const { devices, total: count } = await api<{ devices: Device[]; total: number }>(
      "GET",
      `/devices?${query}`,
    );
    total.textContent = `${devices.length} shown of ${count}`;
    clear(
      body,
      table(
        ["Device", "Product", "Hardware", "Tags", "Version", "State", "Progress", "Last error", "Last seen", "Serial"],
        devices.map((d) => {
          const dep = deviceStatus(d);
          return row(
            `device-${d.id}`,
            d.id,
            names.get(d.product) ?? String(d.product),
            d.hardware,
            d.tags.join(", "),
            d.version || "—",
            d.decommissioned_at ? stateBadge("decommissioned") : dep ? stateBadge(dep.state) : "idle",
            dep && !["succeeded", "canceled"].includes(dep.state) ? `${dep.progress}%` : "",
            dep && dep.error ? errorCell(dep.error, dep.error_name, dep.error_text) : "",
            time(d.last_seen),
            serialCell(d, load),
          );
        }),
        "devices-table",
      ),
    );
  };
  const form = h(
    "form",
    {
      class: "filters",
      "data-testid": "devices-filters",
      onsubmit: (e: Event) => {
        e.preventDefault();
        load().catch(reportError);
      },
    },
    product, tag, version, state,
    h("button", { type: "submit", "data-testid": "filter-apply" }, "Filter"),
    total,
  );
  const root = h("section", { "data-testid": "devices-view" }, h("h2", {}, "Devices"), form, body);
  productNames()
    .then((n) => {
      names = n;
      for (const [, name] of n) product.append(h("option", { value: name }, name));
      return load();
    })
    .catch(reportError);
  return { root };
}

// A device's serial number (EnOS sub-devices prove themselves with it) and a
// button that sets it.
function serialCell(d: Device, reload: () => Promise<void>): HTMLElement {
  const edit = async () => {
    const serial = window.prompt(`Serial number of ${d.id} (empty removes it)`, d.serial);
    if (serial === null) return;
    await api("PUT", `/devices/${encodeURIComponent(d.id)}/serial`, { serial: serial.trim() });
    await reload();
  };
  return h(
    "span",
    {},
    h("span", { "data-testid": `serial-${d.id}` }, d.serial || "—"),
    " ",
    h("button", { class: "link", "data-testid": `serial-edit-${d.id}`, onclick: () => void edit().catch(reportError) }, "edit"),
  );
}

export function errorCell(number: number, name: string, text: string): HTMLElement {
  return h(
    "span",
    { class: "error-number", title: name, "data-testid": "error-number" },
    h("b", {}, String(number)),
    " ",
    h("span", { class: "error-name" }, name),
    h("span", { class: "error-text" }, text ? ` — ${text}` : ""),
  );
}

export function releasesView(): View {
  const root = h("section", { "data-testid": "releases-view" }, h("h2", {}, "Releases"));
  const body = h("div");
  root.append(body);
  api<{ releases: Release[] }>("GET", "/releases")
    .then(({ releases }) => {
      clear(
        body,
        table(
          ["Id", "Product", "Version", "Security counter", "Hardware", "Size", "SHA-256", "Created", "Notes", ""],
          releases.map((r) =>
            row(
              `release-${r.id}`,
              r.id,
              r.product,
              r.version,
              r.security_counter,
              r.hardware.join(", "),
              bytes(r.size),
              h("code", { title: r.sha256 }, r.sha256.slice(0, 12)),
              time(r.created_at),
              r.notes,
              h("a", { href: `#/campaigns?release=${r.id}` }, "new campaign"),
            ),
          ),
          "releases-table",
        ),
      );
    })
    .catch(reportError);
  return { root };
}

export function auditView(): View {
  const body = h("tbody");
  const more = h("button", { type: "button", "data-testid": "audit-more" }, "Older");
  let oldest = 0;
  const load = async () => {
    const query = new URLSearchParams({ limit: "100" });
    if (oldest) query.set("before", String(oldest));
    const { events } = await api<{ events: AuditEvent[] }>("GET", `/audit?${query}`);
    for (const e of events) {
      body.append(
        row(
          `audit-${e.id}`,
          time(e.at),
          e.actor,
          e.action,
          e.object,
          h("code", {}, typeof e.details === "string" ? e.details : JSON.stringify(e.details)),
        ),
      );
      oldest = e.id;
    }
    more.hidden = events.length < 100;
  };
  more.addEventListener("click", () => load().catch(reportError));
  const root = h(
    "section",
    { "data-testid": "audit-view" },
    h("h2", {}, "Audit log"),
    h(
      "table",
      { "data-testid": "audit-table" },
      h("thead", {}, h("tr", {}, ...["At", "Actor", "Action", "Object", "Details"].map((t) => h("th", {}, t)))),
      body,
    ),
    more,
  );
  load().catch(reportError);
  return { root };
}
