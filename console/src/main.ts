// The console's entry: the token (from #token=..., the form, or localStorage) and
// its role (GET /session: each view shows only what the role may do), the tabs
// (hash routes #/campaigns[/ID], #/devices[/ID], #/releases[/ID], #/products,
// #/tokens, #/audit), the error banner, and the live event stream that refreshes
// the current view.
import { api, ApiError, forgetToken, mayAdminister, savedToken, saveToken, Session } from "./api.js";
import { campaignsView, campaignView } from "./campaigns.js";
import { deviceView } from "./device.js";
import { clear, h } from "./dom.js";
import { connectLive, Live } from "./live.js";
import { releasesView, releaseView } from "./releases.js";
import { tokensView } from "./tokens.js";
import { auditView, devicesView, productsView, setErrorReporter, View } from "./views.js";

const main = document.getElementById("main")!;
const nav = document.getElementById("nav")!;
const banner = document.getElementById("error")!;
const liveIndicator = document.getElementById("live")!;
const whoami = h("span", { class: "whoami", "data-testid": "whoami" });
let current: View | null = null;
let live: Live | null = null;
let session: Session | null = null;

function showError(e: unknown): void {
  const text = e instanceof ApiError ? e.describe() : e instanceof Error ? e.message : String(e);
  clear(
    banner,
    h("span", { "data-testid": "error-text" }, text),
    h("button", { type: "button", class: "link", onclick: () => hideError() }, "dismiss"),
  );
  banner.hidden = false;
  if (e instanceof ApiError && e.status === 401) showLogin("That token was not accepted.");
}

function hideError(): void {
  banner.hidden = true;
  banner.replaceChildren();
}

const tabs: [string, string][] = [
  ["campaigns", "Campaigns"],
  ["devices", "Devices"],
  ["releases", "Releases"],
  ["products", "Products"],
  ["tokens", "Tokens"],
  ["audit", "Audit log"],
];

function route(): void {
  const hash = location.hash.replace(/^#\/?/, "");
  const [path, query] = hash.split("?");
  const [tab, id] = (path || "campaigns").split("/");
  const params = new URLSearchParams(query ?? "");
  hideError();
  for (const a of nav.querySelectorAll("a")) a.classList.toggle("active", a.dataset["tab"] === tab);
  switch (tab) {
    case "products":
      current = productsView(session);
      break;
    case "devices":
      current = id ? deviceView(decodeURIComponent(id), session) : devicesView(session, params);
      break;
    case "releases":
      current = id ? releaseView(Number(id), session) : releasesView(session);
      break;
    case "tokens":
      // Only an admin may list tokens; another role lands on the campaigns.
      current = mayAdminister(session) ? tokensView() : campaignsView(session);
      break;
    case "audit":
      current = auditView();
      break;
    default:
      current = id
        ? campaignView(Number(id), session)
        : campaignsView(session, params.has("release") ? Number(params.get("release")) : undefined);
  }
  clear(main, current.root);
}

function showLogin(message = ""): void {
  live?.close();
  live = null;
  current = null;
  nav.hidden = true;
  const token = h("input", { type: "password", name: "token", required: true, autocomplete: "off",
    placeholder: "admin, operator or viewer token", "data-testid": "login-token" });
  const form = h(
    "form",
    {
      class: "login",
      "data-testid": "login",
      onsubmit: (e: Event) => {
        e.preventDefault();
        saveToken(token.value.trim());
        start().catch(showError);
      },
    },
    h("h2", {}, "Sign in"),
    h("p", { class: "muted" },
      "Paste an API token. updraftd writes the admin token to <data>/admin.token; " +
      "`updraft` can make operator and viewer tokens."),
    message ? h("p", { class: "warn" }, message) : null,
    token,
    h("button", { type: "submit", class: "primary", "data-testid": "login-submit" }, "Open console"),
  );
  clear(main, form);
}

async function start(): Promise<void> {
  // One cheap call proves the token, and names its role, before the views fire theirs.
  session = await api<Session>("GET", "/session");
  hideError();
  nav.hidden = false;
  const tokensTab = nav.querySelector<HTMLElement>('a[data-tab="tokens"]');
  if (tokensTab) tokensTab.hidden = !mayAdminister(session);
  whoami.textContent = `${session.name} (${session.role})`;
  live?.close();
  live = connectLive((event) => current?.onLive?.(event), liveIndicator, route);
  // replaceState, not location.hash: a hashchange would render the view twice.
  if (!location.hash.startsWith("#/")) history.replaceState(null, "", `${location.pathname}#/campaigns`);
  route();
}

// A ready link (scripts print <server>/#token=...): keeps the token and drops it from
// the URL, so it stays out of the history. True when the URL held one.
function takeTokenFromUrl(): boolean {
  const fromUrl = /^#token=([^&]+)/.exec(location.hash);
  if (!fromUrl) return false;
  saveToken(decodeURIComponent(fromUrl[1]));
  history.replaceState(null, "", `${location.pathname}#/campaigns`);
  return true;
}

function init(): void {
  setErrorReporter(showError);
  clear(
    nav,
    ...tabs.map(([tab, label]) => h("a", { href: `#/${tab}`, "data-tab": tab, "data-testid": `tab-${tab}` }, label)),
    whoami,
    h("button", { type: "button", class: "link", "data-testid": "sign-out",
      onclick: () => { forgetToken(); showLogin(); } }, "sign out"),
  );
  takeTokenFromUrl();
  window.addEventListener("hashchange", () => {
    if (takeTokenFromUrl()) {
      start().catch(showError);
    } else if (savedToken() && !nav.hidden) {
      route();
    }
  });
  if (savedToken()) {
    start().catch(showError);
  } else {
    showLogin();
  }
}

init();
