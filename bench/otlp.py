"""OTLP span ingest, trackd and ``mlflow server`` side by side, as an OpenTelemetry collector or
SDK would load them: ``--traces`` traces of ``--spans`` spans, one protobuf export per trace,
``--clients`` threads posting to ``/v1/traces`` at once.

    python -m bench.otlp [--backend sqlite|postgresql|mysql] [--traces 1000] [--spans 10]
                         [--clients 4] [--servers trackd,mlflow] [--before SRC] [--rounds 1]
                         [--warmup 20]

``--before SRC`` adds "trackd-before": trackd run from another checkout's ``src`` (e.g. a
``git worktree`` of main), measured alternately with this tree's trackd, ``--rounds`` times
each: a before/after comparison on the same load. ``--servers trackd`` leaves mlflow out (the
mlflow ratios are then not printed).

Each server gets a fresh database and first takes ``--warmup`` exports of 10 spans from the
same clients, not measured: what a server spends once, on its first requests (the modules
trackd imports when a route is first used, mlflow's own first-request set-up), is start-up
(``bench.io``), not a cost per span; it was ~15 % of trackd's figure at 1,000 × 10 and
~2 % of mlflow's. ``--warmup 0`` measures from the first export. Reported per server: wall
time, spans per second, server CPU seconds and CPU per span (the figure that does not depend
on how heavy the load generator is), peak server memory; then trackd/mlflow ratios. Every
export must be answered 200 and every span must be in the spans table afterwards (counted
through the API), or the run fails. Results go to bench/results/otlp-<backend>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests

from bench import databases, servers
from bench.procs import CpuMeter, PeakSampler

RESULTS = Path(__file__).resolve().parent / "results"


def _exports(n_traces: int, n_spans: int) -> list[tuple[str, bytes]]:
    """(trace id, serialized ExportTraceServiceRequest) per trace: a root and its children,
    with attributes as MLflow's client writes them."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
    from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

    def attr(key: str, value: str) -> KeyValue:
        return KeyValue(key=key, value=AnyValue(string_value=value))

    out = []
    start = time.time_ns()
    for i in range(n_traces):
        trace = secrets.token_bytes(16)
        root = secrets.token_bytes(8)
        request = ExportTraceServiceRequest()
        spans = request.resource_spans.add().scope_spans.add().spans
        for k in range(n_spans):
            span = Span(trace_id=trace, span_id=root if k == 0 else secrets.token_bytes(8),
                        parent_span_id=b"" if k == 0 else root, name=f"step-{k}",
                        start_time_unix_nano=start + i * 1000 + k,
                        end_time_unix_nano=start + i * 1000 + k + 5_000_000,
                        status=Status(code=Status.STATUS_CODE_OK))
            span.attributes.extend([
                attr("mlflow.spanType", '"CHAIN"'),
                attr("mlflow.spanInputs", json.dumps({"i": i, "k": k, "text": "x" * 200})),
                attr("mlflow.spanOutputs", json.dumps({"ok": True, "tokens": k * 10})),
            ])
            spans.append(span)
        out.append(("tr-" + trace.hex(), request.SerializeToString()))
    return out


