// The run page: charts tab, sparklines, the description editor, logged-model names, and the
// artifact browser; while the run is RUNNING the charts poll for new points and new metrics.
"use strict";
(function () {
  const data = T.$("#run-data");
  if (!data) return;
  const runId = data.dataset.runId;
  const run = { id: runId, name: document.title.split(" · ")[0], color: "#2563eb",
    status: data.dataset.status, start: Number(data.dataset.start) || 0 };

  // ---- charts tab ----------------------------------------------------------------------
  const gridEl = T.$("[data-role='chart-grid']");
  if (gridEl) {
    const controls = T.$("[data-role='chart-controls']");
    const keys = gridEl.dataset.metrics.split("\n").filter(Boolean);
    const grid = new T.charts.ChartGrid(gridEl, controls, [run], {
      // Each poll also re-reads the run: its status ends polling, and new metrics get charts.
      onPoll: async (g) => {
        const fresh = await T.api("runs/get", { query: { run_id: runId } });
        run.status = fresh.run.info.status;
        const names = ((fresh.run.data || {}).metrics || []).map((m) => m.key).sort();
        g.setMetrics(names);
      },
    });
    grid.setMetrics(keys);
    T.grid = grid;
  }

  // ---- sparklines ------------------------------------------------------------------------
  const sparks = T.$$(".sparkline[data-metric]");
  if (sparks.length && window.uPlot) {
    const observer = new IntersectionObserver((entries) => {
      for (const entry of entries) {
        if (!entry.isIntersecting) continue;
        observer.unobserve(entry.target);
        T.charts.sparkline(entry.target, runId, entry.target.dataset.metric).catch(() => {});
      }
    });
    sparks.forEach((s) => observer.observe(s));
  }

  // ---- description -----------------------------------------------------------------------
  const editor = T.$("[data-role='note-editor']");
  if (editor) {
    const view = T.$("[data-role='note-view']");
    const error = T.$(".error", editor);
    T.actions["edit-note"] = () => { editor.hidden = false; view.hidden = true; T.$("textarea", editor).focus(); };
    T.actions["cancel-note"] = () => { editor.hidden = true; view.hidden = false; };
    editor.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await T.api("runs/set-tag", { body: { run_id: runId, key: "mlflow.note.content", value: T.$("textarea", editor).value } });
        window.location.reload();
      } catch (err) { T.showError(error, err.message); }
    });
  }

  // ---- logged models: show names next to ids ---------------------------------------------
  for (const link of T.$$("[data-model-id]")) {
    T.api("logged-models/" + encodeURIComponent(link.dataset.modelId))
      .then((res) => {
        const model = res.model || {};
        const info = model.info || {};
        if (info.name) link.before(T.el("strong", {}, info.name + " "));
        if (info.status) link.after(T.el("span", { class: "dim" }, " · " + String(info.status).replace("LOGGED_MODEL_", "").toLowerCase()));
      })
      .catch(() => {});
  }

  // ---- artifacts -------------------------------------------------------------------------
  const browser = T.$("[data-role='artifact-browser']");
  if (browser) T.artifacts.mount(browser, T.artifacts.runSource(runId, data.dataset.artifactUri));
})();
