// GenAI trace pages: an experiment's traces (filter, pages, live refresh) and one trace (span
// tree with a timeline, a span's inputs, outputs, attributes and events, assessments). Both
// read the JSON API (traces/search, traces/<id>, and trackd's span-outline and span: the tree
// comes without the spans' payloads, a span's payload is read when it is opened); text is
// always set as text, never as HTML.
"use strict";
(function () {
  const { el, $, api } = T;
  const page = document.body.dataset.page;
  const v3 = { version: "3.0" };
  const showError = (err) => T.showError($("[data-role='error']"), err ? (err.message || String(err)) : "");
  const traceUrl = (id) => T.url("/traces/" + encodeURIComponent(id));
  const millis = (iso) => (iso ? Date.parse(iso) : null);
  const durationMs = (d) => (d ? Math.round(parseFloat(d) * 1000) : null);
  // Spans are often milliseconds long: T.fmtDuration's tenths of a second would show 0.0s.
  const fmtSpan = (ms) => (ms < 1000 ? (ms < 10 ? ms.toFixed(1) : Math.round(ms)) + " ms" : T.fmtDuration(ms));
  const stateBadge = (s) => el("span", { class: "badge state-" + String(s || "").toLowerCase() }, s || "–");
  function decoded(raw) {
    if (typeof raw !== "string") return raw;
    try { return JSON.parse(raw); } catch (e) { return raw; }
  }
  function tokens(info) {
    const usage = decoded((info.trace_metadata || {})["mlflow.trace.tokenUsage"]);
    return usage && typeof usage === "object" && usage.total_tokens !== undefined ? usage.total_tokens : "–";
  }
  const userTags = (tags) => Object.entries(tags || {}).filter(([k]) => !k.startsWith("mlflow."));
  const pretty = (value) => el("pre", { class: "json" }, typeof value === "string" ? value : JSON.stringify(value, null, 2));

  // ---- an experiment's traces ------------------------------------------------------------
  async function tracesPage() {
    const form = $("[data-role='traces-filter']");
    const experiment = form.dataset.experiment;
    const q = new URLSearchParams(location.search);
    const filter = (q.get("filter") || "").trim();
    const body = $("[data-role='traces']");
    if ($("[data-role='error']").dataset.invalid) { body.replaceChildren(); return; }  // shown by the server
    async function load() {
      try {
        const res = await api("traces/search", { ...v3, body: {
          experiment_ids: [experiment], filter: filter || undefined, max_results: 50,
          order_by: ["timestamp_ms DESC"], page_token: q.get("token") || undefined } });
        showError(null);
        const traces = res.traces || [];
        body.replaceChildren(...traces.map((t) => el("tr", { "data-href": traceUrl(t.trace_id) },
          el("td", { class: "mono" }, el("a", { href: traceUrl(t.trace_id) }, t.trace_id.slice(0, 15) + "…")),
          el("td", {}, (t.tags || {})["mlflow.traceName"] || "–"),
          el("td", { class: "truncate" }, t.request_preview || ""),
          el("td", { class: "truncate" }, t.response_preview || ""),
          el("td", {}, stateBadge(t.state)),
          el("td", { class: "num" }, t.execution_duration ? fmtSpan(durationMs(t.execution_duration)) : "–"),
          el("td", { class: "num" }, tokens(t)),
          el("td", {}, T.timeEl(millis(t.request_time))),
          el("td", {}, (t.assessments || []).map((a) => el("span", { class: "chip" }, a.assessment_name))),
          el("td", { class: "truncate" }, userTags(t.tags).map(([k, v]) => `${k}=${v}`).join(", ")))));
        if (!traces.length) body.replaceChildren(el("tr", { class: "empty" }, el("td", { colspan: 10 }, filter ? "No traces match this filter." : "No traces yet.")));
        const pager = $("[data-role='pager']");
        const here = "/experiments/" + encodeURIComponent(experiment) + "/traces";
        pager.replaceChildren();
        if (q.get("token")) pager.append(el("a", { class: "btn", href: T.url(here, { filter }) }, "← First page"));
        if (res.next_page_token) pager.append(el("a", { class: "btn", rel: "next", href: T.url(here, { filter, token: res.next_page_token }) }, "Next →"));
      } catch (err) { body.replaceChildren(); showError(err); }
    }
    await load();
    let timer = null;
    $("[data-role='live']").addEventListener("change", (event) => {
      clearInterval(timer);
      if (event.target.checked) timer = setInterval(load, 5000);
    });
  }

  // ---- one trace ---------------------------------------------------------------------------
  function spanTree(spans) {
    const byParent = new Map();
    for (const span of spans) {
      const key = span.parent_span_id || "";
      if (!byParent.has(key)) byParent.set(key, []);
      byParent.get(key).push(span);
    }
    for (const list of byParent.values()) list.sort((a, b) => Number(a.start_time_unix_nano) - Number(b.start_time_unix_nano));
    const ids = new Set(spans.map((s) => s.span_id));
    // Roots: no parent, or a parent that is not in this trace (a partial trace).
    const roots = spans.filter((s) => !s.parent_span_id || !ids.has(s.parent_span_id));
    return { roots, children: (span) => byParent.get(span.span_id) || [] };
  }

  function spanDetail(span) {
    const attrs = Object.fromEntries(Object.entries(span.attributes || {}).map(([k, v]) => [k, decoded(v)]));
    const inputs = attrs["mlflow.spanInputs"];
    const outputs = attrs["mlflow.spanOutputs"];
    const rest = Object.fromEntries(Object.entries(attrs).filter(([k]) => !["mlflow.spanInputs", "mlflow.spanOutputs", "mlflow.traceRequestId"].includes(k)));
    const status = span.status || {};
    $("[data-role='span-title']").textContent = span.name;
    $("[data-role='span-detail']").replaceChildren(
      el("p", {}, stateBadge((status.code || "").replace("STATUS_CODE_", "")), " ", status.message || ""),
      el("h3", {}, "Inputs"), inputs === undefined ? el("p", { class: "dim" }, "None.") : pretty(inputs),
      el("h3", {}, "Outputs"), outputs === undefined ? el("p", { class: "dim" }, "None.") : pretty(outputs),
      el("h3", {}, "Attributes"), pretty(rest),
      el("h3", {}, "Events"), (span.events || []).length ? pretty(span.events) : el("p", { class: "dim" }, "None."));
  }

  const CHUNK = 200;

  // spans: the trace's outline (ids, parents, names, types, statuses, times); openSpan(span)
  // shows one span's payload.
  function renderSpans(spans, openSpan) {
    const list = $("[data-role='spans']");
    list.replaceChildren();
    if (!spans.length) { list.replaceChildren(el("li", { class: "dim" }, "This trace has no spans.")); return; }
    let start = Infinity;
    let end = -Infinity;
    for (const s of spans) {  // a loop, not Math.min(...): no argument-count limit on big traces
      start = Math.min(start, Number(s.start_time_unix_nano));
      end = Math.max(end, Number(s.end_time_unix_nano || s.start_time_unix_nano));
    }
    const total = Math.max(1, end - start);
    const tree = spanTree(spans);
    function item(span, depth) {
      const from = Number(span.start_time_unix_nano);
      const to = Number(span.end_time_unix_nano || from);
      const bar = el("span", { class: "span-bar" });
      bar.style.marginLeft = ((from - start) / total * 100).toFixed(2) + "%";
      bar.style.width = Math.max(0.5, (to - from) / total * 100).toFixed(2) + "%";
      const type = span.span_type;
      const button = el("button", { type: "button", class: "span-row", "data-span": span.span_id, onclick: () => {
        for (const b of document.querySelectorAll(".span-row.selected")) b.classList.remove("selected");
        button.classList.add("selected");
        openSpan(span);
      } }, el("span", { class: "span-name" }, span.name), " ",
        type && type !== "UNKNOWN" ? el("span", { class: "badge" }, type) : "", " ",
        el("span", { class: "dim" }, fmtSpan((to - from) / 1e6)), el("span", { class: "span-track" }, bar));
      const children = tree.children(span);
      return el("li", {}, button, children.length ? chunked(el("ol", {}), children, depth + 1) : null);
    }
    // A span's children go in by the CHUNK, with a button for the rest: a trace of 30,000
    // spans shows its first rows at once instead of building every row before painting.
    function chunked(parent, spans, depth, from = 0) {
      parent.append(...spans.slice(from, from + CHUNK).map((c) => item(c, depth)));
      const left = spans.length - from - CHUNK;
      if (left > 0) {
        const more = el("li", {}, el("button", { type: "button", class: "btn more-spans", onclick: () => {
          more.remove();
          chunked(parent, spans, depth, from + CHUNK);
        } }, `Show ${Math.min(CHUNK, left)} more of ${left} spans`));
        parent.append(more);
      }
      return parent;
    }
    chunked(list, tree.roots, 0);
    const first = list.querySelector(".span-row");
    if (first) first.click();
  }

  // ---- assessments: shown, added, edited, deleted through MLflow's assessment API ----------
  const assessmentValue = (a) => (a.feedback ? a.feedback.value
    : (a.expectation || {}).value !== undefined ? a.expectation.value
      : decoded(((a.expectation || {}).serialized_value || {}).value));
  // What a person types: JSON when it parses (3, true, {"a": 1}, "quoted"), else the text.
  function typedValue(text) {
    const t = text.trim();
    try { return JSON.parse(t); } catch (e) { return t; }
  }
  const shown = (value) => (typeof value === "string" ? value : JSON.stringify(value));

  function renderAssessments(info, refresh) {
    const traceId = info.trace_id;
    const base = "traces/" + encodeURIComponent(traceId) + "/assessments";
    const user = $("[data-role='assessments']").dataset.user || undefined;
    const source = { source_type: "HUMAN", source_id: user };
    const act = async (work) => {
      try { await work(); showError(null); await refresh(); } catch (err) { showError(err); }
    };
    function editor(a, row) {
      const value = el("input", { type: "text", class: "mono", value: shown(assessmentValue(a)), "aria-label": "New value" });
      const rationale = el("input", { type: "text", value: a.rationale || "", placeholder: "Rationale", "aria-label": "Rationale" });
      const save = el("button", { type: "submit", class: "btn small primary" }, "Save");
      const cancel = el("button", { type: "button", class: "btn small", onclick: () => refresh() }, "Cancel");
      // A feedback is never changed in place: the new one overrides it (the old one stays,
      // marked overridden), as MLflow's UI does. An expectation is updated.
      const form = el("form", { class: "assessment-edit", onsubmit: (event) => {
        event.preventDefault();
        act(() => (a.feedback
          ? api(base, { ...v3, body: { assessment: { assessment_name: a.assessment_name, trace_id: traceId, source,
            feedback: { value: typedValue(value.value) }, rationale: rationale.value || undefined, overrides: a.assessment_id } } })
          : api(base + "/" + encodeURIComponent(a.assessment_id), { ...v3, method: "PATCH", body: {
            assessment: { expectation: { value: typedValue(value.value) } }, update_mask: "expectation" } })));
      } }, value, a.feedback ? rationale : null, save, cancel);
      row.replaceChildren(el("td", {}, a.assessment_name), el("td", { colspan: 5 }, form));
      value.focus();
    }
    const assessments = info.assessments || [];
    const table = assessments.length ? el("table", { class: "grid" },
      el("thead", {}, el("tr", {}, ["Name", "Value", "Source", "Valid", "Rationale", ""].map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, assessments.map((a) => {
        const row = el("tr", { class: a.valid === false ? "deleted" : "", "data-assessment": a.assessment_id });
        const actions = a.valid === false ? [] : [
          el("button", { type: "button", class: "btn small", onclick: () => editor(a, row) }, "Edit"),
          el("button", { type: "button", class: "btn small danger", onclick: () => {
            if (window.confirm(`Delete the assessment "${a.assessment_name}"?`)) {
              act(() => api(base + "/" + encodeURIComponent(a.assessment_id), { ...v3, method: "DELETE" }));
            }
          } }, "Delete")];
        row.append(
          el("td", {}, a.assessment_name),
          el("td", { class: "mono" }, JSON.stringify(assessmentValue(a))),
          el("td", {}, `${(a.source || {}).source_type || ""} ${(a.source || {}).source_id || ""}`),
          el("td", {}, a.valid === false ? "overridden" : "yes"),
          el("td", {}, a.rationale || ""),
          el("td", { class: "actions" }, actions));
        return row;
      }))) : el("p", { class: "dim" }, "None.");
    const kind = el("select", { "aria-label": "Kind" }, el("option", { value: "feedback" }, "Feedback"), el("option", { value: "expectation" }, "Expectation"));
    const name = el("input", { type: "text", required: "", placeholder: "Name", "aria-label": "Assessment name" });
    const value = el("input", { type: "text", required: "", class: "mono", placeholder: "Value: yes, 0.8, {\"a\": 1}", "aria-label": "Value" });
    const rationale = el("input", { type: "text", placeholder: "Rationale (feedback)", "aria-label": "Rationale" });
    const add = el("form", { class: "assessment-add", "data-role": "add-assessment", onsubmit: (event) => {
      event.preventDefault();
      const body = { assessment_name: name.value.trim(), trace_id: traceId, source };
      if (kind.value === "feedback") {
        body.feedback = { value: typedValue(value.value) };
        body.rationale = rationale.value || undefined;
      } else {
        body.expectation = { value: typedValue(value.value) };
      }
      act(() => api(base, { ...v3, body: { assessment: body } }));
    } }, kind, name, value, rationale, el("button", { type: "submit", class: "btn small primary" }, "Add"));
    $("[data-role='assessments']").replaceChildren(table, add);
  }

  function renderInfo(info, refresh) {
    const experiment = ((info.trace_location || {}).mlflow_experiment || {}).experiment_id;
    if (experiment) {
      $("[data-role='crumb-experiment']").replaceChildren(el("a", { href: T.url("/experiments/" + experiment + "/traces") }, "Traces of experiment " + experiment));
    }
    const facts = [["State", stateBadge(info.state)], ["Started", T.timeEl(millis(info.request_time))],
      ["Duration", info.execution_duration ? fmtSpan(durationMs(info.execution_duration)) : "–"],
      ["Tokens", tokens(info)], ["Name", (info.tags || {})["mlflow.traceName"] || "–"],
      ["Request", info.request_preview || "–"], ["Response", info.response_preview || "–"]];
    $("[data-role='trace-facts']").replaceChildren(...facts.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
    renderAssessments(info, refresh);
    const rows = [...Object.entries(info.tags || {}), ...Object.entries(info.trace_metadata || {})];
    $("[data-role='trace-tags']").replaceChildren(el("table", { class: "kv" }, el("tbody", {},
      rows.map(([k, v]) => el("tr", {}, el("th", { scope: "row" }, k), el("td", { class: "value" }, v))))));
  }

  async function tracePage() {
    const traceId = $("[data-role='trace-title']").dataset.trace;
    try {
      const here = "traces/" + encodeURIComponent(traceId);
      const refresh = async () => renderInfo((await api(here, v3)).trace.trace_info, refresh);
      await refresh();
      const outline = await api(here + "/span-outline", { ...v3, namespace: "trackd" });
      const opened = new Map();  // span id -> its payload, read once
      let wanted = null;  // the span last clicked: a slower earlier answer must not replace it
      renderSpans(outline.spans || [], async (span) => {
        wanted = span.span_id;
        $("[data-role='span-title']").textContent = span.name;
        try {
          if (!opened.has(span.span_id)) {
            const found = await api(here + "/span", { ...v3, namespace: "trackd", query: { span_id: span.span_id } });
            opened.set(span.span_id, found.span);
          }
          if (wanted === span.span_id) spanDetail(opened.get(span.span_id));
        } catch (err) { if (wanted === span.span_id) showError(err); }
      });
    } catch (err) { showError(err); $("[data-role='spans']").replaceChildren(); }
  }

  if (page === "traces") tracesPage();
  if (page === "trace") tracePage();
})();
