// The list views: products (with the create form), devices (search, paging and the
// register form) and the audit log. Each view fills its own element and may
// refresh itself on live events.
import { api, AuditEvent, Device, mayAdminister, mayOperate, Product, Session } from "./api.js";
import { bytes, clear, h, pager, row, stateBadge, table, time } from "./dom.js";
import type { LiveEvent } from "./live.js";
import { pendingAuthSets } from "./mender.js";

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

export function productsView(session: Session | null): View {
  const root = h("section", { "data-testid": "products-view" }, h("h2", {}, "Products"));
  const body = h("div");
  const admin = mayAdminister(session);
  const remove = async (p: Product) => {
    if (!window.confirm(`Delete product ${p.name}?`)) return;
    await api("DELETE", `/products/${encodeURIComponent(p.name)}`);
    await load();
  };
  const load = async () => {
    const { products } = await api<{ products: Product[] }>("GET", "/products");
    clear(
      body,
      table(
        ["Id", "Name", "Profile", "Slot size", "Sector size", "Self-registration", "Created", ""],
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
            admin ? h("button", { type: "button", class: "link", "data-testid": `product-delete-${p.name}`,
              onclick: () => void remove(p).catch(reportError) }, "delete") : "",
          ),
        ),
        "products-table",
      ),
    );
  };
  root.append(body);
  if (admin) root.append(productForm(load));
  load().catch(reportError);
  return { root };
}

function productForm(reload: () => Promise<void>): HTMLElement {
  const name = h("input", { required: true, placeholder: "water-meter", "data-testid": "product-name" });
  const profile = h("select", { "data-testid": "product-profile" },
    ...["mcu-tiny", "mcu", "linux"].map((p) => h("option", { value: p }, p)));
  const slot = h("input", { type: "number", min: "0", placeholder: "bytes, 0: no limit", "data-testid": "product-slot" });
  const note = h("p", { class: "muted", "data-testid": "product-created" });
  const submit = async () => {
    await api<Product>("POST", "/products", {
      name: name.value.trim(), profile: profile.value, slot_size: Number(slot.value) || 0 });
    note.textContent = `Product ${name.value.trim()} created.`;
    name.value = "";
    await reload();
  };
  return h("form", { class: "create", "data-testid": "create-product",
    onsubmit: (e: Event) => { e.preventDefault(); submit().catch(reportError); } },
  h("h3", {}, "New product"),
  h("div", { class: "grid" }, field("Name", name), field("Patch profile", profile, "the device's RAM class"),
    field("Slot size", slot, "largest image")),
  h("div", { class: "checks" }, h("button", { type: "submit", class: "primary", "data-testid": "product-submit" }, "Create product")),
  note);
}

export function field(label: string, input: HTMLElement, hint?: string): HTMLElement {
  return h("label", {}, h("span", {}, label), input, hint ? h("small", {}, hint) : null);
}

// The deployment a device row describes: its open one, else its latest.
function deviceStatus(d: Device) {
  return d.deployment ?? d.last_deployment ?? null;
}

const kDevicesPage = 50;
const kDeploymentStates = ["scheduled", "pending", "downloading", "installing", "rebooting", "deferred",
  "succeeded", "failed", "rolled_back", "canceled"];

