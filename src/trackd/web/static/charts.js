// Metric charts with uPlot: one chart per metric, any number of runs overlaid, x by step,
// relative time or wall time, smoothing, log scale, zoom that fetches detail, live polling.
// Histories come from metrics/get-history-bulk-interval, which samples a long history down
// to at most 2,500 points per run on the server: a 100,000-step metric costs one small reply.
"use strict";
(function () {
  const MAX_POINTS = 2500;
  const POLL_MS = 5000;

  // ---- data ----------------------------------------------------------------------------
  const toNumber = (v) => (typeof v === "number" ? v : v === "Infinity" ? Infinity : v === "-Infinity" ? -Infinity : NaN);

  async function fetchHistories(runIds, key, maxResults, range) {
    const query = { run_ids: runIds, metric_key: key, max_results: maxResults };
    if (range) { query.start_step = range[0]; query.end_step = range[1]; }
    const data = await T.api("metrics/get-history-bulk-interval", { query });
    const byRun = new Map(runIds.map((id) => [id, []]));
    for (const m of data.metrics || []) {
      const list = byRun.get(m.run_id);
      if (list) list.push({ step: Number(m.step), ts: Number(m.timestamp), v: toNumber(m.value) });
    }
    for (const list of byRun.values()) list.sort((a, b) => a.step - b.step || a.ts - b.ts);
    return byRun;
  }

  // TensorBoard's debiased exponential moving average: the first points are not pulled to 0.
  function smooth(ys, weight) {
    if (!weight) return ys;
    let last = 0, n = 0;
    return ys.map((y) => {
      if (y === null || !Number.isFinite(y)) return y;
      last = last * weight + (1 - weight) * y;
      n += 1;
      return last / (1 - Math.pow(weight, n));
    });
  }

  // One run's points as sorted, de-duplicated [xs, ys] for the chosen x axis.
  function series(points, opts, runStart) {
    const xs = [], ys = [];
    const first = points.length ? Math.min(...points.map((p) => p.ts)) : 0;
    const origin = opts.x === "time" ? (runStart || first) : 0;
    const pairs = points.map((p) => [
      opts.x === "step" ? p.step : opts.x === "time" ? (p.ts - origin) / 1000 : p.ts / 1000,
      Number.isFinite(p.v) && (!opts.log || p.v > 0) ? p.v : null,
    ]);
    if (opts.x !== "step") pairs.sort((a, b) => a[0] - b[0]);
    for (const [x, y] of pairs) {
      if (xs.length && xs[xs.length - 1] === x) ys[ys.length - 1] = y; // last write wins
      else { xs.push(x); ys.push(y); }
    }
    return [xs, ys];
  }

  function align(runs, byRun, opts) {
    const tables = [], meta = [];
    for (const run of runs) {
      const points = byRun.get(run.id) || [];
      if (!points.length) continue;
      const [xs, ys] = series(points, opts, run.start);
      if (opts.smooth > 0) {
        tables.push([xs, ys]);
        meta.push({ run, raw: true });
        tables.push([xs, smooth(ys, opts.smooth)]);
      } else {
        tables.push([xs, ys]);
      }
      meta.push({ run, raw: false });
    }
    if (!tables.length) return { data: null, meta };
    return { data: tables.length === 1 ? tables[0] : uPlot.join(tables), meta };
  }

  // ---- drawing ---------------------------------------------------------------------------
  const X_LABELS = { step: "Step", time: "Relative time (s)", wall: "Time" };

  function fade(color) { return color + "44"; }

  function makeOptions(width, meta, opts, compact) {
    const fmtX = (u, v) => (v === null || v === undefined ? "–"
      : opts.x === "wall" ? T.fmtTime(v * 1000) : T.fmtNumber(v));
    return {
      width, height: compact ? 200 : 260,
      scales: { x: { time: opts.x === "wall" }, y: opts.log ? { distr: 3, log: 10 } : {} },
      axes: [
        { label: X_LABELS[opts.x], labelSize: 18, size: 36, stroke: "#555", grid: { stroke: "#eee" } },
        { size: 64, stroke: "#555", grid: { stroke: "#eee" }, values: (u, vals) => vals.map((v) => T.fmtNumber(v)) },
      ],
      series: [
        { label: X_LABELS[opts.x], value: fmtX },
        ...meta.map((m) => ({
          label: m.raw ? `${m.run.name} (raw)` : m.run.name,
          stroke: m.raw ? fade(m.run.color) : m.run.color,
          width: m.raw ? 1 : 1.75,
          spanGaps: true,
          points: { size: 5 },
          show: true,
          value: (u, v) => (v === null || v === undefined ? "–" : T.fmtNumber(v)),
        })),
      ],
      cursor: { drag: { x: true, y: false, setScale: true }, sync: { key: "trackd-" + opts.x } },
      legend: { show: true, live: true },
    };
  }

  // A chart of one metric over several runs.
  class MetricChart {
    constructor(card, key, grid) {
      this.card = card;
      this.key = key;
      this.grid = grid;
      this.plotBox = T.$(".chart-plot", card);
      this.plot = null;
      this.full = null;       // histories of the whole step range
      this.zoom = null;       // [min, max] steps when zoomed in with detail fetched
      this.loading = null;
    }
    get opts() { return this.grid.opts; }

    async load() {
      const runs = this.grid.runs;
      const started = performance.now();
      this.setFull(await fetchHistories(runs.map((r) => r.id), this.key, MAX_POINTS, null));
      this.zoom = null;
      this.draw();
      this.card.dataset.loadedMs = String(Math.round(performance.now() - started));
    }

    // The sampled whole-range histories; data-points tells tests and people how many arrived.
    setFull(byRun) {
      this.full = byRun;
      this.card.dataset.points = String([...byRun.values()].reduce((n, l) => n + l.length, 0));
    }

    draw(byRun, keepScale) {
      const { data, meta } = align(this.grid.runs, byRun || this.full, this.opts);
      if (!data) {
        this.destroy();
        this.plotBox.replaceChildren(T.el("p", { class: "dim" }, "No values to draw."));
        return;
      }
      const width = Math.max(260, this.plotBox.clientWidth || 400);
      if (this.plot && this.plot.series.length === meta.length + 1 && !this.rebuild) {
        if (keepScale) {
          const { min, max } = this.plot.scales.x;
          this.plot.setData(data, false);
          this.plot.setScale("x", { min, max });
        } else {
          this.plot.setData(data, true);
        }
        return;
      }
      this.destroy();
      this.rebuild = false;
      this.plotBox.replaceChildren();
      const options = makeOptions(width, meta, this.opts, this.grid.compact);
      options.hooks = { setScale: [(u, scaleKey) => scaleKey === "x" && this.onZoom(u)] };
      this.plot = new uPlot(options, data, this.plotBox);
      this.card.dataset.drawn = "1";
    }

    // Zoomed into a step range that the sampled history covers thinly: fetch that range.
    onZoom(u) {
      if (this.opts.x !== "step" || this.settingData || !this.full) return;
      clearTimeout(this.zoomTimer);
      this.zoomTimer = setTimeout(async () => {
        const { min, max } = u.scales.x;
        const steps = [...this.full.values()].flat().map((p) => p.step);
        if (!steps.length || min === null || max === null) return;
        const lo = Math.min(...steps), hi = Math.max(...steps);
        if (min <= lo && max >= hi) { this.zoom = null; return; }
        const range = [Math.floor(min), Math.ceil(max)];
        if (this.zoom && this.zoom[0] === range[0] && this.zoom[1] === range[1]) return;
        this.zoom = range;
        const detail = await fetchHistories(this.grid.runs.map((r) => r.id), this.key, MAX_POINTS, range);
        this.settingData = true;
        try { this.draw(detail, true); } finally { this.settingData = false; }
      }, 250);
    }

    async refresh() {
      if (!this.plot && !this.full) return;
      const runIds = this.grid.runs.map((r) => r.id);
      if (this.zoom) {
        this.setFull(await fetchHistories(runIds, this.key, MAX_POINTS, null));
        const detail = await fetchHistories(runIds, this.key, MAX_POINTS, this.zoom);
        this.settingData = true;
        try { this.draw(detail, true); } finally { this.settingData = false; }
      } else {
        this.setFull(await fetchHistories(runIds, this.key, MAX_POINTS, null));
        this.settingData = true;
        try { this.draw(); } finally { this.settingData = false; }
      }
    }

    resize() {
      if (this.plot) this.plot.setSize({ width: Math.max(260, this.plotBox.clientWidth), height: this.plot.height });
    }

    destroy() {
      if (this.plot) { this.plot.destroy(); this.plot = null; }
    }
  }

  // ---- a grid of charts bound to the chart controls and the URL --------------------------
  class ChartGrid {
    constructor(gridEl, controls, runs, options) {
      this.gridEl = gridEl;
      this.controls = controls;
      this.runs = runs;
      this.compact = !!(options && options.compact);
      this.onPoll = options && options.onPoll;
      this.charts = new Map();
      this.opts = this.readUrl();
      this.writeControls();
      this.observer = new IntersectionObserver((entries) => {
        for (const entry of entries) {
          if (!entry.isIntersecting) continue;
          this.observer.unobserve(entry.target);
          const chart = this.charts.get(entry.target.dataset.metric);
          if (chart) chart.load().catch((err) => this.fail(chart, err));
        }
      }, { rootMargin: "300px" });
      new ResizeObserver(() => this.charts.forEach((c) => c.resize())).observe(gridEl);
      controls.addEventListener("input", () => this.onControls());
      controls.addEventListener("change", () => this.onControls());
      controls.addEventListener("submit", (e) => e.preventDefault());
      this.timer = setInterval(() => this.poll(), POLL_MS);
    }

    readUrl() {
      const q = new URLSearchParams(location.search);
      const x = ["step", "time", "wall"].includes(q.get("x")) ? q.get("x") : "step";
      const smoothing = Math.min(0.99, Math.max(0, Number(q.get("smooth")) || 0));
      return { x, smooth: smoothing, log: q.get("log") === "1", live: q.get("live") !== "0", find: q.get("find") || "" };
    }
    writeControls() {
      const f = this.controls.elements;
      f.x.value = this.opts.x;
      f.smooth.value = this.opts.smooth;
      T.$("[data-role='smooth-value']", this.controls).textContent = this.opts.smooth.toFixed(2);
      f.log.checked = this.opts.log;
      f.live.checked = this.opts.live;
      f["metric-filter"].value = this.opts.find;
    }
    onControls() {
      const f = this.controls.elements;
      const before = this.opts;
      this.opts = { x: f.x.value, smooth: Number(f.smooth.value), log: f.log.checked, live: f.live.checked,
        find: f["metric-filter"].value };
      T.$("[data-role='smooth-value']", this.controls).textContent = this.opts.smooth.toFixed(2);
      const q = new URLSearchParams(location.search);
      const set = (k, v, dflt) => (v === dflt ? q.delete(k) : q.set(k, v));
      set("x", this.opts.x, "step");
      set("smooth", this.opts.smooth ? String(this.opts.smooth) : "", "");
      set("log", this.opts.log ? "1" : "", "");
      set("live", this.opts.live ? "" : "0", "");
      set("find", this.opts.find, "");
      history.replaceState(null, "", location.pathname + (q.toString() ? "?" + q : ""));
      this.applyFind();
      const redraw = before.x !== this.opts.x || before.smooth !== this.opts.smooth || before.log !== this.opts.log;
      if (redraw) {
        for (const chart of this.charts.values()) {
          if (!chart.full) continue;
          chart.rebuild = before.x !== this.opts.x || before.log !== this.opts.log || (before.smooth > 0) !== (this.opts.smooth > 0);
          chart.zoom = null;
          chart.draw();
        }
      }
    }
    applyFind() {
      const needle = this.opts.find.toLowerCase();
      for (const [key, chart] of this.charts) chart.card.hidden = !!needle && !key.toLowerCase().includes(needle);
    }

    setMetrics(keys) {
      for (const key of keys) {
        if (this.charts.has(key)) continue;
        const card = T.el("figure", { class: "chart-card", dataset: { metric: key } },
          T.el("figcaption", {}, T.el("span", { class: "chart-title" }, key)),
          T.el("div", { class: "chart-plot" }, T.el("p", { class: "dim" }, "Loading…")));
        this.gridEl.append(card);
        this.charts.set(key, new MetricChart(card, key, this));
        this.observer.observe(card);
      }
      this.applyFind();
    }

    fail(chart, err) {
      chart.plotBox.replaceChildren(T.el("p", { class: "error" }, err.message));
    }

    running() { return this.runs.some((r) => r.status === "RUNNING"); }

    async poll() {
      const status = T.$("[data-role='chart-status']", this.controls);
      if (!this.opts.live || !this.running() || document.hidden) {
        if (status) status.textContent = this.running() ? "" : "";
        return;
      }
      if (status) status.textContent = "live · updating…";
      try {
        if (this.onPoll) await this.onPoll(this);
        await Promise.all([...this.charts.values()].filter((c) => c.full).map((c) => c.refresh()));
        if (status) status.textContent = "live · updated " + T.fmtTime(Date.now()).slice(11);
      } catch (err) {
        if (status) status.textContent = "live update failed: " + err.message;
      }
    }
  }

  // ---- sparklines (run overview) ---------------------------------------------------------
  async function sparkline(box, runId, key) {
    const byRun = await fetchHistories([runId], key, 200, null);
    const pts = byRun.get(runId) || [];
    if (pts.length < 2) return;
    const xs = pts.map((p) => p.step), ys = pts.map((p) => (Number.isFinite(p.v) ? p.v : null));
    box.replaceChildren();
    new uPlot({
      width: 140, height: 30, cursor: { show: false }, legend: { show: false }, select: { show: false },
      scales: { x: { time: false } },
      axes: [{ show: false }, { show: false }],
      series: [{}, { stroke: "#2563eb", width: 1.25, points: { show: false }, spanGaps: true }],
    }, [xs, ys], box);
  }

  T.charts = { ChartGrid, fetchHistories, smooth, sparkline };
})();
