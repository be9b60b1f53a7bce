// Artifact browser: a lazily expanded tree of a run's (or logged model's) artifacts and a
// preview of the selected file: text, JSON, YAML, CSV/TSV as a table, images, MLmodel
// summaries; anything can be downloaded. File contents are always shown as text or <img>,
// never as HTML, so an artifact cannot run script in the page.
"use strict";
(function () {
  const PREVIEW_LIMIT = 5 * 1024 * 1024;
  const TABLE_ROWS = 1000;
  const IMAGE = /\.(png|jpe?g|gif|svg|webp|bmp|ico)$/i;
  const TEXT = /\.(txt|log|md|py|json|ya?ml|csv|tsv|ini|cfg|toml|sh|r|sql|html?|xml|js|ts|ipynb|requirements|lock|conf|out|err)$|(^|\/)(MLmodel|MLproject|Dockerfile|LICENSE|README)$/i;

  const fmtSize = (n) => (n === undefined || n === null ? "" : n < 1024 ? `${n} B`
    : n < 1048576 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1048576).toFixed(1)} MiB`);
  const encodePath = (p) => p.split("/").map(encodeURIComponent).join("/");

  // ---- sources -------------------------------------------------------------------------
  function runSource(runId, artifactUri) {
    // Proxied roots (mlflow-artifacts:/...) download through the artifacts service; other
    // roots through the tracking server's get-artifact, as MLflow's own UI does.
    const proxied = /^mlflow-artifacts:/.test(artifactUri || "");
    const proxiedBase = proxied ? artifactUri.replace(/^mlflow-artifacts:(\/\/[^/]*)?\/*/, "") : "";
    return {
      async list(path) {
        const res = await T.api("artifacts/list", { query: { run_id: runId, path: path || undefined } });
        return (res.files || []).map((f) => ({ path: f.path, dir: !!f.is_dir, size: f.file_size }));
      },
      url(path) {
        if (proxied) return T.root + "/ajax-api/2.0/mlflow-artifacts/artifacts/" + encodePath(proxiedBase + "/" + path);
        return T.url("/get-artifact", { path, run_uuid: runId });
      },
    };
  }

  function loggedModelSource(modelId) {
    const base = "logged-models/" + encodeURIComponent(modelId) + "/artifacts";
    return {
      async list(path) {
        const res = await T.api(base + "/directories", { query: { artifact_directory_path: path || undefined } });
        return (res.files || []).map((f) => ({ path: f.path, dir: !!f.is_dir, size: f.file_size }));
      },
      url(path) { return T.apiUrl(base + "/files", { artifact_file_path: path }); },
    };
  }

  // ---- previews -------------------------------------------------------------------------
  async function fetchText(url) {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`download failed: ${response.status} ${response.statusText}`);
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (bytes.subarray(0, 8000).includes(0)) return null; // binary
    return new TextDecoder("utf-8", { fatal: false }).decode(bytes);
  }

  function parseDelimited(text, sep) {
    const rows = [];
    let row = [], field = "", quoted = false;
    for (let i = 0; i < text.length && rows.length <= TABLE_ROWS; i++) {
      const c = text[i];
      if (quoted) {
        if (c === '"' && text[i + 1] === '"') { field += '"'; i++; }
        else if (c === '"') quoted = false;
        else field += c;
      } else if (c === '"' && field === "") quoted = true;
      else if (c === sep) { row.push(field); field = ""; }
      else if (c === "\n" || c === "\r") {
        if (c === "\r" && text[i + 1] === "\n") i++;
        row.push(field); rows.push(row); row = []; field = "";
      } else field += c;
    }
    if (field !== "" || row.length) { row.push(field); rows.push(row); }
    return rows;
  }

  function tableView(rows) {
    const [head, ...body] = rows;
    const more = body.length >= TABLE_ROWS ? T.el("p", { class: "dim" }, `Showing the first ${TABLE_ROWS} rows.`) : null;
    return [T.el("div", { class: "table-wrap preview-table" }, T.el("table", { class: "grid" },
      T.el("thead", {}, T.el("tr", {}, (head || []).map((h) => T.el("th", { scope: "col" }, h)))),
      T.el("tbody", {}, body.slice(0, TABLE_ROWS).map((r) => T.el("tr", {}, r.map((c) => T.el("td", {}, c))))))), more];
  }

  // MLmodel is YAML; its top-level keys and flavors are read line by line (no YAML parser).
  function mlmodelSummary(text) {
    const facts = [], flavors = [];
    let section = null;
    for (const line of text.split("\n")) {
      const top = /^([A-Za-z_]+):\s*(.*)$/.exec(line);
      if (top) {
        section = top[1];
        if (top[2] && !["signature", "flavors"].includes(section)) facts.push([section, top[2].replace(/^'|'$/g, "")]);
        continue;
      }
      const sub = /^ {2}([A-Za-z_.]+):\s*(.*)$/.exec(line);
      if (sub && section === "flavors") flavors.push(sub[1]);
      if (sub && section === "signature" && sub[2]) facts.push(["signature " + sub[1], sub[2].replace(/^'|'$/g, "")]);
    }
    return T.el("div", { class: "mlmodel" },
      T.el("p", {}, T.el("strong", {}, "Flavors: "), flavors.join(", ") || "none"),
      T.el("dl", { class: "facts" }, facts.map(([k, v]) => [T.el("dt", {}, k), T.el("dd", { class: "mono wrap" }, v)])));
  }

  async function preview(viewer, source, file) {
    const url = source.url(file.path);
    const name = file.path.split("/").pop();
    const header = T.el("div", { class: "viewer-head" },
      T.el("h3", { class: "mono" }, file.path),
      T.el("span", { class: "dim" }, fmtSize(file.size)),
      T.el("a", { class: "btn small", href: url, download: name }, "Download"));
    viewer.replaceChildren(header, T.el("p", { class: "dim" }, "Loading preview…"));
    const body = [];
    try {
      if (IMAGE.test(name)) {
        body.push(T.el("img", { class: "preview-image", src: url, alt: file.path }));
      } else if (file.size > PREVIEW_LIMIT) {
        body.push(T.el("p", { class: "dim" }, "Too large to preview; download it instead."));
      } else {
        const text = await fetchText(url);
        if (text === null) body.push(T.el("p", { class: "dim" }, "Binary file: no preview."));
        else if (/\.json$/i.test(name)) {
          let shown = text;
          try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch (e) { /* show as is */ }
          body.push(T.el("pre", { class: "code" }, shown));
        } else if (/\.(csv|tsv)$/i.test(name)) {
          body.push(...tableView(parseDelimited(text, /\.tsv$/i.test(name) ? "\t" : ",")));
        } else if (name === "MLmodel") {
          body.push(mlmodelSummary(text), T.el("pre", { class: "code" }, text));
        } else if (TEXT.test(name) || file.size < 512 * 1024) {
          body.push(T.el("pre", { class: "code" }, text));
        } else body.push(T.el("p", { class: "dim" }, "No preview for this file type."));
      }
    } catch (err) {
      body.push(T.el("p", { class: "error" }, err.message));
    }
    viewer.replaceChildren(header, ...body.filter(Boolean));
  }

  // ---- tree ----------------------------------------------------------------------------
  function mount(root, source) {
    const tree = T.$("[data-role='tree']", root);
    const viewer = T.$("[data-role='viewer']", root);
    const initial = root.dataset.initialPath || "";

    function select(file, item) {
      T.$$(".tree-item.selected", tree).forEach((n) => n.classList.remove("selected"));
      if (item) item.classList.add("selected");
      const q = new URLSearchParams(location.search);
      q.set("path", file.path);
      history.replaceState(null, "", location.pathname + "?" + q);
      preview(viewer, source, file);
    }

    async function fill(list, path, level) {
      let files;
      try { files = await source.list(path); } catch (err) {
        list.replaceChildren(T.el("li", { class: "error" }, err.message));
        return;
      }
      files.sort((a, b) => (b.dir - a.dir) || a.path.localeCompare(b.path));
      if (!files.length) {
        list.replaceChildren(T.el("li", { class: "dim" }, level ? "(empty)" : "No artifacts."));
        return;
      }
      list.replaceChildren(...files.map((file) => entry(file, level)));
    }

    function entry(file, level) {
      const name = file.path.split("/").pop();
      const item = T.el("button", { type: "button", class: "tree-item " + (file.dir ? "dir" : "file"),
        role: "treeitem", style: `padding-left: ${0.5 + level * 1.1}rem`, "aria-expanded": file.dir ? "false" : null,
        title: file.path },
        T.el("span", { class: "icon", "aria-hidden": "true" }, file.dir ? "▸" : "·"), name,
        file.dir ? null : T.el("span", { class: "size dim" }, fmtSize(file.size)));
      const li = T.el("li", {}, item);
      if (file.dir) {
        const children = T.el("ul", { role: "group", hidden: true });
        li.append(children);
        item.addEventListener("click", async () => {
          const open = item.getAttribute("aria-expanded") !== "true";
          item.setAttribute("aria-expanded", String(open));
          T.$(".icon", item).textContent = open ? "▾" : "▸";
          children.hidden = !open;
          if (open && !children.dataset.loaded) {
            children.dataset.loaded = "1";
            children.replaceChildren(T.el("li", { class: "dim" }, "Loading…"));
            await fill(children, file.path, level + 1);
          }
        });
      } else {
        item.addEventListener("click", () => select(file, item));
      }
      return li;
    }

    // Re-open the path named in the URL, one directory level at a time.
    async function reveal(path) {
      const parts = path.split("/");
      for (let i = 1; i <= parts.length; i++) {
        const sub = parts.slice(0, i).join("/");
        const item = T.$$(".tree-item", tree).find((n) => n.title === sub);
        if (!item) return;
        if (item.classList.contains("dir")) {
          if (item.getAttribute("aria-expanded") !== "true") item.click();
          for (let t = 0; t < 50 && !T.$("ul[data-loaded] > li", item.parentElement); t++) await new Promise((r) => setTimeout(r, 40));
        } else {
          item.click();
          item.focus();
        }
      }
    }

    // Arrow keys move between visible tree items.
    tree.addEventListener("keydown", (event) => {
      if (!["ArrowDown", "ArrowUp"].includes(event.key)) return;
      const items = T.$$(".tree-item", tree).filter((n) => n.offsetParent !== null);
      const i = items.indexOf(document.activeElement);
      const next = items[i + (event.key === "ArrowDown" ? 1 : -1)];
      if (next) { event.preventDefault(); next.focus(); }
    });

    const top = T.el("ul", { class: "tree-root" });
    tree.replaceChildren(top);
    fill(top, "", 0).then(() => initial && reveal(initial));
  }

  T.artifacts = { mount, runSource, loggedModelSource, fetchText, parseDelimited };
})();
