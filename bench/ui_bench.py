"""UI benchmark: server time and transferred bytes of the runs page and of a long metric chart.

    python bench/ui_bench.py [--runs 10000] [--params 20] [--metrics 10] [--steps 100000]
                             [--workdir DIR]   # keep the seeded database; measure it again later

Starts `trackd server` on a fresh SQLite database in a temporary folder, seeds an experiment of
``--runs`` runs (each with ``--params`` params, ``--metrics`` metrics and 3 tags) and a run whose
metric has ``--steps`` points, all through the REST API, then measures over keep-alive HTTP:

- the runs page (``/experiments/<id>``): first page with every column, a filtered and
  metric-sorted page, a deep page reached through page tokens, and a 1,000-run page;
- the chart data of the long metric (``metrics/get-history-bulk-interval``, 2,500 points), and
  for scale the whole history (``metrics/get-history``);
- with Debian's chromium present: the browser time from navigation to the drawn chart.

Server time is the median wall time of a request on 127.0.0.1 (the client is on the same
machine); bytes are the body as sent, gzip where the browser would get gzip.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

PREFIX = "/app/bench/5000"
CHROMIUM = Path("/usr/bin/chromium")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    trackd = shutil.which("trackd") or str(Path(sys.executable).parent / "trackd")
    log = (workdir / "server.log").open("wb")
    proc = subprocess.Popen(
        [trackd, "server", "--backend-store-uri", f"sqlite:///{workdir / 'mlflow.db'}",
         "--artifacts-destination", str(workdir / "artifacts"), "--port", str(port),
         "--static-prefix", PREFIX],
        stdout=log, stderr=subprocess.STDOUT, cwd=workdir, start_new_session=True)
    url = f"http://127.0.0.1:{port}{PREFIX}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("trackd did not start; see " + str(workdir / "server.log"))


# ---- seeding -----------------------------------------------------------------------------

async def seed(url: str, runs: int, params: int, metrics: int, steps: int) -> dict[str, str]:
    api = url + "/api/2.0/mlflow/"
    limits = httpx.Limits(max_connections=16, max_keepalive_connections=16)
    async with httpx.AsyncClient(timeout=120, limits=limits) as http:
        exp = (await http.post(api + "experiments/create", json={"name": "bench"})).json()
        experiment_id = exp["experiment_id"]
        start = int(time.time() * 1000) - runs * 1000
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(runs):
            queue.put_nowait(i)

        async def worker() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                made = await http.post(api + "runs/create", json={
                    "experiment_id": experiment_id, "run_name": f"run-{i:05d}",
                    "start_time": start + i * 1000})
                rid = made.json()["run"]["info"]["run_id"]
                body = {
                    "run_id": rid,
                    "params": [{"key": f"param_{p:02d}", "value": str((i * 7 + p) % 13)}
                               for p in range(params)],
                    "metrics": [{"key": f"metric_{m:02d}", "value": ((i * 31 + m) % 1000) / 1000,
                                 "timestamp": start + i * 1000, "step": 0}
                                for m in range(metrics)],
                    "tags": [{"key": "team", "value": ("a", "b", "c")[i % 3]},
                             {"key": "mlflow.user", "value": "bench"},
                             {"key": "stage", "value": "sweep"}],
                }
                (await http.post(api + "runs/log-batch", json=body)).raise_for_status()
                await http.post(api + "runs/update", json={
                    "run_id": rid, "status": "FINISHED", "end_time": start + i * 1000 + 500})

        began = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(8)))
        seeded_s = time.monotonic() - began
        long_run = (await http.post(api + "runs/create", json={
            "experiment_id": experiment_id, "run_name": "long"})).json()["run"]["info"]["run_id"]
        base = int(time.time() * 1000)
        for first in range(0, steps, 1000):
            batch = [{"key": "loss", "value": 1 / (1 + s / 5000), "timestamp": base + s,
                      "step": s} for s in range(first, min(steps, first + 1000))]
            (await http.post(api + "runs/log-batch",
                             json={"run_id": long_run, "metrics": batch})).raise_for_status()
    return {"experiment_id": str(experiment_id), "long_run": long_run,
            "seed_seconds": f"{seeded_s:.0f}"}


def find_seeded(url: str) -> dict[str, str]:
    api = url + "/api/2.0/mlflow/"
    exp = httpx.get(api + "experiments/get-by-name", params={"experiment_name": "bench"})
    experiment_id = exp.json()["experiment"]["experiment_id"]
    found = httpx.post(api + "runs/search", json={
        "experiment_ids": [experiment_id], "filter": "attributes.run_name = 'long'",
        "max_results": 1}).json()
    return {"experiment_id": experiment_id, "long_run": found["runs"][0]["info"]["run_id"],
            "seed_seconds": "reused"}


# ---- measuring ---------------------------------------------------------------------------

def measure(http: httpx.Client, url: str, repeat: int, gzip: bool = True) -> dict[str, Any]:
    headers = {"Accept-Encoding": "gzip"} if gzip else {"Accept-Encoding": "identity"}
    times, sent, size = [], 0, 0
    for _ in range(repeat):
        began = time.perf_counter()
        response = http.get(url, headers=headers)
        times.append((time.perf_counter() - began) * 1000)
        response.raise_for_status()
        sent = int(response.headers.get("content-length") or len(response.content))
        size = len(response.content)
    return {"median_ms": round(statistics.median(times), 1), "p90_ms":
            round(sorted(times)[int(len(times) * 0.9) - 1], 1), "bytes_sent": sent,
            "bytes_raw": size, "rows": response.text.count("data-run=")}


def measure_post(http: httpx.Client, url: str, body: Any, repeat: int) -> dict[str, Any]:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        response = http.post(url, json=body)
        times.append((time.perf_counter() - began) * 1000)
        response.raise_for_status()
    return {"median_ms": round(statistics.median(times), 1), "bytes_sent": len(response.content)}


def deep_page_url(http: httpx.Client, url: str, pages: int) -> str:
    """Follow the runs page's Next link `pages` times; the URL of the last page."""
    current = url
    for _ in range(pages):
        html = http.get(current).text
        found = re.search(r'href="([^"]+)" rel="next"', html)
        if not found:
            break
        current = url.split(PREFIX)[0] + found.group(1).replace("&amp;", "&")
    return current


