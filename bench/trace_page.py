"""Trace page benchmark: the web UI's first paint of a 30,000-span trace (issue 13).

    python -m bench.trace_page [--spans 30000] [--payload 400] [--loads 5]

Starts `trackd server` on a fresh SQLite database, stores one trace of ``--spans`` spans over
OTLP (kept in the spans table, as the 3.18 client sends them) and the same spans as a
``traces.json`` artifact of a second trace (as older clients store them), each span with
inputs and outputs of ``--payload`` characters (the official client's 30,000-span trace is
~29 MB of JSON), then with Debian's chromium through Playwright:

- navigation to the first span rows painted on the trace page (median of ``--loads`` loads,
  static files cached), and to a span's inputs shown after a click;
- for scale, what the page read before the span outline: the whole trace through
  ``get-trace-artifact``, fetched and parsed in the same browser;
- bytes and server time of the outline against the whole spans.

Writes bench/results/trace-page.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench.ui_bench import CHROMIUM, start_server

T0 = 1_780_000_000_000_000_000
RESULTS = Path(__file__).resolve().parent / "results"


def _spans(count: int, payload: int) -> tuple[str, list[dict[str, Any]]]:
    """OTLP JSON spans of one trace: a root and ``count - 1`` children."""
    trace = uuid.uuid4().hex
    root = f"{1 << 40:016x}"
    text = "x" * payload

    def span(i: int, parent: str | None) -> dict[str, Any]:
        out = {"traceId": trace, "spanId": root if parent is None else f"{i:016x}",
               "name": "agent" if parent is None else f"step-{i}",
               "startTimeUnixNano": str(T0 + i * 10**6),
               "endTimeUnixNano": str(T0 + (i + 1) * 10**6 if parent else T0 + count * 10**6),
               "status": {"code": 1}, "attributes": [
                   {"key": "mlflow.spanType", "value": {"stringValue": '"TOOL"'}},
                   {"key": "mlflow.spanInputs",
                    "value": {"stringValue": json.dumps({"i": i, "q": text})}},
                   {"key": "mlflow.spanOutputs",
                    "value": {"stringValue": json.dumps({"answer": text})}}]}
        if parent:
            out["parentSpanId"] = parent
        return out

    return trace, [span(0, None)] + [span(i, root) for i in range(1, count)]


def seed(url: str, count: int, payload: int) -> tuple[str, str]:
    """(trace id kept in the spans table, trace id kept as traces.json)."""
    api = url + "/api/2.0/mlflow/"
    with httpx.Client(timeout=600) as http:
        exp = http.post(api + "experiments/create", json={"name": "trace-page"}).json()
        experiment_id = exp["experiment_id"]
        trace, spans = _spans(count, payload)
        body = {"resourceSpans": [{"resource": {"attributes": []},
                                   "scopeSpans": [{"spans": spans}]}]}
        http.post(url + "/v1/traces", content=json.dumps(body).encode(), headers={
            "Content-Type": "application/json",
            "x-mlflow-experiment-id": experiment_id}).raise_for_status()
        stored = "tr-" + trace
        # The same spans as the artifact of a second trace, in traces.json's shape.
        whole = http.get(url + "/ajax-api/3.0/mlflow/get-trace-artifact",
                         params={"request_id": stored}).content
        artifact = "tr-" + uuid.uuid4().hex
        info = {"trace_id": artifact, "request_time": "2026-06-01T00:00:00Z",
                "execution_duration": "30s", "state": "OK",
                "trace_location": {"type": "MLFLOW_EXPERIMENT",
                                   "mlflow_experiment": {"experiment_id": experiment_id}}}
        http.post(url + "/api/3.0/mlflow/traces",
                  json={"trace": {"trace_info": info}}).raise_for_status()
        http.put(f"{url}/api/2.0/mlflow-artifacts/artifacts/{experiment_id}/traces/{artifact}/"
                 "artifacts/traces.json", content=whole).raise_for_status()
    return stored, artifact


def served(url: str, trace_id: str) -> dict[str, Any]:
    """Bytes (as JSON, and as sent to a client that accepts gzip) and wall time (median of 5,
    client on the same machine) of the outline and of the whole spans."""
    out: dict[str, Any] = {}
    with httpx.Client(timeout=600) as http:
        for name, path, params in (
                ("outline", f"/ajax-api/3.0/trackd/traces/{trace_id}/span-outline", None),
                ("whole spans (get-trace-artifact)", "/ajax-api/3.0/mlflow/get-trace-artifact",
                 {"request_id": trace_id})):
            times, size = [], 0
            for _ in range(5):
                began = time.perf_counter()
                resp = http.get(url + path, params=params)
                resp.raise_for_status()
                times.append((time.perf_counter() - began) * 1000)
                size, wire = len(resp.content), resp.num_bytes_downloaded
            out[name] = {"bytes": size, "bytes_on_the_wire": wire,
                         "median_ms": round(statistics.median(times), 1)}
    return out


def browser(url: str, traces: dict[str, str], loads: int) -> dict[str, Any] | None:
    if not CHROMIUM.exists():
        return None
    from playwright.sync_api import sync_playwright

    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"]
    out: dict[str, Any] = {}
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=args)
        page = chromium.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(120_000)
        for label, trace_id in traces.items():
            target = f"{url}/traces/{trace_id}"
            page.goto(target)  # static files into the cache, as a returning user has them
            page.locator(".span-row").first.wait_for()
            paint, opened = [], []
            for _ in range(loads):
                began = time.perf_counter()
                page.goto(target)
                page.locator(".span-row").first.wait_for()
                paint.append((time.perf_counter() - began) * 1000)
                began = time.perf_counter()
                page.locator(".span-row", has_text="step-150").click()
                page.locator("[data-role=span-detail]", has_text='"i": 150').wait_for()
                opened.append((time.perf_counter() - began) * 1000)
            # What the page read before the outline: every span, fetched and parsed.
            whole_ms = page.evaluate("""async (id) => {
                const began = performance.now();
                const r = await fetch(T.apiUrl("get-trace-artifact", {request_id: id}, "3.0"));
                JSON.parse(await r.text());
                return performance.now() - began; }""", trace_id)
            out[label] = {"navigation_to_first_rows_ms": round(statistics.median(paint), 1),
                          "max_ms": round(max(paint), 1),
                          "click_to_span_inputs_ms": round(statistics.median(opened), 1),
                          "fetch_and_parse_whole_spans_ms (before)": round(whole_ms, 1)}
        chromium.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--spans", type=int, default=30_000)
    parser.add_argument("--payload", type=int, default=400)
    parser.add_argument("--loads", type=int, default=5)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="trackd-trace-page-"))
    proc, url = start_server(workdir)
    try:
        stored, artifact = seed(url, args.spans, args.payload)
        traces = {"spans table (OTLP)": stored, "traces.json artifact": artifact}
        results: dict[str, Any] = {"setup": vars(args)}
        for label, trace_id in traces.items():
            results[f"served: {label}"] = served(url, trace_id)
        painted = browser(url, traces, args.loads)
        if painted is not None:
            results["browser (chromium, Playwright)"] = painted
        results["date"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        print(json.dumps(results, indent=2))
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "trace-page.json").write_text(json.dumps(results, indent=2))
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
