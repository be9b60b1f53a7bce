"""GenAI traces with the official client, trackd and ``mlflow server`` side by side.

    python -m bench.traces [--backend sqlite|postgresql|mysql] [--traces 200] [--spans 10]
                           [--repeats 5]

Each server gets a fresh database. The official mlflow 3.18 client (in this process) logs
``--traces`` traces of ``--spans`` spans each (a traced function with nested spans, exported
synchronously: the async queue drops traces when a loop outruns it), then ``search_traces``
reads them all back with their spans, then again info only (``include_spans=False``), then
``get_trace`` reads one. (The 3.18 client asks ``traces/search`` for pages of 100 whatever
``max_results``, and with spans ``traces/batchGet`` for 10 traces at a time.) Peak server
memory is sampled over the whole run. Beside each wall time: the server's CPU seconds, the
figure that does not depend on how busy the client is.

Each search runs ``--repeats`` times in a row on each server, and the table shows the figures
per search (the phase's total divided by the repeats): an info-only search costs trackd tens of
milliseconds, which /proc counts in 10 ms ticks, so a single one is too coarse to compare.
Results print as a table with trackd/mlflow ratios and go to
bench/results/traces-<backend>.json (per phase: totals, the repeats, and per-search figures).

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


def _phase(server: servers.Server, fn: Any, repeats: int | None = None) -> dict[str, Any]:
    """``fn`` run once, or ``repeats`` times: the totals (``wall_s``, ``server_cpu_s``), and
    for a repeated phase the repeats and the figures per run as well."""
    meter = CpuMeter(server.pid)
    meter.start()
    for _ in range(repeats or 1):
        fn()
    meter.stop()
    out: dict[str, Any] = {"wall_s": round(meter.wall, 3), "server_cpu_s": round(meter.server, 3),
                           "others_cpu_s": round(meter.others, 3)}
    if repeats is not None:
        out.update(repeats=repeats, wall_per_search_s=round(meter.wall / repeats, 4),
                   server_cpu_per_search_s=round(meter.server / repeats, 4))
    return out


def per_search(phase: dict[str, Any], key: str) -> float:
    """A phase's figure per search (``wall_s`` or ``server_cpu_s``), whether or not the phase
    was repeated (older result files hold single searches)."""
    return float(phase[key]) / int(phase.get("repeats", 1))


def measure(kind: str, backend: str, n_traces: int, n_spans: int, workdir: Path,
            repeats: int = 1) -> dict[str, Any]:
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
        found: list[Any] = []  # the last search's traces

        def search(include_spans: bool) -> None:
            found[:] = mlflow.search_traces(locations=[experiment_id], max_results=n_traces,
                                            return_type="list", include_spans=include_spans)
            spans = sum(len(t.data.spans) for t in found)
            if len(found) != n_traces or spans != (n_traces * n_spans if include_spans else 0):
                raise SystemExit(f"{kind}: a search found {len(found)} traces with {spans} "
                                 f"spans, expected {n_traces} x {n_spans} "
                                 f"(include_spans={include_spans})")

        out["search_with_spans"] = _phase(server, lambda: search(True), repeats)
        out["search_with_spans"].update(traces=len(found),
                                        spans=sum(len(t.data.spans) for t in found))
        out["search_info_only"] = _phase(server, lambda: search(False), repeats)
        out["search_info_only"].update(traces=len(found))
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
    parser.add_argument("--repeats", type=int, default=5,
                        help="times each search runs on each server (figures are per search)")
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    # Export each trace before the call returns: with the client's async queue, a fast loop
    # overflows it and the client drops traces ("Queue full"), which would flatter both.
    os.environ["MLFLOW_ENABLE_ASYNC_TRACE_LOGGING"] = "false"
    results: dict[str, Any] = {"config": vars(args)}
    with tempfile.TemporaryDirectory(prefix="bench-traces-") as tmp:
        for kind in ("trackd", "mlflow"):
            results[kind] = measure(kind, args.backend, args.traces, args.spans, Path(tmp),
                                    args.repeats)
    print(f"{args.traces} traces x {args.spans} spans, {args.backend}; searches: figures per "
          f"search, {args.repeats} of each in a row")
    print(f"{'phase':<20}{'trackd wall s':>14}{'mlflow wall s':>14}{'ratio':>8}"
          f"{'trackd cpu s':>14}{'mlflow cpu s':>14}"
          f"{'cpu ratio':>10}")
    for phase in ("log", "search_with_spans", "search_info_only", "get_trace"):
        t, m = results["trackd"][phase], results["mlflow"][phase]
        t_wall, m_wall = per_search(t, "wall_s"), per_search(m, "wall_s")
        t_cpu, m_cpu = per_search(t, "server_cpu_s"), per_search(m, "server_cpu_s")
        ratio = m_wall / t_wall if t_wall else float("nan")
        cpu = m_cpu / t_cpu if t_cpu else float("nan")
        print(f"{phase:<20}{t_wall:>14.4f}{m_wall:>14.4f}{ratio:>7.1f}x"
              f"{t_cpu:>14.4f}{m_cpu:>14.4f}{cpu:>9.1f}x")
    n_spans = args.traces * args.spans
    for kind in ("trackd", "mlflow"):
        r = results[kind]
        print(f"{kind}: logging {r['log']['server_cpu_s'] * 1000 / n_spans:.3f} ms server CPU "
              f"per span, peak RSS {r['peak_rss_mib']} MiB")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"traces-{args.backend}.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