def browser_chart_ms(url: str) -> dict[str, float] | None:
    if not CHROMIUM.exists():
        return None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=args)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(url)  # warm the static files into the cache, as a returning user has them
        timings, fetch_draw = [], []
        for _ in range(5):
            began = time.perf_counter()
            page.goto(url)
            drawn = page.locator("figure[data-drawn='1']").first
            drawn.locator("canvas").wait_for(timeout=30_000)
            timings.append((time.perf_counter() - began) * 1000)
            fetch_draw.append(float(drawn.get_attribute("data-loaded-ms") or 0))
        browser.close()
    return {"navigation_to_drawn_ms": round(statistics.median(timings), 1),
            "chart_fetch_and_draw_ms": round(statistics.median(fetch_draw), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--params", type=int, default=20)
    parser.add_argument("--metrics", type=int, default=10)
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--workdir", type=Path, help="keep the seeded database here; a folder "
                        "that already holds one is measured again without seeding")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="trackd-ui-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    reuse = (workdir / "mlflow.db").exists()
    proc, url = start_server(workdir)
    try:
        if reuse:
            info = find_seeded(url)
        else:
            info = asyncio.run(seed(url, args.runs, args.params, args.metrics, args.steps))
        exp, long_run = info["experiment_id"], info["long_run"]
        setup = {k: v for k, v in vars(args).items() if k != "workdir"}
        results: dict[str, Any] = {"setup": {**setup, "seed_seconds": info["seed_seconds"]}}
        with httpx.Client(timeout=120) as http:
            page = f"{url}/experiments/{exp}"
            for _ in range(3):
                http.get(page)  # warm caches (SQLite pages, templates)
            results["runs page, 100 runs, 30 columns"] = measure(http, page, args.repeat)
            results["runs page, uncompressed"] = measure(http, page, args.repeat, gzip=False)
            filtered = page + "?filter=params.param_03+%3D+%275%27+and+metrics.metric_02+%3E+0.2" \
                              "&sort=m%3Ametric_01&dir=desc"
            results["runs page, param filter + metric sort"] = measure(http, filtered, args.repeat)
            api_page = measure_post(http, f"{url}/ajax-api/2.0/mlflow/runs/search", {
                "experiment_ids": [exp], "max_results": 100,
                "order_by": ["attributes.start_time DESC"]}, args.repeat)
            results["runs/search API, same 100 runs (for scale)"] = api_page
            deep = deep_page_url(http, page, 50)
            results["runs page 51 (via page tokens)"] = measure(http, deep, args.repeat)
            results["runs page, 1000 runs"] = measure(http, page + "?size=1000", 5)
            statics = [f"{url}/static/{name}" for name in
                       ("trackd.css", "trackd.js", "runs.js", "charts.js",
                        "vendor/uPlot.iife.min.js", "vendor/uPlot.min.css")]
            results["static files, first visit (cached for a year after)"] = {
                "bytes_sent": sum(measure(http, s, 1)["bytes_sent"] for s in statics)}
            bulk = (f"{url}/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval?"
                    f"run_ids={long_run}&metric_key=loss&max_results=2500")
            results[f"chart data, {args.steps}-step metric (sampled)"] = measure(
                http, bulk, args.repeat, gzip=False)
            full = (f"{url}/ajax-api/2.0/mlflow/metrics/get-history?"
                    f"run_id={long_run}&metric_key=loss")
            results[f"whole history, {args.steps} points (for scale)"] = measure(
                http, full, 3, gzip=False)
        drawn = browser_chart_ms(f"{url}/runs/{long_run}?tab=charts")
        if drawn is not None:
            results["browser: 100,000-step chart (median of 5, static files cached)"] = drawn
        print(json.dumps(results, indent=2))
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
