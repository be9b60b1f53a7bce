// Prompt registry pages, read from the JSON API. MLflow keeps prompts as registered models
// tagged mlflow.prompt.is_prompt=true; each version holds its template in the
// mlflow.prompt.text tag (a string, or a JSON list of chat messages when _mlflow_prompt_type
// is "chat"). Traces that loaded a prompt are found by MLflow's filter prompt = "name/version".
"use strict";
(function () {
  const { el, $, api } = T;
  const page = document.body.dataset.page;
  const promptUrl = (name, version) => T.url("/prompts/" + encodeURIComponent(name), { version });
  const quote = (s) => (s.includes("'") ? `"${s.replace(/"/g, "")}"` : `'${s}'`);
  const showError = (err) => T.showError($("[data-role='error']"), err.message || String(err));
  const IS_PROMPT = "tags.`mlflow.prompt.is_prompt` = 'true'";
  const tagValue = (tags, key) => ((tags || []).find((t) => t.key === key) || {}).value;
  // Tags MLflow sets for its own bookkeeping are not the user's.
  const userTags = (tags) => (tags || []).filter((t) => !t.key.startsWith("mlflow.") && !t.key.startsWith("_mlflow"));
  const aliasChip = (alias) => el("span", { class: "chip" }, "@" + alias);

  // ---- prompts list ----------------------------------------------------------------------
  async function promptsPage() {
    const q = new URLSearchParams(location.search);
    const text = (q.get("q") || "").trim();
    const filter = IS_PROMPT + (text ? ` AND name ILIKE ${quote("%" + text + "%")}` : "");
    const body = $("[data-role='prompts']");
    try {
      const res = await api("registered-models/search", { query: { filter, max_results: 100, order_by: ["name ASC"], page_token: q.get("token") || undefined } });
      const prompts = res.registered_models || [];
      body.replaceChildren(...prompts.map((p) => {
        const latest = (p.latest_versions || []).reduce((a, v) => (Number(v.version) > Number(a.version || 0) ? v : a), {});
        return el("tr", { "data-href": promptUrl(p.name) },
          el("td", {}, el("a", { href: promptUrl(p.name) }, p.name)),
          el("td", {}, latest.version ? el("a", { href: promptUrl(p.name, latest.version) }, "Version " + latest.version) : "–"),
          el("td", {}, (p.aliases || []).map((a) => [aliasChip(a.alias), el("span", { class: "dim" }, " v" + a.version + " ")])),
          el("td", { class: "truncate" }, latest.description || ""),
          el("td", {}, T.timeEl(p.last_updated_timestamp)),
          el("td", { class: "truncate" }, userTags(p.tags).map((t) => `${t.key}=${t.value}`).join(", ")));
      }));
      if (!prompts.length) body.replaceChildren(el("tr", { class: "empty" }, el("td", { colspan: 6 }, text ? `No prompts match “${text}”.` : "No prompts yet: register one with mlflow.genai.register_prompt().")));
      const pager = $("[data-role='pager']");
      pager.replaceChildren();
      if (q.get("token")) pager.append(el("a", { class: "btn", href: T.url("/prompts", { q: text }) }, "← First page"));
      if (res.next_page_token) pager.append(el("a", { class: "btn", rel: "next", href: T.url("/prompts", { q: text, token: res.next_page_token }) }, "Next →"));
    } catch (err) { body.replaceChildren(); showError(err); }
  }

  // ---- one prompt ------------------------------------------------------------------------
  function variablesOf(text) {
    return [...new Set([...String(text).matchAll(/\{\{\s*([\w.-]+)\s*\}\}/g)].map((m) => m[1]))];
  }

  function templateView(version) {
    const raw = tagValue(version.tags, "mlflow.prompt.text") || "";
    const kind = tagValue(version.tags, "_mlflow_prompt_type") || "text";
    let messages = null;
    if (kind === "chat") {
      try { messages = JSON.parse(raw); } catch (e) { messages = null; }
    }
    const blocks = Array.isArray(messages)
      ? messages.map((m) => el("div", { class: "chat-message" },
        el("span", { class: "badge" }, m.role || "?"), el("pre", { class: "prewrap" }, typeof m.content === "string" ? m.content : JSON.stringify(m.content, null, 2))))
      : [el("pre", { class: "prewrap", "data-role": "template-text" }, raw)];
    const extras = [["Response format", "_mlflow_prompt_response_format"], ["Model configuration", "_mlflow_prompt_model_config"]]
      .map(([label, key]) => [label, tagValue(version.tags, key)]).filter(([, v]) => v)
      .map(([label, v]) => el("details", {}, el("summary", {}, label), el("pre", { class: "prewrap" }, v)));
    return { blocks: [...blocks, ...extras], kind, variables: variablesOf(raw) };
  }

  // Traces linked to a prompt: MLflow's filter takes one version at a time (prompt = "name/version"),
  // so the newest versions are asked in parallel and their traces merged, newest first.
  const LINKED_VERSIONS = 20;
  const LINKED_TRACES = 50;
  async function linkedTraces(name, prompt, versions) {
    const body = $("[data-role='traces']");
    // The client records in _mlflow_experiment_ids the experiments a prompt was used in.
    const experiments = (tagValue(prompt.tags, "_mlflow_experiment_ids") || "").split(",").filter(Boolean).slice(0, 100);
    const asked = versions.slice(0, LINKED_VERSIONS).map((v) => v.version);
    if (!experiments.length || !asked.length || name.includes('"')) {
      body.replaceChildren(el("tr", { class: "empty" }, el("td", { colspan: 5 }, "No trace has used this prompt yet.")));
      return;
    }
    const locations = experiments.map((id) => ({ type: "MLFLOW_EXPERIMENT", mlflow_experiment: { experiment_id: id } }));
    const pages = await Promise.all(asked.map((version) => api("traces/search", { version: "3.0", body: {
      locations, filter: `prompt = "${name}/${version}"`, max_results: LINKED_TRACES, order_by: ["timestamp_ms DESC"] } })));
    const byTrace = new Map();
    pages.forEach((res, i) => {
      for (const t of res.traces || []) {
        const seen = byTrace.get(t.trace_id) || { trace: t, versions: [] };
        seen.versions.push(asked[i]);
        byTrace.set(t.trace_id, seen);
      }
    });
    const newest = [...byTrace.values()]
      .sort((a, b) => (Date.parse(b.trace.request_time || 0) || 0) - (Date.parse(a.trace.request_time || 0) || 0))
      .slice(0, LINKED_TRACES);
    const rows = newest.map(({ trace: t, versions: used }) => {
      const experimentId = ((t.trace_location || {}).mlflow_experiment || {}).experiment_id;
      return el("tr", { "data-href": T.url("/traces/" + t.trace_id) },
        el("td", {}, el("a", { href: T.url("/traces/" + t.trace_id), class: "mono" }, t.trace_id)),
        el("td", {}, used.sort((a, b) => Number(a) - Number(b)).map((v) => el("a", { href: promptUrl(name, v) }, "v" + v + " "))),
        el("td", {}, experimentId ? el("a", { href: T.url("/experiments/" + experimentId + "/traces") }, experimentId) : "–"),
        el("td", {}, t.request_time ? T.timeEl(Date.parse(t.request_time)) : "–"),
        el("td", {}, (t.state || "").toLowerCase().replace(/_/g, " ")));
    });
    body.replaceChildren(...rows);
    if (!rows.length) body.replaceChildren(el("tr", { class: "empty" }, el("td", { colspan: 5 }, "No trace has used this prompt yet.")));
  }

  async function promptPage() {
    const root = $("[data-role='prompt']");
    const name = root.dataset.name;
    try {
      const [got, found] = await Promise.all([
        api("registered-models/get", { query: { name } }),
        // Version search leaves prompt versions out unless the filter asks for them, as in MLflow.
        api("model-versions/search", { query: { filter: `name=${quote(name)} AND ${IS_PROMPT}`, max_results: 1000, order_by: ["version_number DESC"] } }),
      ]);
      const prompt = got.registered_model;
      const versions = (found.model_versions || []).sort((a, b) => Number(b.version) - Number(a.version));
      const aliasesOf = {};
      for (const a of prompt.aliases || []) (aliasesOf[a.version] = aliasesOf[a.version] || []).push(a.alias);
      const chosen = versions.find((v) => v.version === root.dataset.version) || versions[0];
      $("[data-role='prompt-meta']").replaceChildren("Created ", T.timeEl(prompt.creation_timestamp), " · last modified ", T.timeEl(prompt.last_updated_timestamp));
      $("[data-role='versions']").replaceChildren(...versions.map((v) => el("tr", { "data-href": promptUrl(name, v.version), "aria-current": v === chosen ? "true" : null },
        el("td", {}, el("a", { href: promptUrl(name, v.version) }, "Version " + v.version)),
        el("td", {}, T.timeEl(v.creation_timestamp)),
        el("td", {}, (aliasesOf[v.version] || []).map(aliasChip)),
        el("td", { class: "truncate" }, v.description || ""))));
      const tags = userTags(prompt.tags);
      $("[data-role='tags']").replaceChildren(tags.length
        ? el("table", { class: "kv" }, el("tbody", {}, tags.map((t) => el("tr", {}, el("th", { scope: "row" }, t.key), el("td", { class: "value" }, t.value)))))
        : el("p", { class: "dim" }, "No tags."));
      if (chosen) {
        const view = templateView(chosen);
        $("[data-role='template-title']").textContent = `Template · version ${chosen.version}`;
        $("[data-role='template-meta']").replaceChildren(
          view.kind === "chat" ? "Chat prompt" : "Text prompt",
          view.variables.length ? " · variables: " + view.variables.join(", ") : "",
          chosen.description ? " · " + chosen.description : "");
        $("[data-role='template']").replaceChildren(...view.blocks);
      } else {
        $("[data-role='template']").replaceChildren(el("p", { class: "dim" }, "This prompt has no versions."));
      }
      await linkedTraces(name, prompt, versions);
    } catch (err) { showError(err); }
  }

  if (page === "prompts") promptsPage();
  if (page === "prompt") promptPage();
})();
