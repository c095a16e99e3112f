// Releases: the list with the upload form (a progress bar while the image goes up),
// and a release's page (#/releases/ID) with the patches built to it and Delete.
import { api, DeltaInfo, mayOperate, Product, Release, Session, uploadFile } from "./api.js";
import { bytes, clear, h, pager, progressBar, row, stateBadge, table, time } from "./dom.js";
import { reportError, View } from "./views.js";

const kReleasesPage = 50;

export function releasesView(session: Session | null): View {
  const body = h("div", { class: "scroll" });
  const pages = pager("releases", kReleasesPage, () => void load().catch(reportError));
  const load = async () => {
    const { releases, total } = await api<{ releases: Release[]; total: number }>(
      "GET", `/releases?limit=${kReleasesPage}&offset=${pages.offset}`);
    pages.set(releases.length, total);
    clear(
      body,
      table(
        ["Id", "Product", "Version", "Security counter", "Hardware", "Size", "SHA-256", "Created", "Notes", ""],
        releases.map((r) =>
          row(
            `release-${r.id}`,
            h("a", { href: `#/releases/${r.id}`, "data-testid": `release-link-${r.id}` }, String(r.id)),
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
  };
  const root = h("section", { "data-testid": "releases-view" }, h("h2", {}, "Releases"), body, pages.el,
    mayOperate(session) ? uploadForm(load) : null);
  load().catch(reportError);
  return { root };
}

function uploadForm(reload: () => Promise<void>): HTMLElement {
  const field = (label: string, input: HTMLElement, hint?: string) =>
    h("label", {}, h("span", {}, label), input, hint ? h("small", {}, hint) : null);
  const file = h("input", { type: "file", required: true, "data-testid": "upload-file" });
  const product = h("select", { required: true, "data-testid": "upload-product" });
  const version = h("input", { required: true, placeholder: "2.1.0", "data-testid": "upload-version" });
  const counter = h("input", { type: "number", min: "0", required: true, value: "1", "data-testid": "upload-counter" });
  const hardware = h("input", { required: true, placeholder: "rev-a,rev-b", "data-testid": "upload-hardware" });
  const notes = h("input", { "data-testid": "upload-notes" });
  const progress = h("div", { class: "upload-progress", "data-testid": "upload-progress-box" });
  const submit = h("button", { type: "submit", class: "primary", "data-testid": "upload-submit" }, "Upload");

  api<{ products: Product[] }>("GET", "/products")
    .then(({ products }) => {
      for (const p of products) product.append(h("option", { value: p.name }, p.name));
    })
    .catch(reportError);

  const onSubmit = async () => {
    const image = file.files?.[0];
    if (!image) throw new Error("choose an image file");
    const query = new URLSearchParams({
      product: product.value,
      version: version.value.trim(),
      security_counter: counter.value,
      hardware: hardware.value.split(",").map((s) => s.trim()).filter(Boolean).join(","),
    });
    if (notes.value.trim()) query.set("notes", notes.value.trim());
    submit.disabled = true;
    const show = (sent: number, total: number) =>
      clear(progress, progressBar(total ? (100 * sent) / total : 0, 0, "upload-progress"),
        h("span", { class: "muted" }, `${bytes(sent)} of ${bytes(total)}`));
    show(0, image.size);
    try {
      const release = await uploadFile<Release>(`/releases?${query}`, image, show);
      clear(progress, h("span", { "data-testid": "upload-done" },
        `Release #${release.id} (${release.product} ${release.version}) uploaded and signed.`));
      await reload();
    } catch (e) {
      progress.replaceChildren();
      throw e;
    } finally {
      submit.disabled = false;
    }
  };
  return h(
    "form",
    { class: "create", "data-testid": "upload-release",
      onsubmit: (e: Event) => { e.preventDefault(); onSubmit().catch(reportError); } },
    h("h3", {}, "Upload a release"),
    h("div", { class: "grid" },
      field("Image", file, "the full firmware image"),
      field("Product", product),
      field("Version", version, "semantic version"),
      field("Security counter", counter, "devices refuse a lower one"),
      field("Hardware", hardware, "comma-separated revisions"),
      field("Notes", notes)),
    h("div", { class: "checks" }, submit),
    progress,
  );
}

export function releaseView(id: number, session: Session | null): View {
  const head = h("div");
  const deltas = h("div");
  const load = async () => {
    const [r, d] = await Promise.all([
      api<Release>("GET", `/releases/${id}`),
      api<{ size: number; deltas: DeltaInfo[] }>("GET", `/releases/${id}/deltas`),
    ]);
    clear(
      head,
      h("h2", {}, `${r.product} ${r.version}`, h("span", { class: "muted" }, ` #${r.id}`)),
      h("div", { class: "cards" },
        ...([
          ["Size", bytes(r.size)],
          ["Security counter", String(r.security_counter)],
          ["Hardware", r.hardware.join(", ")],
          ["SHA-256", h("code", {}, r.sha256)],
          ["Uploaded", time(r.created_at)],
          ["Notes", r.notes || "—"],
        ] as [string, Node | string][]).map(([label, value]) =>
          h("div", { class: "card" }, h("div", { class: "card-label" }, label), h("div", { class: "card-value" }, value)))),
    );
    clear(
      deltas,
      table(
        ["From", "Profile", "State", "Size", "Of the full image", "Build time", "Served"],
        d.deltas.map((x) =>
          row(
            `delta-${x.from_version ?? x.from_sha256.slice(0, 12)}`,
            x.from_version ?? h("code", { title: x.from_sha256 }, x.from_sha256.slice(0, 12)),
            x.profile,
            stateBadge(x.state),
            x.ratio === null ? "—" : bytes(x.size),
            x.ratio === null ? "—" : `${(100 * x.ratio).toFixed(1)}%`,
            x.build_ms ? `${(x.build_ms / 1000).toFixed(2)} s` : "—",
            x.hits,
          ),
        ),
        "deltas-table",
      ),
    );
  };
  const remove = async () => {
    if (!window.confirm(`Delete release #${id}? Its image and the patches built to it go too.`)) return;
    await api("DELETE", `/releases/${id}`);
    location.hash = "#/releases";
  };
  const root = h(
    "section",
    { "data-testid": "release-view", "data-release": id },
    h("a", { href: "#/releases" }, "← all releases"),
    head,
    h("h3", {}, "Patches built to this release"),
    h("p", { class: "muted" }, "Built when a campaign starts or a device asks, one per version devices run."),
    deltas,
    mayOperate(session) ? h("div", { class: "actions" },
      h("a", { href: `#/campaigns?release=${id}` }, "new campaign"),
      h("button", { type: "button", class: "danger", "data-testid": "release-delete",
        onclick: () => void remove().catch(reportError) }, "Delete release")) : null,
  );
  load().catch(reportError);
  return { root };
}