def _post_all(url: str, experiment_id: str, exports: list[tuple[str, bytes]],
              clients: int) -> None:
    failures: list[str] = []
    chunks = [exports[i::clients] for i in range(clients)]

    def worker(mine: list[tuple[str, bytes]]) -> None:
        session = requests.Session()
        headers = {"Content-Type": "application/x-protobuf",
                   "x-mlflow-experiment-id": experiment_id}
        for _, body in mine:
            r = session.post(f"{url}/v1/traces", data=body, headers=headers, timeout=300)
            if r.status_code != 200:
                failures.append(f"{r.status_code} {r.text[:200]}")

    threads = [threading.Thread(target=worker, args=(c,)) for c in chunks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise SystemExit(f"{len(failures)} exports failed, first: {failures[0]}")


def _stored_spans(url: str, trace_ids: list[str]) -> int:
    total = 0
    for start in range(0, len(trace_ids), 100):
        r = requests.get(f"{url}/api/3.0/mlflow/traces/batchGet",
                         params=[("trace_ids", t) for t in trace_ids[start:start + 100]],
                         timeout=300)
        r.raise_for_status()
        total += sum(len(t.get("spans", [])) for t in r.json().get("traces", []))
    return total


def _read_back(url: str, pid: int, trace_id: str) -> dict[str, float]:
    """One trace read back: the raw ``traces/get`` answer (the server's part alone), then
    ``mlflow.get_trace`` (what a user waits for: the client also parses every span)."""
    import mlflow

    meter = CpuMeter(pid)
    meter.start()
    r = requests.get(f"{url}/api/3.0/mlflow/traces/get", params={"trace_id": trace_id},
                     timeout=600)
    meter.stop()
    r.raise_for_status()
    out = {"http_wall_s": round(meter.wall, 3), "http_server_cpu_s": round(meter.server, 3),
           "http_mib": round(len(r.content) / 2**20, 1)}
    mlflow.set_tracking_uri(url)
    try:
        meter = CpuMeter(pid)
        meter.start()
        mlflow.get_trace(trace_id)
        meter.stop()
    finally:
        mlflow.set_tracking_uri(None)  # type: ignore[arg-type]
    out |= {"client_wall_s": round(meter.wall, 3), "client_server_cpu_s": round(meter.server, 3)}
    return out


class _BeforeKind(servers.ServerKind):
    """trackd from another checkout's ``src``: same command, that code first on the path."""

    def __init__(self, src: str) -> None:
        super().__init__("trackd", f"trackd from {src}")
        self.src = src

    def env(self) -> dict[str, str]:
        env = super().env()
        env["PYTHONPATH"] = os.pathsep.join(
            [self.src, *(p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p)])
        return env


def measure(kind: str, backend: str, exports: list[tuple[str, bytes]], clients: int,
            workdir: Path, before: str | None = None,
            warmup: list[tuple[str, bytes]] | None = None) -> dict[str, Any]:
    db = databases.fresh(backend, f"otlp-{kind}", workdir)
    server_kind = _BeforeKind(before) if kind == "trackd-before" and before \
        else servers.KINDS[kind]
    server = servers.start(server_kind, db, workdir)
    try:
        url = f"http://{servers.HOST}:{server.port}"
        r = requests.post(f"{url}/api/2.0/mlflow/experiments/create",
                          json={"name": f"otlp-{time.monotonic_ns()}"}, timeout=60)
        r.raise_for_status()
        experiment_id = r.json()["experiment_id"]
        if warmup:
            _post_all(url, experiment_id, warmup, clients)
        meter, peak = CpuMeter(server.pid), PeakSampler(server.pid).start()
        meter.start()
        _post_all(url, experiment_id, exports, clients)
        meter.stop()
        peak.stop()
        spans = _stored_spans(url, [t for t, _ in exports])
        return {"wall_s": round(meter.wall, 3), "server_cpu_s": round(meter.server, 3),
                "spans_stored": spans, "peak_rss_mib": round(peak.peak_rss / 2**20, 1),
                "read_back": _read_back(url, server.pid, exports[0][0])}
    finally:
        server.stop()
        databases.drop(db)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", default="sqlite", choices=databases.BACKENDS)
    parser.add_argument("--traces", type=int, default=1000)
    parser.add_argument("--spans", type=int, default=10)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--servers", default="trackd,mlflow",
                        help="comma-separated: trackd, mlflow (default both)")
    parser.add_argument("--before", metavar="SRC",
                        help="also run trackd from this src folder, alternately (before/after)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="runs per server, alternated; the median run is reported")
    parser.add_argument("--warmup", type=int, default=20,
                        help="exports of 10 spans each server takes first, not measured")
    args = parser.parse_args()
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    kinds = [k.strip() for k in args.servers.split(",") if k.strip()]
    if args.before:
        kinds.insert(0, "trackd-before")
    exports = _exports(args.traces, args.spans)
    warmup = _exports(args.warmup, 10) if args.warmup else None
    n_spans = args.traces * args.spans
    runs: dict[str, list[dict[str, Any]]] = {k: [] for k in kinds}
    with tempfile.TemporaryDirectory(prefix="bench-otlp-") as tmp:
        for _ in range(args.rounds):
            for kind in kinds:
                got = measure(kind, args.backend, exports, args.clients, Path(tmp), args.before,
                              warmup)
                if got["spans_stored"] != n_spans:
                    raise SystemExit(f"{kind}: {got['spans_stored']} of {n_spans} spans stored")
                got["spans_per_s"] = round(n_spans / got["wall_s"], 1)
                got["server_cpu_ms_per_span"] = round(got["server_cpu_s"] * 1000 / n_spans, 3)
                runs[kind].append(got)
    # The median run by server CPU (the steadier figure on a shared machine).
    results: dict[str, Any] = {"config": vars(args)}
    for kind, measured in runs.items():
        ordered = sorted(measured, key=lambda r: r["server_cpu_s"])
        results[kind] = ordered[len(ordered) // 2]
        if args.rounds > 1:
            results[kind]["runs_cpu_ms_per_span"] = [
                r["server_cpu_ms_per_span"] for r in measured]
    print(f"OTLP ingest: {args.traces} traces x {args.spans} spans, {args.clients} clients, "
          f"{args.backend}" + (f", median of {args.rounds} alternated runs" if args.rounds > 1
                               else ""))
    print(f"{'server':<14}{'wall s':>9}{'spans/s':>10}{'cpu s':>9}{'cpu ms/span':>13}"
          f"{'peak MiB':>10}")
    for name in kinds:
        r = results[name]
        print(f"{name:<14}{r['wall_s']:>9.2f}{r['spans_per_s']:>10.0f}{r['server_cpu_s']:>9.2f}"
              f"{r['server_cpu_ms_per_span']:>13.3f}{r['peak_rss_mib'] or 0:>10.0f}"
              + (f"   runs: {r['runs_cpu_ms_per_span']}" if args.rounds > 1 else ""))
    t = results.get("trackd")
    for other in ("trackd-before", "mlflow"):
        if t and other in results:
            o = results[other]
            print(f"trackd/{other}: {o['wall_s'] / t['wall_s']:.2f}x spans/s, "
                  f"{o['server_cpu_s'] / t['server_cpu_s']:.2f}x less server CPU")
    print(f"read back one trace ({args.spans} spans): raw traces/get, then mlflow.get_trace")
    print(f"{'server':<14}{'http s':>9}{'cpu s':>9}{'MiB':>7}{'client s':>10}{'cpu s':>9}")
    for name in kinds:
        b = results[name]["read_back"]
        print(f"{name:<14}{b['http_wall_s']:>9.3f}{b['http_server_cpu_s']:>9.3f}"
              f"{b['http_mib']:>7.1f}{b['client_wall_s']:>10.3f}{b['client_server_cpu_s']:>9.3f}")
    RESULTS.mkdir(exist_ok=True)
    name = f"otlp-{args.backend}-{args.traces}x{args.spans}.json"
    (RESULTS / name).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
