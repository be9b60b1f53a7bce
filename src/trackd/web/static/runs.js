// The runs table: selecting runs (compare, delete, restore), the column chooser, and
// collapsing groups. The table itself, its sort, filter and paging are plain server HTML.
"use strict";
(function () {
  const table = T.$("table.runs");
  if (!table) return;

  // ---- selection ------------------------------------------------------------------------
  const boxes = () => T.$$(".run-select", table);
  const selected = () => boxes().filter((b) => b.checked).map((b) => b.value);
  const selectAll = T.$("[data-role='select-all']", table);

  function refreshSelection() {
    const ids = selected();
    const count = T.$("[data-role='selection-count']");
    count.textContent = ids.length ? `${ids.length} selected` : "";
    const compare = T.$("[data-action='compare']");
    compare.disabled = ids.length < 1;
    compare.textContent = ids.length ? `Compare (${ids.length})` : "Compare";
    T.$$("[data-action='delete-runs'], [data-action='restore-runs']").forEach((b) => (b.disabled = !ids.length));
    for (const box of boxes()) box.closest("tr").classList.toggle("selected", box.checked);
    const all = boxes();
    selectAll.checked = all.length > 0 && ids.length === all.length;
    selectAll.indeterminate = ids.length > 0 && ids.length < all.length;
  }
  table.addEventListener("change", (event) => {
    if (event.target === selectAll) boxes().forEach((b) => (b.checked = selectAll.checked));
    refreshSelection();
  });

  T.actions["compare"] = () => {
    const ids = selected();
    if (ids.length) location.href = T.url("/compare", { runs: ids.join(",") });
  };
  async function changeRuns(endpoint, verb) {
    const ids = selected();
    if (!ids.length) return;
    if (verb === "Delete" && !window.confirm(`Delete ${ids.length} run(s)? They can be restored from the Deleted view.`)) return;
    try {
      for (const id of ids) await T.api(endpoint, { body: { run_id: id } });
      window.location.reload();
    } catch (err) { window.alert(err.message); }
  }
  T.actions["delete-runs"] = () => changeRuns("runs/delete", "Delete");
  T.actions["restore-runs"] = () => changeRuns("runs/restore", "Restore");

  // ---- groups ---------------------------------------------------------------------------
  T.actions["toggle-group"] = (button) => {
    const open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", String(open));
    button.textContent = open ? "▾" : "▸";
    for (const row of T.$$(`tr[data-member='${button.dataset.group}']`, table)) row.hidden = !open;
  };

  // ---- column chooser -------------------------------------------------------------------
  const menu = T.$("[data-role='columns']");
  const orderList = T.$("[data-role='column-order']", menu);
  let chosen = (menu.dataset.current || "").split(",").filter(Boolean);

  const label = (id) => {
    const kind = { m: "metric", p: "param", t: "tag" }[id[0]] || "";
    return [T.el("span", { class: `kind kind-${id[0]}` }, kind), id.slice(2)];
  };
  function renderOrder() {
    orderList.replaceChildren(...chosen.map((id, i) => T.el("li", {},
      T.el("span", { class: "col-label" }, label(id)),
      T.el("span", { class: "col-buttons" },
        T.el("button", { type: "button", class: "linkish", "aria-label": `Move ${id.slice(2)} up`, disabled: i === 0,
          onclick: () => move(i, -1) }, "↑"),
        T.el("button", { type: "button", class: "linkish", "aria-label": `Move ${id.slice(2)} down`,
          disabled: i === chosen.length - 1, onclick: () => move(i, 1) }, "↓"),
        T.el("button", { type: "button", class: "linkish", "aria-label": `Hide ${id.slice(2)}`,
          onclick: () => toggle(id, false) }, "✕")))));
    for (const box of T.$$("input[data-col]", menu)) box.checked = chosen.includes(box.dataset.col);
  }
  function move(i, step) {
    const j = i + step;
    [chosen[i], chosen[j]] = [chosen[j], chosen[i]];
    renderOrder();
    const buttons = T.$$("li", orderList)[j];
    if (buttons) T.$$("button", buttons)[step < 0 ? 0 : 1].focus();
  }
  function toggle(id, on) {
    chosen = chosen.filter((c) => c !== id);
    if (on) chosen.push(id);
    renderOrder();
  }
  menu.addEventListener("change", (event) => {
    if (event.target.dataset.col) toggle(event.target.dataset.col, event.target.checked);
  });
  T.actions["columns-all"] = (b) => {
    for (const box of T.$$(`input[data-col^='${b.dataset.kind}:']`, menu)) {
      if (!chosen.includes(box.dataset.col) && !box.closest("label").hidden) chosen.push(box.dataset.col);
    }
    renderOrder();
  };
  T.actions["columns-none"] = (b) => {
    chosen = chosen.filter((c) => !c.startsWith(b.dataset.kind + ":"));
    renderOrder();
  };
  T.actions["columns-apply"] = () => {
    const params = new URLSearchParams(location.search);
    params.set("cols", chosen.join(","));
    params.delete("token");
    params.delete("trail");
    location.search = params.toString();
  };
  T.$("[data-role='column-find']", menu).addEventListener("input", (event) => {
    const needle = event.target.value.toLowerCase();
    for (const box of T.$$("input[data-col]", menu)) {
      box.closest("label").hidden = needle && !box.dataset.col.slice(2).toLowerCase().includes(needle);
    }
  });
  menu.addEventListener("keydown", (event) => {
    if (event.key === "Escape") { menu.open = false; T.$("summary", menu).focus(); }
  });
  // ---- live rows ------------------------------------------------------------------------
  // While a run on the page is RUNNING, the page re-reads itself every 5 s and swaps in the new
  // table body (statuses, latest metric values), keeping the selection.
  async function refreshRows() {
    if (document.hidden || menu.open || !T.$("tr[data-run] .status-running", table)) return;
    const response = await fetch(location.href, { headers: { Accept: "text/html" } });
    if (!response.ok) return;
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
    const keep = new Set(selected());
    const bodies = T.$$("tbody", fresh.querySelector("table.runs"));
    T.$$("tbody", table).forEach((b) => b.remove());
    table.append(...bodies.map((b) => document.adoptNode(b)));
    for (const box of boxes()) box.checked = keep.has(box.value);
    T.localizeTimes(table);
    refreshSelection();
    table.dataset.refreshed = String(Date.now());
  }
  setInterval(() => refreshRows().catch(() => {}), 5000);

  renderOrder();
  refreshSelection();
})();
