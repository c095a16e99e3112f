// Small DOM helpers: build elements without innerHTML (API text is never parsed
// as markup), format times and sizes, draw progress bars.

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | EventListener | undefined>;

// h("div", {class: "x", "data-testid": "y", onclick: f}, "text", child...)
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value);
    } else if (value === true) {
      el.setAttribute(name, "");
    } else {
      el.setAttribute(name, String(value));
    }
  }
  append(el, ...children);
  return el;
}

export function append(el: Element, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

export function clear(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, ...children);
}

export function time(unix: number): string {
  if (!unix) return "—";
  const d = new Date(unix * 1000);
  const pad = (n: number) => String(n).padStart(2, "0");
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
  );
}

// "2026-12-24T08:00" (a datetime-local value, the browser's time zone) as Unix seconds.
export function parseLocalTime(value: string): number | null {
  const t = new Date(value).getTime();
  return Number.isNaN(t) ? null : Math.floor(t / 1000);
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(2)} MB`;
}

// A bar filled to `done` (succeeded, green) plus `failed` (red) out of 100 percent.
// The text and data-percent carry the whole done share for readers and tests.
export function progressBar(percent: number, failedPercent: number, testid: string): HTMLElement {
  const p = Math.max(0, Math.min(100, Math.round(percent)));
  const f = Math.max(0, Math.min(p, Math.round(failedPercent)));
  // Widths through CSSOM: the server's Content-Security-Policy forbids style attributes.
  const ok = h("div", { class: "bar-ok" });
  ok.style.width = `${p - f}%`;
  const failed = h("div", { class: "bar-failed" });
  failed.style.width = `${f}%`;
  return h(
    "div",
    { class: "bar", "data-testid": testid, "data-percent": p, title: `${p}%` },
    ok,
    failed,
    h("span", { class: "bar-text" }, `${p}%`),
  );
}

export function stateBadge(state: string, testid?: string): HTMLElement {
  return h("span", { class: `state state-${state}`, "data-testid": testid }, state.replace("_", " "));
}

export function table(headers: string[], rows: HTMLTableRowElement[], testid: string): HTMLElement {
  return h(
    "table",
    { "data-testid": testid },
    h("thead", {}, h("tr", {}, ...headers.map((t) => h("th", {}, t)))),
    h("tbody", {}, ...rows),
    rows.length === 0 ? h("caption", {}, "nothing yet") : null,
  );
}

export function row(testid: string | undefined, ...cells: Child[]): HTMLTableRowElement {
  return h("tr", { "data-testid": testid }, ...cells.map((c) => h("td", {}, c)));
}

// Runs `fn` at most once per `ms`, always once more after the last call, so a burst
// of live events costs a few requests and the view still ends up current.
export function throttle(fn: () => void, ms: number): () => void {
  let last = 0;
  let timer: number | undefined;
  return () => {
    if (timer !== undefined) return;
    const wait = Math.max(0, last + ms - Date.now());
    timer = window.setTimeout(() => {
      timer = undefined;
      last = Date.now();
      fn();
    }, wait);
  };
}

// Previous / "first–last of total" / Next under a list the server pages.
// `load(offset)` fetches a page; set() tells the pager what came back.
export interface Pager {
  el: HTMLElement;
  offset: number;
  set(shown: number, total: number): void;
}

export function pager(testid: string, pageSize: number, load: () => void): Pager {
  const prev = h("button", { type: "button", "data-testid": `${testid}-prev` }, "← Previous");
  const next = h("button", { type: "button", "data-testid": `${testid}-next` }, "Next →");
  const info = h("span", { class: "muted", "data-testid": `${testid}-page` });
  const p: Pager = {
    el: h("div", { class: "pager" }, prev, info, next),
    offset: 0,
    set(shown: number, total: number) {
      info.textContent = total ? `${p.offset + 1}–${p.offset + shown} of ${total}` : "";
      prev.disabled = p.offset === 0;
      next.disabled = p.offset + shown >= total;
      p.el.hidden = total <= pageSize && p.offset === 0;
    },
  };
  prev.addEventListener("click", () => {
    p.offset = Math.max(0, p.offset - pageSize);
    load();
  });
  next.addEventListener("click", () => {
    p.offset += pageSize;
    load();
  });
  return p;
}
