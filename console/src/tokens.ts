// API tokens (admins only): the list with each token's state, the create form
// (the secret is shown once, as the API gives it once), and Revoke.
import { api, Token } from "./api.js";
import { clear, h, row, stateBadge, table, time } from "./dom.js";
import { field, reportError, View } from "./views.js";

export function tokensView(): View {
  const body = h("div", { class: "scroll" });
  const created = h("div", { "data-testid": "token-created" });
  const revoke = async (t: Token) => {
    if (!window.confirm(`Revoke token "${t.name}"? It is refused from its next request on.`)) return;
    await api<Token>("DELETE", `/tokens/${t.id}`);
    await load();
  };
  const load = async () => {
    const { tokens } = await api<{ tokens: Token[] }>("GET", "/tokens");
    clear(
      body,
      table(
        ["Id", "Name", "Role", "State", "Created", "Expires", "Last used", ""],
        tokens.map((t) =>
          row(
            `token-${t.name}`,
            t.id,
            t.name,
            t.role,
            stateBadge(t.state, `token-state-${t.name}`),
            time(t.created_at),
            t.expires_at ? time(t.expires_at) : "never",
            time(t.last_used_at),
            t.state === "active"
              ? h("button", { type: "button", class: "link", "data-testid": `token-revoke-${t.name}`,
                onclick: () => void revoke(t).catch(reportError) }, "revoke")
              : "",
          ),
        ),
        "tokens-table",
      ),
    );
  };

  const name = h("input", { required: true, placeholder: "ci-pipeline", "data-testid": "token-name" });
  const role = h("select", { "data-testid": "token-role" },
    ...["viewer", "operator", "admin"].map((r) => h("option", { value: r }, r)));
  const days = h("input", { type: "number", min: "1", placeholder: "never", "data-testid": "token-days" });
  const create = async () => {
    const body: Record<string, unknown> = { name: name.value.trim(), role: role.value };
    if (days.value) body["expires_in_days"] = Number(days.value);
    const made = await api<Token & { token: string }>("POST", "/tokens", body);
    clear(created, h("p", { class: "secret" }, `Token "${made.name}" (${made.role}), shown once: `,
      h("code", { "data-testid": "token-secret" }, made.token)));
    name.value = "";
    await load();
  };
  const form = h("form", { class: "create", "data-testid": "create-token",
    onsubmit: (e: Event) => { e.preventDefault(); create().catch(reportError); } },
  h("h3", {}, "New token"),
  h("div", { class: "grid" }, field("Name", name), field("Role", role, "viewer reads; operator changes the fleet"),
    field("Expires in days", days, "empty: never")),
  h("div", { class: "checks" }, h("button", { type: "submit", class: "primary", "data-testid": "token-submit" }, "Create token")),
  created);

  const root = h("section", { "data-testid": "tokens-view" }, h("h2", {}, "API tokens"), body, form);
  load().catch(reportError);
  return { root };
}
