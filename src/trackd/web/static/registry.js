// Registry pages (models, a model, a version) and the logged-model page, all read from the
// JSON API (registered-models/*, model-versions/*, logged-models/*). Stage transitions and
// aliases are edited through the same API. Descriptions are shown as plain text.
"use strict";
(function () {
  const { el, $, $$, api } = T;
  const page = document.body.dataset.page;
  const modelUrl = (name) => T.url("/models/" + encodeURIComponent(name));
  const versionUrl = (name, v) => T.url("/models/" + encodeURIComponent(name) + "/versions/" + encodeURIComponent(v));
  const quote = (s) => (s.includes("'") ? `"${s.replace(/"/g, "")}"` : `'${s}'`);
  const showError = (err) => T.showError($("[data-role='error']"), err.message || String(err));
  const stageBadge = (stage) => (stage && stage !== "None" ? el("span", { class: "badge stage-" + stage.toLowerCase() }, stage) : "");
  const aliasChip = (alias, extra) => el("span", { class: "chip" }, "@" + alias, extra || null);

  function kvTable(rows, empty) {
    if (!rows.length) return el("p", { class: "dim" }, empty || "None.");
    return el("table", { class: "kv" }, el("tbody", {}, rows.map(([k, v]) =>
      el("tr", {}, el("th", { scope: "row" }, k), el("td", { class: "value" }, v)))));
  }
  const tagRows = (tags) => (tags || []).map((t) => [t.key, t.value || ""]);
  function facts(dl, pairs) {
    dl.replaceChildren(...pairs.filter(([, v]) => v !== null && v !== undefined && v !== "")
      .flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
  }
  const runLink = (runId) => (runId ? el("a", { href: T.url("/runs/" + runId), class: "mono" }, runId.slice(0, 12) + "…") : "–");
  const modelLink = (id) => (id ? el("a", { href: T.url("/logged-models/" + id), class: "mono" }, id) : "–");
  // A version's logged model: its model_id, or the id inside a models:/m-... source.
  const versionModelId = (v) => v.model_id || ((/^models:\/(m-[0-9a-f]+)/.exec(v.source || "") || [])[1]);

  // ---- models list ---------------------------------------------------------------------
  async function modelsPage() {
    const q = new URLSearchParams(location.search);
    const text = (q.get("q") || "").trim();
    const query = { max_results: 100, order_by: ["name ASC"], page_token: q.get("token") || undefined };
    if (text) query.filter = `name ILIKE ${quote("%" + text + "%")}`;
    const body = $("[data-role='models']");
    try {
      const res = await api("registered-models/search", { query });
      const models = res.registered_models || [];
      body.replaceChildren(...models.map((m) => {
        const latest = (m.latest_versions || []).reduce((a, v) => (Number(v.version) > Number(a) ? v.version : a), 0);
        const stages = (m.latest_versions || []).filter((v) => v.current_stage && v.current_stage !== "None");
        return el("tr", { "data-href": modelUrl(m.name) },
          el("td", {}, el("a", { href: modelUrl(m.name) }, m.name)),
          el("td", {}, latest ? el("a", { href: versionUrl(m.name, latest) }, "Version " + latest) : "–"),
          el("td", {}, (m.aliases || []).map((a) => aliasChip(a.alias, el("span", { class: "dim" }, " v" + a.version)))),
          el("td", {}, stages.map((v) => [stageBadge(v.current_stage), " v" + v.version + " "])),
          el("td", {}, T.timeEl(m.last_updated_timestamp)),
          el("td", { class: "truncate" }, (m.tags || []).map((t) => `${t.key}=${t.value}`).join(", ")));
      }));
      if (!models.length) body.replaceChildren(el("tr", { class: "empty" }, el("td", { colspan: 6 }, text ? `No models match “${text}”.` : "No registered models yet.")));
      const pager = $("[data-role='pager']");
      pager.replaceChildren();
      if (q.get("token")) pager.append(el("a", { class: "btn", href: T.url("/models", { q: text }) }, "← First page"));
      if (res.next_page_token) pager.append(el("a", { class: "btn", rel: "next", href: T.url("/models", { q: text, token: res.next_page_token }) }, "Next →"));
    } catch (err) { body.replaceChildren(); showError(err); }
  }

  // ---- one model -----------------------------------------------------------------------
  async function modelPage() {
    const root = $("[data-role='model']");
    const name = root.dataset.name;
    modelWebhooks();
    try {
      const [got, found] = await Promise.all([
        api("registered-models/get", { query: { name } }),
        // Without version search (older servers), the latest version per stage still shows.
        api("model-versions/search", { query: { filter: `name=${quote(name)}`, max_results: 1000, order_by: ["version_number DESC"] } })
          .catch(() => null),
      ]);
      const m = got.registered_model;
      if (!found) showError(new Error("Listing versions failed; showing the latest version of each stage."));
      $("[data-role='model-meta']").replaceChildren("Created ", T.timeEl(m.creation_timestamp), " · last modified ", T.timeEl(m.last_updated_timestamp));
      $("[data-role='description']").replaceChildren(m.description ? el("p", { class: "prewrap" }, m.description) : el("p", { class: "dim" }, "No description."));
      $("[data-role='aliases']", root).replaceChildren(kvTable((m.aliases || []).map((a) => ["@" + a.alias, el("a", { href: versionUrl(name, a.version) }, "Version " + a.version)]), "No aliases."));
      $("[data-role='tags']", root).replaceChildren(kvTable(tagRows(m.tags), "No tags."));
      // Aliases come from the model (version search results may not carry them).
      const aliasesOf = {};
      for (const a of m.aliases || []) (aliasesOf[a.version] = aliasesOf[a.version] || []).push(a.alias);
      const versions = ((found ? found.model_versions : m.latest_versions) || []).sort((a, b) => Number(b.version) - Number(a.version));
      $("[data-role='versions']").replaceChildren(...versions.map((v) => el("tr", { "data-href": versionUrl(name, v.version) },
        el("td", {}, el("a", { href: versionUrl(name, v.version) }, "Version " + v.version)),
        el("td", {}, T.timeEl(v.creation_timestamp)),
        el("td", {}, stageBadge(v.current_stage) || el("span", { class: "dim" }, "None")),
        el("td", {}, [...new Set([...(v.aliases || []), ...(aliasesOf[v.version] || [])])].map((a) => aliasChip(a))),
        el("td", {}, runLink(v.run_id)),
        el("td", {}, modelLink(versionModelId(v))),
        el("td", {}, (v.status || "").toLowerCase().replace(/_/g, " ")))));
      if (!versions.length) $("[data-role='versions']").replaceChildren(el("tr", { class: "empty" }, el("td", { colspan: 7 }, "No versions.")));
    } catch (err) { showError(err); }
  }

  // Webhooks are server-wide; a model's page lists the active ones its events trigger. Only
  // admins may read webhooks: others are told so instead of seeing an error.
  const MODEL_EVENTS = new Set(["REGISTERED_MODEL", "MODEL_VERSION", "MODEL_VERSION_TAG", "MODEL_VERSION_ALIAS"]);
  async function modelWebhooks() {
    const box = $("[data-role='webhooks']");
    let found;
    try {
      found = (await api("webhooks", { query: { max_results: 1000 } })).webhooks || [];
    } catch (err) {
      box.replaceChildren(el("p", { class: "dim" }, err.status === 403 ? "Only administrators can see webhooks." : "Webhooks could not be read: " + err.message));
      return;
    }
    const rows = found.filter((w) => w.status === "ACTIVE" && (w.events || []).some((e) => MODEL_EVENTS.has(e.entity)))
      .map((w) => el("tr", {},
        el("td", {}, w.name),
        el("td", { class: "mono truncate" }, w.url),
        el("td", {}, (w.events || []).filter((e) => MODEL_EVENTS.has(e.entity))
          .map((e) => el("span", { class: "chip" }, `${e.entity.toLowerCase()}.${e.action.toLowerCase()}`)))));
    box.replaceChildren(rows.length
      ? el("table", { class: "grid" }, el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Name"), el("th", { scope: "col" }, "URL"), el("th", { scope: "col" }, "Events"))), el("tbody", {}, rows))
      : el("p", { class: "dim" }, "No active webhook fires on model events."));
  }

  // ---- one version ---------------------------------------------------------------------
  async function versionPage() {
    const root = $("[data-role='model-version']");
    const { name, version } = root.dataset;
    async function load() {
      const res = await api("model-versions/get", { query: { name, version } });
      const v = res.model_version;
      facts($("[data-role='facts']", root), [
        ["Model", el("a", { href: modelUrl(name) }, name)],
        ["Version", v.version],
        ["Status", (v.status || "").toLowerCase().replace(/_/g, " ")],
        ["Stage", stageBadge(v.current_stage) || "None"],
        ["Registered", T.timeEl(v.creation_timestamp)],
        ["Last modified", T.timeEl(v.last_updated_timestamp)],
        ["Source run", runLink(v.run_id)],
        ["Logged model", modelLink(versionModelId(v))],
        ["Source", el("span", { class: "mono wrap" }, v.source || "")],
        ["User", v.user_id],
      ]);
      $("[data-role='description']", root).replaceChildren(v.description ? el("p", { class: "prewrap" }, v.description) : el("p", { class: "dim" }, "No description."));
      $("[data-role='tags']", root).replaceChildren(kvTable(tagRows(v.tags), "No tags."));
      $("[data-role='aliases']", root).replaceChildren(...(v.aliases || []).map((a) => aliasChip(a,
        el("button", { type: "button", class: "linkish", "aria-label": `Remove alias ${a}`, onclick: async () => {
          try { await api("registered-models/alias", { method: "DELETE", body: { name, alias: a } }); await load(); } catch (err) { showError(err); }
        } }, " ✕"))));
      if (!(v.aliases || []).length) $("[data-role='aliases']", root).replaceChildren(el("p", { class: "dim" }, "No aliases."));
      $("[data-role='stage-form']").elements.stage.value = v.current_stage || "None";
    }
    $("[data-role='stage-form']").addEventListener("submit", async (event) => {
      event.preventDefault();
      const f = event.target.elements;
      try {
        await api("model-versions/transition-stage", { body: { name, version, stage: f.stage.value, archive_existing_versions: f.archive.checked } });
        await load();
      } catch (err) { showError(err); }
    });
    $("[data-role='alias-form']").addEventListener("submit", async (event) => {
      event.preventDefault();
      const alias = event.target.elements.alias.value.trim();
      if (!alias) return;
      try { await api("registered-models/alias", { body: { name, alias, version } }); event.target.reset(); await load(); }
      catch (err) { showError(err); }
    });
    try { await load(); } catch (err) { showError(err); }
  }

  // ---- logged model --------------------------------------------------------------------
  async function loggedModelPage() {
    const root = $("[data-role='logged-model']");
    const id = root.dataset.modelId;
    try {
      const res = await api("logged-models/" + encodeURIComponent(id));
      const info = res.model.info || {}, data = res.model.data || {};
      $("[data-role='title']", root).textContent = info.name || id;
      document.title = (info.name || id) + " · trackd";
      const crumb = $("[data-role='crumb-experiment']");
      if (crumb && info.experiment_id !== undefined) crumb.replaceChildren(el("a", { href: T.url("/experiments/" + info.experiment_id) }, "Experiment " + info.experiment_id), " › ");
      facts($("[data-role='facts']", root), [
        ["Name", info.name], ["Status", String(info.status || "").replace("LOGGED_MODEL_", "").toLowerCase()],
        ["Type", info.model_type], ["Source run", runLink(info.source_run_id)],
        ["Created", T.timeEl(info.creation_timestamp_ms)], ["Artifact URI", el("span", { class: "mono wrap" }, info.artifact_uri || "")],
      ]);
      $("[data-role='metrics']", root).replaceChildren(kvTable((data.metrics || []).map((m) => [m.key + (m.dataset_name ? ` (${m.dataset_name})` : ""), T.fmtNumber(m.value)]), "No metrics."));
      $("[data-role='params']", root).replaceChildren(kvTable((data.params || []).map((p) => [p.key, p.value]), "No parameters."));
      $("[data-role='tags']", root).replaceChildren(kvTable(tagRows(info.tags).filter(([k]) => !k.startsWith("mlflow.")), "No tags."));
    } catch (err) { showError(err); }
    const browser = $("[data-role='artifact-browser']");
    if (browser) T.artifacts.mount(browser, T.artifacts.loggedModelSource(id));
  }

  const pages = { models: modelsPage, model: modelPage, "model-version": versionPage, "logged-model": loggedModelPage };
  if (pages[page]) pages[page]();
})();
