// Compare runs: the "only differences" switch, overlaid metric charts, a parallel-coordinates
// plot (params and metrics as axes, lines coloured by a metric) and a scatter plot of any two
// values. Plot choices live in the URL (axes=, color=, sx=, sy=).
"use strict";
(function () {
  const payload = JSON.parse(T.$("#compare-data").textContent);
  const runs = payload.runs.map((r) => ({ ...r, start: 0 }));
  if (!runs.length) return;
  const SVG = "http://www.w3.org/2000/svg";
  const svg = (tag, attrs, ...children) => {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) if (v !== null && v !== undefined) node.setAttribute(k, String(v));
    for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return node;
  };
  const query = new URLSearchParams(location.search);
  const saveQuery = () => history.replaceState(null, "", location.pathname + "?" + query);

  // ---- only differences ----------------------------------------------------------------
  const onlyDiff = T.$("[data-role='only-diff']");
  onlyDiff.addEventListener("change", () => {
    T.$$("[data-role='diff-scope']").forEach((n) => n.classList.toggle("only-diff", onlyDiff.checked));
    if (onlyDiff.checked) query.set("diff", "1"); else query.delete("diff");
    saveQuery();
  });

  // ---- charts --------------------------------------------------------------------------
  const gridEl = T.$("[data-role='chart-grid']");
  const keys = gridEl.dataset.metrics.split("\n").filter(Boolean);
  const grid = new T.charts.ChartGrid(gridEl, T.$("[data-role='chart-controls']"), runs, {
    onPoll: async () => {
      for (const run of runs.filter((r) => r.status === "RUNNING")) {
        const fresh = await T.api("runs/get", { query: { run_id: run.id } });
        run.status = fresh.run.info.status;
      }
    },
  });
  grid.setMetrics(keys);
  T.grid = grid;

  // ---- values: every param and metric as a choice -----------------------------------------
  const choices = [];
  const paramKeys = [...new Set(runs.flatMap((r) => Object.keys(r.params)))].sort();
  const metricKeys = [...new Set(runs.flatMap((r) => Object.keys(r.metrics)))].sort();
  paramKeys.forEach((k) => choices.push({ id: "p:" + k, label: "param " + k, get: (r) => r.params[k] }));
  metricKeys.forEach((k) => choices.push({ id: "m:" + k, label: "metric " + k, get: (r) => r.metrics[k] }));
  const byId = new Map(choices.map((c) => [c.id, c]));
  const fill = (select, selected) => select.replaceChildren(...choices.map((c) =>
    T.el("option", { value: c.id, selected: selected.includes(c.id) }, c.label)));

  // An axis: numeric when every present value is a number, else categorical.
  function axis(choice) {
    const raw = runs.map((r) => choice.get(r));
    const present = raw.filter((v) => v !== undefined && v !== null && v !== "");
    const nums = present.map(Number);
    if (present.length && nums.every(Number.isFinite)) {
      let lo = Math.min(...nums), hi = Math.max(...nums);
      if (lo === hi) { lo -= 1; hi += 1; }
      return { numeric: true, lo, hi, pos: (v) => (v === undefined || v === null || v === "" || !Number.isFinite(Number(v)) ? null : (Number(v) - lo) / (hi - lo)),
        ticks: [lo, (lo + hi) / 2, hi].map((t) => [T.fmtNumber(Number(t.toPrecision(4))), (t - lo) / (hi - lo)]) };
    }
    const cats = [...new Set(present.map(String))].sort();
    const place = (i) => (cats.length === 1 ? 0.5 : i / (cats.length - 1));
    return { numeric: false, pos: (v) => (v === undefined || v === null ? null : place(cats.indexOf(String(v)))),
      ticks: cats.slice(0, 12).map((c, i) => [c.length > 14 ? c.slice(0, 13) + "…" : c, place(i)]) };
  }

  const ramp = (t) => `hsl(${Math.round(220 - 200 * t)}, 75%, 45%)`; // blue (low) to red (high)

  // ---- parallel coordinates --------------------------------------------------------------
  const pcBox = T.$("[data-role='parallel']");
  const pcAxes = T.$("[data-role='pc-axes']");
  const pcColor = T.$("[data-role='pc-color']");
  const differing = paramKeys.filter((k) => new Set(runs.map((r) => r.params[k])).size > 1);
  const defaultAxes = [...differing.slice(0, 5).map((k) => "p:" + k), ...(metricKeys[0] ? ["m:" + metricKeys[0]] : [])];
  let axesIds = (query.get("axes") || "").split(",").filter((id) => byId.has(id));
  if (!axesIds.length) axesIds = defaultAxes.length ? defaultAxes : choices.slice(0, 4).map((c) => c.id);
  fill(pcAxes, axesIds);
  pcColor.replaceChildren(T.el("option", { value: "" }, "run colour"),
    ...metricKeys.map((k) => T.el("option", { value: "m:" + k }, "metric " + k)));
  pcColor.value = byId.has(query.get("color")) ? query.get("color") : (metricKeys[0] ? "m:" + metricKeys[0] : "");

  function drawParallel() {
    const ids = axesIds.filter((id) => byId.has(id));
    const width = Math.max(360, pcBox.clientWidth || 600), height = 320;
    const pad = { l: 40, r: 48, t: 40, b: 24 };
    if (ids.length < 2) { pcBox.replaceChildren(T.el("p", { class: "dim" }, "Choose at least two axes.")); return; }
    const axes = ids.map((id) => ({ id, choice: byId.get(id), a: axis(byId.get(id)) }));
    const x = (i) => pad.l + (i * (width - pad.l - pad.r)) / (axes.length - 1);
    const y = (t) => pad.t + (1 - t) * (height - pad.t - pad.b);
    const colorAxis = pcColor.value && byId.has(pcColor.value) ? axis(byId.get(pcColor.value)) : null;
    const root = svg("svg", { width, height, viewBox: `0 0 ${width} ${height}`, class: "pc" });
    runs.forEach((run) => {
      const pts = axes.map((ax, i) => { const t = ax.a.pos(ax.choice.get(run)); return t === null ? null : [x(i), y(t)]; });
      const segments = [];
      let current = [];
      pts.forEach((p) => { if (p) current.push(p); else if (current.length) { segments.push(current); current = []; } });
      if (current.length) segments.push(current);
      const t = colorAxis ? colorAxis.pos(byId.get(pcColor.value).get(run)) : null;
      const stroke = colorAxis ? (t === null ? "#bbb" : ramp(t)) : run.color;
      const tip = run.name + "\n" + axes.map((ax) => `${ax.choice.label}: ${ax.choice.get(run) ?? "–"}`).join("\n");
      segments.forEach((seg) => root.append(svg("polyline", { points: seg.map((p) => p.join(",")).join(" "),
        fill: "none", stroke, "stroke-width": 2, "stroke-opacity": 0.8, class: "pc-line" }, svg("title", {}, tip))));
    });
    axes.forEach((ax, i) => {
      const g = svg("g", { class: "pc-axis" });
      g.append(svg("line", { x1: x(i), x2: x(i), y1: pad.t, y2: height - pad.b, stroke: "#444" }));
      const label = ax.choice.label.replace(/^(param|metric) /, "");
      g.append(svg("text", { x: x(i), y: pad.t - 14, "text-anchor": i === 0 ? "start" : i === axes.length - 1 ? "end" : "middle", class: "pc-label" }, label));
      // The last axis labels its ticks on its left, inside the plot.
      const last = i === axes.length - 1;
      ax.a.ticks.forEach(([text, t]) => g.append(svg("text", { x: x(i) + (last ? -4 : 4), y: y(t) + 4,
        "text-anchor": last ? "end" : "start", class: "pc-tick" }, text)));
      root.append(g);
    });
    pcBox.replaceChildren(root);
  }
  pcAxes.addEventListener("change", () => {
    axesIds = Array.from(pcAxes.selectedOptions).map((o) => o.value);
    query.set("axes", axesIds.join(","));
    saveQuery();
    drawParallel();
  });
  pcColor.addEventListener("change", () => { query.set("color", pcColor.value); saveQuery(); drawParallel(); });

  // ---- scatter -------------------------------------------------------------------------
  const scBox = T.$("[data-role='scatter']");
  const scX = T.$("[data-role='sc-x']"), scY = T.$("[data-role='sc-y']");
  const pick = (name, fallback) => (byId.has(query.get(name)) ? query.get(name) : fallback);
  const sx0 = pick("sx", differing[0] ? "p:" + differing[0] : (choices[0] || {}).id);
  const sy0 = pick("sy", metricKeys[0] ? "m:" + metricKeys[0] : (choices[1] || choices[0] || {}).id);
  fill(scX, [sx0]);
  fill(scY, [sy0]);

  function drawScatter() {
    const cx = byId.get(scX.value), cy = byId.get(scY.value);
    if (!cx || !cy) { scBox.replaceChildren(T.el("p", { class: "dim" }, "Nothing to plot.")); return; }
    const ax = axis(cx), ay = axis(cy);
    const width = Math.max(320, scBox.clientWidth || 500), height = 320;
    const pad = { l: 64, r: 16, t: 28, b: 40 };
    // Points at the extremes keep a margin from the axes.
    const inset = (t) => 0.05 + 0.9 * t;
    const px = (t) => pad.l + inset(t) * (width - pad.l - pad.r);
    const py = (t) => pad.t + (1 - inset(t)) * (height - pad.t - pad.b);
    const root = svg("svg", { width, height, viewBox: `0 0 ${width} ${height}`, class: "scatter" });
    root.append(svg("line", { x1: pad.l, x2: width - pad.r, y1: height - pad.b, y2: height - pad.b, stroke: "#444" }));
    root.append(svg("line", { x1: pad.l, x2: pad.l, y1: pad.t, y2: height - pad.b, stroke: "#444" }));
    ax.ticks.forEach(([text, t]) => root.append(svg("text", { x: px(t), y: height - pad.b + 16, "text-anchor": "middle", class: "pc-tick" }, text)));
    ay.ticks.forEach(([text, t]) => root.append(svg("text", { x: pad.l - 6, y: py(t) + 4, "text-anchor": "end", class: "pc-tick" }, text)));
    root.append(svg("text", { x: (pad.l + width - pad.r) / 2, y: height - 4, "text-anchor": "middle", class: "pc-label" }, cx.label));
    root.append(svg("text", { x: 8, y: 14, class: "pc-label" }, cy.label));
    let drawn = 0;
    runs.forEach((run) => {
      const tx = ax.pos(cx.get(run)), ty = ay.pos(cy.get(run));
      if (tx === null || ty === null) return;
      drawn += 1;
      const dot = svg("circle", { cx: px(tx), cy: py(ty), r: 6, fill: run.color, "fill-opacity": 0.85, stroke: "#fff", class: "dot" },
        svg("title", {}, `${run.name}\n${cx.label}: ${cx.get(run)}\n${cy.label}: ${cy.get(run)}`));
      const link = svg("a", { href: T.url("/runs/" + run.id) }, dot);
      root.append(link);
    });
    scBox.replaceChildren(root);
    if (!drawn) scBox.append(T.el("p", { class: "dim" }, "No run has both values."));
  }
  for (const [select, name] of [[scX, "sx"], [scY, "sy"]]) {
    select.addEventListener("change", () => { query.set(name, select.value); saveQuery(); drawScatter(); });
  }

  drawParallel();
  drawScatter();
  let lastWidth = pcBox.clientWidth;
  new ResizeObserver(() => {
    if (pcBox.clientWidth === lastWidth) return; // redraws change height only; ignore those
    lastWidth = pcBox.clientWidth;
    drawParallel();
    drawScatter();
  }).observe(pcBox);
})();
