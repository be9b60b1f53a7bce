// MLflow's UI routes in the URL fragment (http://host/#/experiments/1/runs/<id>), and the MLflow
// client prints such links ("View run ... at: ..."). A fragment never reaches the server, so
// the server answers the page it was asked for (/ redirects to /experiments, keeping the
// fragment); this script, loaded first in <head>, sends the browser on to trackd's page for the
// same thing before anything is drawn. Pages with no "#/" fragment are left alone.
"use strict";

(function () {
  const hash = location.hash;
  if (!hash.startsWith("#/")) return;
  const root = (document.currentScript && document.currentScript.dataset.root) || "";
  const target = trackdHashTarget(hash);  // declared below (hoisted)
  if (target !== null) location.replace(root + target);
})();

// "#/..." -> trackd path (with query), or null when the fragment is not an MLflow route.
function trackdHashTarget(hash) {
  const fragment = hash.slice(1);
  const cut = fragment.indexOf("?");
  const path = cut < 0 ? fragment : fragment.slice(0, cut);
  const query = new URLSearchParams(cut < 0 ? "" : fragment.slice(cut + 1));
  const parts = path.split("/").filter(Boolean).map((p) => decodeURIComponent(p));
  const enc = encodeURIComponent;

  // MLflow writes id lists as JSON arrays (runs=["a","b"]); accept "a,b" as well.
  const ids = (name) => {
    const raw = query.get(name);
    if (!raw) return [];
    try {
      const parsed = JSON.parse(raw);
      if (Array.isArray(parsed)) return parsed.map(String);
    } catch (e) { /* not JSON: a comma-separated list */ }
    return raw.split(",").map((s) => s.trim()).filter(Boolean);
  };

  const [first, second, third, fourth] = parts;
  if (first === "experiments") {
    if (!second) return "/experiments";
    // #/experiments/<id>/runs/<run>[/artifacts/...] -> the run; /models/<m> -> the logged model.
    if (third === "runs" && fourth) {
      return "/runs/" + enc(fourth) + (parts[4] === "artifacts" ? "?tab=artifacts" : "");
    }
    if (third === "models" && fourth) return "/logged-models/" + enc(fourth);
    // #/experiments/<id>[/runs|/overview|/traces|...]: the experiment's runs.
    return "/experiments/" + enc(second);
  }
  if (first === "models") {
    if (!second) return "/models";
    if (third === "versions" && fourth) {
      return "/models/" + enc(second) + "/versions/" + enc(fourth);
    }
    return "/models/" + enc(second);
  }
  if (first === "compare-runs" || first === "compare-experiments") {
    const runs = ids("runs");
    if (runs.length) return "/compare?runs=" + runs.map(enc).join(",");
    const experiments = ids("experiments");
    return experiments.length ? "/experiments/" + enc(experiments[0]) : "/experiments";
  }
  if (first === "metric" && second) {
    // One run: its charts, filtered to the metric; several: the comparison's charts.
    const runs = ids("runs");
    const find = "find=" + enc(second);
    if (runs.length === 1) return "/runs/" + enc(runs[0]) + "?tab=charts&" + find;
    if (runs.length > 1) return "/compare?runs=" + runs.map(enc).join(",") + "&" + find;
    return "/experiments";
  }
  return null;
}