// The devices: every filter and the paging run on the server (its `total` counts
// what the filters match), so the page stays fast with a large fleet.
export function devicesView(session: Session | null, params: URLSearchParams = new URLSearchParams()): View {
  const input = (name: string, placeholder: string) =>
    h("input", { name, placeholder, value: params.get(name) ?? "", "data-testid": `filter-${name}` });
  const product = h("select", { name: "product", "data-testid": "filter-product" },
    h("option", { value: "" }, "any product"));
  const id = input("id", "id starts with");
  const tag = input("tag", "tag");
  const version = input("version", "version");
  const hardware = input("hardware", "hardware");
  const state = h(
    "select",
    { name: "state", "data-testid": "filter-state" },
    h("option", { value: "" }, "any state"),
    ...kDeploymentStates.map((s) => h("option", { value: s, selected: params.get("state") === s }, s.replace("_", " "))),
  );
  // Last seen: within an hour, a day or a week, or not for a week (the API's
  // seen_after / seen_before, relative to now).
  const seen = h("select", { name: "seen", "data-testid": "filter-seen" },
    h("option", { value: "" }, "seen any time"),
    h("option", { value: "3600" }, "seen in the last hour"),
    h("option", { value: "86400" }, "seen in the last day"),
    h("option", { value: "604800" }, "seen in the last week"),
    h("option", { value: "-604800" }, "not seen for a week"));
  const total = h("span", { class: "muted", "data-testid": "devices-total" });
  const body = h("div", { class: "scroll" });
  let names = new Map<number, string>();
  const pages = pager("devices", kDevicesPage, () => void load().catch(reportError));

  const load = async () => {
    const query = new URLSearchParams({ limit: String(kDevicesPage), offset: String(pages.offset) });
    for (const [key, el] of [["product", product], ["id", id], ["tag", tag], ["version", version],
      ["hardware", hardware], ["state", state]] as const) {
      if (el.value.trim()) query.set(key, el.value.trim());
    }
    if (seen.value) {
      const span = Number(seen.value);
      const now = Math.floor(Date.now() / 1000);
      query.set(span > 0 ? "seen_after" : "seen_before", String(now - Math.abs(span)));
    }
    const { devices, total: count } = await api<{ devices: Device[]; total: number }>(
      "GET",
      `/devices?${query}`,
    );
    total.textContent = `${devices.length} shown of ${count}`;
    pages.set(devices.length, count);
    clear(
      body,
      table(
        ["Device", "Product", "Hardware", "Tags", "Version", "State", "Progress", "Last error", "Last seen", "Serial"],
        devices.map((d) => {
          const dep = deviceStatus(d);
          return row(
            `device-${d.id}`,
            h("a", { href: `#/devices/${encodeURIComponent(d.id)}`, "data-testid": `device-link-${d.id}` }, d.id),
            names.get(d.product) ?? String(d.product),
            d.hardware,
            d.tags.join(", "),
            d.version || "—",
            d.decommissioned_at ? stateBadge("decommissioned") : dep ? stateBadge(dep.state) : "idle",
            dep && !["succeeded", "canceled"].includes(dep.state) ? `${dep.progress}%` : "",
            dep && dep.error ? errorCell(dep.error, dep.error_name, dep.error_text) : "",
            time(d.last_seen),
            serialCell(d, load, mayOperate(session)),
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
        pages.offset = 0;
        load().catch(reportError);
      },
    },
    id, product, hardware, tag, version, state, seen,
    h("button", { type: "submit", "data-testid": "filter-apply" }, "Filter"),
    total,
  );
  // One request for the product names, which the filter and the form share.
  const products = productNames();
  const root = h("section", { "data-testid": "devices-view" }, h("h2", {}, "Devices"),
    pendingAuthSets(products, mayOperate(session), () => load()), form, body,
    pages.el,
    mayOperate(session) ? registerForm(products, () => load()) : null);
  products
    .then((n) => {
      names = n;
      for (const [, name] of n) {
        product.append(h("option", { value: name, selected: params.get("product") === name }, name));
      }
      return load();
    })
    .catch(reportError);
  return { root };
}

// Registers a device; its secret is shown once, as the API gives it once.
function registerForm(products: Promise<Map<number, string>>, reload: () => Promise<void>): HTMLElement {
  const id = h("input", { required: true, placeholder: "meter-0042", "data-testid": "register-id" });
  const product = h("select", { required: true, "data-testid": "register-product" });
  const hardware = h("input", { required: true, placeholder: "rev-b", "data-testid": "register-hardware" });
  const tags = h("input", { placeholder: "eu, pilot", "data-testid": "register-tags" });
  const serial = h("input", { placeholder: "EnOS serial (optional)", "data-testid": "register-serial" });
  const result = h("div", { "data-testid": "register-result" });
  products
    .then((n) => {
      for (const [, name] of n) product.append(h("option", { value: name }, name));
    })
    .catch(reportError);
  const submit = async () => {
    const body: Record<string, unknown> = {
      id: id.value.trim(),
      product: product.value,
      hardware: hardware.value.trim(),
      tags: tags.value.split(",").map((t) => t.trim()).filter(Boolean),
    };
    if (serial.value.trim()) body["serial"] = serial.value.trim();
    const created = await api<Device & { secret: string }>("POST", "/devices", body);
    clear(result, h("p", { class: "secret" }, `Device ${created.id} registered. Its secret, shown once: `,
      h("code", { "data-testid": "register-secret" }, created.secret)));
    id.value = "";
    await reload();
  };
  return h("form", { class: "create", "data-testid": "register-device",
    onsubmit: (e: Event) => { e.preventDefault(); submit().catch(reportError); } },
  h("h3", {}, "Register a device"),
  h("div", { class: "grid" }, field("Id", id), field("Product", product), field("Hardware", hardware),
    field("Tags", tags, "comma-separated"), field("Serial", serial, "EnOS sub-devices prove themselves with it")),
  h("div", { class: "checks" }, h("button", { type: "submit", class: "primary", "data-testid": "register-submit" }, "Register")),
  result);
}

// Asks for a device's serial number (EnOS sub-devices prove themselves with it)
// and sets it; false when the user cancelled.
export async function promptSerial(d: Device): Promise<boolean> {
  const serial = window.prompt(`Serial number of ${d.id} (empty removes it)`, d.serial);
  if (serial === null) return false;
  await api("PUT", `/devices/${encodeURIComponent(d.id)}/serial`, { serial: serial.trim() });
  return true;
}

// A device's serial number and a button that sets it.
function serialCell(d: Device, reload: () => Promise<void>, editable: boolean): HTMLElement {
  const edit = async () => {
    if (await promptSerial(d)) await reload();
  };
  return h(
    "span",
    {},
    h("span", { "data-testid": `serial-${d.id}` }, d.serial || "—"),
    " ",
    editable ? h("button", { class: "link", "data-testid": `serial-edit-${d.id}`, onclick: () => void edit().catch(reportError) }, "edit") : null,
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
