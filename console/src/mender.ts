// Mender clients on the console (docs/api/mender.md): the identities waiting to be
// admitted, shown above the device list with Accept (into a product) and Reject,
// and a device's inventory on its page.
import { api } from "./api.js";
import { clear, h, time } from "./dom.js";
import { reportError } from "./views.js";

export interface AuthSet {
  id: number;
  id_data: Record<string, unknown>;
  status: string;
  device: string | null;
  created_at: number;
  updated_at: number;
}

export interface InventoryAttribute {
  name: string;
  value: unknown;
  updated_at: number;
}

// The pending sets, or nothing at all while there are none. `products` are the
// product names an operator may accept a device into; `operate` shows the buttons.
export function pendingAuthSets(products: Promise<Map<number, string>>, operate: boolean,
  onAdmitted: () => Promise<void>): HTMLElement {
  const root = h("div", { class: "panel", "data-testid": "mender-pending", hidden: true });
  const load = async () => {
    const [{ auth_sets: sets, total }, names] = await Promise.all([
      api<{ auth_sets: AuthSet[]; total: number }>("GET", "/mender/auth_sets?status=pending&limit=50"),
      products]);
    root.hidden = total === 0;
    const decide = async (set: AuthSet, verb: "accept" | "reject", product?: string) => {
      await api("POST", `/mender/auth_sets/${set.id}/${verb}`, product ? { product } : {});
      await load();
      if (verb === "accept") await onAdmitted();
    };
    clear(root, h("h3", {}, `Mender clients waiting to be admitted (${total})`),
      ...sets.map((set) => {
        const product = h("select", { "data-testid": `mender-product-${set.id}` },
          ...[...names.values()].map((n) => h("option", { value: n }, n)));
        return h("div", { class: "summary", "data-testid": "mender-pending-set", "data-set": set.id },
          h("code", {}, JSON.stringify(set.id_data)),
          h("span", { class: "muted" }, `asked ${time(set.created_at)}`),
          operate ? h("span", { class: "actions" }, product,
            h("button", { type: "button", class: "primary", "data-testid": `mender-accept-${set.id}`,
              onclick: () => void decide(set, "accept", product.value).catch(reportError) }, "Accept"),
            h("button", { type: "button", class: "danger", "data-testid": `mender-reject-${set.id}`,
              onclick: () => void decide(set, "reject").catch(reportError) }, "Reject")) : null);
      }));
  };
  load().catch(reportError);
  return root;
}

// The device's inventory as a two-column table; hidden when it reported none.
export function inventoryTable(): { el: HTMLElement; load: (path: string) => Promise<void> } {
  const el = h("div", { "data-testid": "device-inventory", hidden: true });
  const load = async (path: string) => {
    const { attributes } = await api<{ attributes: InventoryAttribute[] }>("GET", `${path}/inventory`);
    el.hidden = attributes.length === 0;
    clear(el, h("h3", {}, "Inventory"),
      h("table", {}, h("tbody", {}, ...attributes.map((a) =>
        h("tr", { "data-testid": `inventory-${a.name}` },
          h("th", {}, a.name),
          h("td", {}, typeof a.value === "string" ? a.value : JSON.stringify(a.value)),
          h("td", { class: "muted" }, time(a.updated_at)))))));
  };
  return { el, load };
}
