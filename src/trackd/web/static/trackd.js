// trackd UI: what every page shares. The JSON API helper, local times, keyboard shortcuts,
// and the small actions of the experiments list and the runs table. Pages work without
// this script (links and forms are plain HTML); it adds actions, shortcuts and live bits.
"use strict";

const T = (window.T = {});
T.root = document.body.dataset.root || "";

// ---- DOM helpers ------------------------------------------------------------------------
// el("a", {href: x, class: "y"}, "text", child): text is always set as text, never as HTML.
T.el = function (tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "dataset") Object.assign(node.dataset, value);
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
};
T.$ = (sel, scope) => (scope || document).querySelector(sel);
T.$$ = (sel, scope) => Array.from((scope || document).querySelectorAll(sel));
T.url = (path, query) => {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query || {})) {
    if (Array.isArray(v)) v.forEach((x) => qs.append(k, x));
    else if (v !== null && v !== undefined && v !== "") qs.append(k, v);
  }
  const s = qs.toString();
  return T.root + path + (s ? "?" + s : "");
};

// ---- JSON API (relative to the static prefix) ---------------------------------------------
// namespace: "mlflow" (MLflow's routes) or "trackd" (trackd's own, for its pages).
T.apiUrl = (path, query, version, namespace) => T.url(`/ajax-api/${version || "2.0"}/${namespace || "mlflow"}/` + path, query);
T.api = async function (path, options) {
  const opts = options || {};
  const method = opts.method || (opts.body ? "POST" : "GET");
  const init = { method, headers: { Accept: "application/json" } };
  if (opts.body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(opts.body);
  }
  const response = await fetch(T.apiUrl(path, opts.query, opts.version, opts.namespace), init);
  const text = await response.text();
  let data = {};
  try { data = text ? JSON.parse(text) : {}; } catch (e) { data = { message: text }; }
  if (!response.ok) {
    const err = new Error(data.message || `${response.status} ${response.statusText}`);
    err.status = response.status;
    err.code = data.error_code;
    throw err;
  }
  return data;
};

// ---- formatting -------------------------------------------------------------------------
T.fmtNumber = function (v) {
  if (v === null || v === undefined) return "";
  if (typeof v === "string") return v;
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (Number.isInteger(v) && a < 1e15) return String(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-4)) return v.toPrecision(5);
  return String(Number(v.toPrecision(6)));
};
const pad = (n) => String(n).padStart(2, "0");
T.fmtTime = function (ms) {
  const d = new Date(Number(ms));
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
};
T.fmtDuration = function (ms) {
  const s = Math.max(0, ms) / 1000;
  if (s < 60) return s.toFixed(1) + "s";
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${Math.floor(s % 60)}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
};
T.timeEl = (ms) => (ms ? T.el("time", { datetime: new Date(Number(ms)).toISOString(),
  title: new Date(Number(ms)).toISOString() }, T.fmtTime(ms)) : "–");

function localizeTimes(scope) {
  for (const node of T.$$("time[data-ms]", scope)) {
    node.title = node.textContent;
    node.textContent = T.fmtTime(node.dataset.ms);
  }
}
function tickDurations() {
  const now = Date.now();
  for (const node of T.$$("[data-running-since]")) {
    node.textContent = T.fmtDuration(now - Number(node.dataset.runningSince));
  }
}

// ---- feedback ---------------------------------------------------------------------------
T.showError = function (node, message) {
  if (!node) { window.alert(message); return; }
  node.textContent = message;
  node.hidden = !message;
};

// ---- keyboard ---------------------------------------------------------------------------
function typing(target) {
  return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
}
function rowsOf(table) { return T.$$("tbody tr[data-href]", table).filter((r) => !r.hidden); }
function focusRow(step) {
  const table = T.$("table[data-rows]");
  if (!table) return;
  const rows = rowsOf(table);
  if (!rows.length) return;
  const current = rows.indexOf(document.activeElement.closest && document.activeElement.closest("tr"));
  const next = rows[Math.min(rows.length - 1, Math.max(0, current + step))] || rows[0];
  T.$$("tr.focused", table).forEach((r) => r.classList.remove("focused"));
  next.classList.add("focused");
  next.tabIndex = -1;
  next.focus();
}
let pendingG = false;
document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.key === "Escape" && typing(event.target)) { event.target.blur(); return; }
  if (typing(event.target)) return;
  const key = event.key;
  if (pendingG) {
    pendingG = false;
    if (key === "e") { location.href = T.url("/experiments"); return; }
    if (key === "m") { location.href = T.url("/models"); return; }
  }
  if (key === "g") { pendingG = true; setTimeout(() => (pendingG = false), 1200); return; }
  if (key === "/") {
    const box = T.$("[data-hotkey='/']");
    if (box) { event.preventDefault(); box.focus(); box.select(); }
  } else if (key === "?") {
    const dialog = T.$("#shortcuts");
    if (dialog && !dialog.open) dialog.showModal();
  } else if (key === "j" || key === "k") {
    event.preventDefault();
    focusRow(key === "j" ? 1 : -1);
  } else if (key === "Enter") {
    const row = event.target.closest && event.target.closest("tr[data-href]");
    if (row && event.target === row) location.href = row.dataset.href;
  } else if (key === "x") {
    const row = event.target.closest && event.target.closest("tr[data-run]");
    const box = row && T.$(".run-select", row);
    if (box) { box.checked = !box.checked; box.dispatchEvent(new Event("change", { bubbles: true })); }
  } else if (key === "c") {
    const button = T.$("[data-action='compare']");
    if (button && !button.disabled) button.click();
  }
});

