"""Runs logged with the official mlflow client, as users do: trackd and ``mlflow server`` side
by side.

    python -m bench.client_runs [--backend sqlite|postgresql|mysql] [--runs 5] [--steps 100]

Each server gets a fresh database. The mlflow 3.18 client (in this process) plays a training
script ``--runs`` times: start a run, log 20 params, ``log_metric`` once per step for
``--steps`` steps, one ``log_batch`` of 1,000 points, set 5 tags, end the run; then
``search_runs`` reads the experiment back (a page of 100, and a filtered one). Every operation
is timed on the client (wall) and on the server (its process tree's CPU), and reported per
operation (the kernel counts CPU in 10 ms ticks: an operation needs a few hundred calls for a
steady figure, as log_metric and log_params get). There is no target: on a small machine the
client's own Python is most of the wall time, so the server's CPU per operation is the figure
that compares the servers.
Results print as a table and go to bench/results/client-runs-<backend>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import databases, servers
from bench.procs import CpuMeter

RESULTS = Path(__file__).resolve().parent / "results"
OPERATIONS = ("create_run", "log_params", "log_metric", "log_batch", "set_tags", "end_run",
              "search_runs", "search_runs_filtered")


class Timer:
    """Wall and server-CPU seconds summed per operation name."""

    def __init__(self, server_pid: int) -> None:
        self.pid = server_pid
        self.totals: dict[str, list[float]] = {}  # name -> [calls, wall s, server cpu s]

    def __call__(self, name: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        meter = CpuMeter(self.pid)
        meter.start()
        result = fn(*args, **kwargs)
        meter.stop()
        calls, wall, cpu = self.totals.get(name, [0, 0.0, 0.0])
        self.totals[name] = [calls + 1, wall + meter.wall, cpu + meter.server]
        return result

    def summary(self) -> dict[str, dict[str, float]]:
        return {name: {"calls": int(calls), "wall_ms_per_op": round(wall / calls * 1e3, 3),
                       "server_cpu_ms_per_op": round(cpu / calls * 1e3, 3)}
                for name, (calls, wall, cpu) in self.totals.items()}


def play(url: str, timer: Timer, runs: int, steps: int) -> None:
    """The training-script loop, then the reads a notebook does afterwards."""
    from mlflow import MlflowClient
    from mlflow.entities import Metric

    client = MlflowClient(tracking_uri=url)
    experiment_id = client.create_experiment(f"bench-client-{time.monotonic_ns()}")
    for r in range(runs):
        run_id = timer("create_run", client.create_run, experiment_id).info.run_id
        for k in range(20):
            timer("log_params", client.log_param, run_id, f"p{k}", f"v{(r + k) % 7}")
        for step in range(steps):
            timer("log_metric", client.log_metric, run_id, "loss", 1.0 / (step + 1), step=step)
        now = int(time.time() * 1000)
        batch = [Metric("acc", (i % 100) / 100, now, i) for i in range(1000)]
        timer("log_batch", client.log_batch, run_id, metrics=batch)
        for k in range(5):
            timer("set_tags", client.set_tag, run_id, f"t{k}", f"tag-{r % (k + 2)}")
        timer("end_run", client.set_terminated, run_id)
    for _ in range(5):
        timer("search_runs", client.search_runs, [experiment_id], max_results=100)
        timer("search_runs_filtered", client.search_runs, [experiment_id],
              "params.p0 = 'v3' and metrics.loss < 1", order_by=["metrics.loss DESC"],
              max_results=100)


def measure(kind: str, backend: str, runs: int, steps: int, workdir: Path) -> dict[str, Any]:
    db = databases.fresh(backend, f"client-{kind}", workdir)
    server = servers.start(servers.KINDS[kind], db, workdir)
    try:
        timer = Timer(server.pid)
        play(f"http://{servers.HOST}:{server.port}", timer, runs, steps)
        return {"loadavg": os.getloadavg()[0], "operations": timer.summary()}
    finally:
        server.stop()
        databases.drop(db)


def table(results: dict[str, Any]) -> str:
    head = (f"{'operation':<22}{'trackd wall ms':>15}{'mlflow wall ms':>15}{'ratio':>8}"
            f"{'trackd cpu ms':>15}{'mlflow cpu ms':>15}{'ratio':>8}")
    lines = [head]
    for op in OPERATIONS:
        t = results["trackd"]["operations"].get(op)
        m = results["mlflow"]["operations"].get(op)
        if not t or not m:
            continue
        lines.append(f"{op:<22}{t['wall_ms_per_op']:>15.2f}{m['wall_ms_per_op']:>15.2f}"
                     f"{_ratio(m['wall_ms_per_op'], t['wall_ms_per_op'])}"
                     f"{t['server_cpu_ms_per_op']:>15.2f}{m['server_cpu_ms_per_op']:>15.2f}"
                     f"{_ratio(m['server_cpu_ms_per_op'], t['server_cpu_ms_per_op'])}")
    return "\n".join(lines)


def _ratio(theirs: float, mine: float) -> str:
    # CPU is read in clock ticks (10 ms): an operation called a few times may show 0.
    return f"{theirs / mine:>7.1f}x" if mine > 0 else f"{'-':>8}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", default="sqlite", choices=list(databases.BACKENDS))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--steps", type=int, default=100)
    args = parser.parse_args()
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    if why := databases.available(args.backend):
        raise SystemExit(f"{args.backend} is not available: {why}")
    results: dict[str, Any] = {"config": vars(args)}
    with tempfile.TemporaryDirectory(prefix="bench-client-") as tmp:
        for kind in ("trackd", "mlflow"):
            results[kind] = measure(kind, args.backend, args.runs, args.steps, Path(tmp))
    print(f"{args.runs} runs x ({args.steps} log_metric + 20 params + 1 log_batch of 1,000 "
          f"+ 5 tags), {args.backend}; load average {os.getloadavg()[0]:.1f}")
    print(table(results))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"client-runs-{args.backend}.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
