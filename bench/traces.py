"""GenAI traces with the official client, trackd and ``mlflow server`` side by side.

    python -m bench.traces [--backend sqlite|postgresql|mysql] [--traces 200] [--spans 10]

Each server gets a fresh database. The official mlflow 3.18 client (in this process) logs
``--traces`` traces of ``--spans`` spans each (a traced function with nested spans, exported
synchronously: the async queue drops traces when a loop outruns it), then ``search_traces``
reads them back in one page with their spans, then again info only (``include_spans=False``),
then ``get_trace`` reads one. Peak server memory is sampled over the whole run. Beside each
wall time: the server's CPU seconds, the figure that does not depend on how busy the client
is. Results print as a table with trackd/mlflow ratios and go to
bench/results/traces-<backend>.json.

Both servers take the spans over OTLP into MLflow's spans table (and, as the client sends the
trace's info before its spans reach the server, also get each trace's traces.json artifact).
bench/otlp.py measures OTLP ingest alone, as other OpenTelemetry SDKs send it.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import databases, servers
from bench.procs import CpuMeter, PeakSampler

RESULTS = Path(__file__).resolve().parent / "results"


def _client(url: str, n_traces: int, n_spans: int) -> Any:
    import mlflow

    mlflow.set_tracking_uri(url)
    experiment_id = mlflow.create_experiment(f"bench-traces-{time.monotonic_ns()}")
    mlflow.set_experiment(experiment_id=experiment_id)

    @mlflow.trace(name="request")
    def request(i: int) -> str:
        for k in range(n_spans - 1):
            with mlflow.start_span(f"step-{k}") as span:
                span.set_inputs({"i": i, "k": k, "text": "x" * 200})
                span.set_outputs({"ok": True, "tokens": k * 10})
        return f"answer {i}"

    return mlflow, experiment_id, request


def _phase(server: servers.Server, fn: Any) -> dict[str, float]:
    meter = CpuMeter(server.pid)
    meter.start()
    fn()
    meter.stop()
    return {"wall_s": round(meter.wall, 3), "server_cpu_s": round(meter.server, 3),
            "others_cpu_s": round(meter.others, 3)}


def measure(kind: str, backend: str, n_traces: int, n_spans: int, workdir: Path) -> dict[str, Any]:
    db = databases.fresh(backend, f"traces-{kind}", workdir)
    server = servers.start(servers.KINDS[kind], db, workdir)
    peak = PeakSampler(server.pid).start()
    try:
        mlflow, experiment_id, request = _client(f"http://{servers.HOST}:{server.port}",
                                                 n_traces, n_spans)
        out: dict[str, Any] = {}

        def log_all() -> None:
            for i in range(n_traces):
                request(i)
            mlflow.flush_trace_async_logging(terminate=False)

        out["log"] = _phase(server, log_all)
        found: list[Any] = []
        out["search_with_spans"] = _phase(server, lambda: found.extend(mlflow.search_traces(
            locations=[experiment_id], max_results=n_traces, return_type="list")))
        spans = sum(len(t.data.spans) for t in found)
        out["search_with_spans"].update(traces=len(found), spans=spans)
        infos: list[Any] = []
        out["search_info_only"] = _phase(server, lambda: infos.extend(mlflow.search_traces(
            locations=[experiment_id], max_results=n_traces, return_type="list",
            include_spans=False)))
        out["search_info_only"].update(traces=len(infos))
        if len(found) != n_traces or len(infos) != n_traces or spans != n_traces * n_spans:
            raise SystemExit(f"{kind}: searches found {len(found)} traces with {spans} spans "
                             f"and {len(infos)} infos, expected {n_traces} x {n_spans}")
        trace_id = found[0].info.trace_id if found else None
        out["get_trace"] = _phase(server, lambda: mlflow.get_trace(trace_id))
        mlflow.set_tracking_uri(None)
        peak.stop()
        out["peak_rss_mib"] = round(peak.peak_rss / 2**20, 1)
        return out
    finally:
        peak.stop()
        server.stop()
        databases.drop(db)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", default="sqlite", choices=databases.BACKENDS)
    parser.add_argument("--traces", type=int, default=200)
    parser.add_argument("--spans", type=int, default=10)
    args = parser.parse_args()
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    # Export each trace before the call returns: with the client's async queue, a fast loop
    # overflows it and the client drops traces ("Queue full"), which would flatter both.
    os.environ["MLFLOW_ENABLE_ASYNC_TRACE_LOGGING"] = "false"
    results: dict[str, Any] = {"config": vars(args)}
    with tempfile.TemporaryDirectory(prefix="bench-traces-") as tmp:
        for kind in ("trackd", "mlflow"):
            results[kind] = measure(kind, args.backend, args.traces, args.spans, Path(tmp))
    print(f"{args.traces} traces x {args.spans} spans, {args.backend}")
    print(f"{'phase':<20}{'trackd wall s':>14}{'mlflow wall s':>14}{'ratio':>8}"
          f"{'trackd cpu s':>14}{'mlflow cpu s':>14}"
          f"{'cpu ratio':>10}")
    for phase in ("log", "search_with_spans", "search_info_only", "get_trace"):
        t, m = results["trackd"][phase], results["mlflow"][phase]
        ratio = m["wall_s"] / t["wall_s"] if t["wall_s"] else float("nan")
        cpu = m["server_cpu_s"] / t["server_cpu_s"] if t["server_cpu_s"] else float("nan")
        print(f"{phase:<20}{t['wall_s']:>14.3f}{m['wall_s']:>14.3f}{ratio:>7.1f}x"
              f"{t['server_cpu_s']:>14.3f}{m['server_cpu_s']:>14.3f}{cpu:>9.1f}x")
    n_spans = args.traces * args.spans
    for kind in ("trackd", "mlflow"):
        r = results[kind]
        print(f"{kind}: logging {r['log']['server_cpu_s'] * 1000 / n_spans:.3f} ms server CPU "
              f"per span, peak RSS {r['peak_rss_mib']} MiB")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"traces-{args.backend}.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