// ---- experiments list ---------------------------------------------------------------------
function experimentDialog(mode, id, name) {
  const dialog = T.$("#experiment-dialog");
  const form = T.$("form", dialog);
  const error = T.$(".error", form);
  T.$("#experiment-dialog-title").textContent = mode === "create" ? "New experiment" : "Rename experiment";
  T.$$("[data-create-only]", form).forEach((n) => (n.hidden = mode !== "create"));
  form.elements.name.value = name || "";
  form.elements.artifact_location.value = "";
  T.showError(error, "");
  form.onsubmit = async (event) => {
    event.preventDefault();
    try {
      if (mode === "create") {
        const body = { name: form.elements.name.value.trim() };
        const where = form.elements.artifact_location.value.trim();
        if (where) body.artifact_location = where;
        const made = await T.api("experiments/create", { body });
        location.href = T.url("/experiments/" + made.experiment_id);
      } else {
        await T.api("experiments/update", { body: { experiment_id: id, new_name: form.elements.name.value.trim() } });
        window.location.reload();
      }
    } catch (err) { T.showError(error, err.message); }
  };
  dialog.showModal();
  form.elements.name.focus();
}

const actions = {
  "shortcuts": () => T.$("#shortcuts").showModal(),
  "close-dialog": (button) => button.closest("dialog").close(),
  "create-experiment": () => experimentDialog("create"),
  "rename-experiment": (b) => experimentDialog("rename", b.dataset.id, b.dataset.name),
  "delete-experiment": async (b) => {
    if (!window.confirm(`Delete experiment “${b.dataset.name}”? It can be restored from the Deleted view.`)) return;
    try { await T.api("experiments/delete", { body: { experiment_id: b.dataset.id } }); window.location.reload(); }
    catch (err) { window.alert(err.message); }
  },
  "restore-experiment": async (b) => {
    try { await T.api("experiments/restore", { body: { experiment_id: b.dataset.id } }); window.location.reload(); }
    catch (err) { window.alert(err.message); }
  },
};
T.actions = actions;

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-action]");
  if (button && actions[button.dataset.action]) {
    event.preventDefault();
    actions[button.dataset.action](button, event);
    return;
  }
  // A click anywhere on a linked row opens it, except on its own links and inputs.
  const row = event.target.closest("tr[data-href]");
  if (row && !event.target.closest("a, button, input, label, select")) {
    if (event.ctrlKey || event.metaKey) window.open(row.dataset.href, "_blank");
    else if (!window.getSelection().toString()) location.href = row.dataset.href;
  }
});
document.addEventListener("change", (event) => {
  if (event.target.matches("select[data-autosubmit]")) event.target.form.requestSubmit();
});

// Forms of GET pages: leave empty fields out of the URL.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if ((form.method || "get").toLowerCase() !== "get" || !form.action) return;
  for (const field of Array.from(form.elements)) {
    if (field.name && field.value === "" && !field.disabled) field.disabled = true;
  }
  setTimeout(() => Array.from(form.elements).forEach((f) => (f.disabled = false)), 0);
});

// Tables with a "find" box filter their rows in place.
document.addEventListener("input", (event) => {
  const box = event.target;
  if (!box.dataset || !box.dataset.filters) return;
  const needle = box.value.toLowerCase();
  for (const row of T.$$(`#${box.dataset.filters} tbody tr`)) {
    row.hidden = needle && !row.textContent.toLowerCase().includes(needle);
  }
});

localizeTimes(document);
tickDurations();
setInterval(tickDurations, 1000);
T.localizeTimes = localizeTimes;
