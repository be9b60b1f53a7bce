"""``python -m bench``: start each server on a fresh database, drive it, print one table.

Servers: trackd, ``mlflow server`` (1 worker, and its default 4 on the write paths), and
FastTrackML when it can be installed (not on MySQL/MariaDB, which it does not support).
Backends: SQLite, PostgreSQL, then MariaDB. Every scenario fails
soft: its cell says "error: ..." and the run goes on. Results land in
``bench/results/<date>-<backend>.json``; the tables in ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import json
import os
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench import databases, docs, report, servers
from bench.context import Config, Ctx
from bench.httpclient import Connection
from bench.procs import PeakSampler, memory
from bench.scen_artifacts import artifacts, cp_speed, make_file
from bench.scen_read import get_history, search_queries, seed_search
from bench.scen_write import create_runs, log_batch, log_metric

RESULTS = Path(__file__).with_name("results")
MiB = 1 << 20
SCENARIOS = ("log-metric", "log-batch", "create-runs", "get-history", "search", "artifacts")


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


class Bench:
    """One backend's run: every selected server, one after the other, on fresh databases."""

    def __init__(self, backend: str, cfg: Config, scenarios: list[str], workdir: Path) -> None:
        self.backend = backend
        self.cfg = cfg
        self.scenarios = scenarios
        self.workdir = workdir
        self.trackd_search: tuple[databases.Db, str] | None = None  # for mlflow's clone
        self.mlflow_db: databases.Db | None = None
        self.artifact_file: Path | None = None
        self.search_runs = cfg.search_runs

    async def server(self, kind: servers.ServerKind) -> dict[str, Any]:
        out: dict[str, Any] = {"label": kind.label, "loadavg_before": os.getloadavg()[0]}
        if kind.note:
            out["note"] = kind.note
        db = databases.fresh(self.backend, kind.name, self.workdir)
        try:
            srv = servers.start(kind, db, self.workdir)
        except Exception as exc:
            databases.drop(db)
            return {**out, "error": f"did not start: {exc}"}
        say(f"  {kind.name}: healthy after {srv.startup_s:.2f} s")
        out["startup_s"] = round(srv.startup_s, 3)
        await asyncio.sleep(2.0)  # let start-up work settle before calling it idle
        out["idle"] = _memory(srv.pid)
        sampler = PeakSampler(srv.pid).start()
        ctx = Ctx(srv, self.cfg, Connection(servers.HOST, srv.port), sampler, self.workdir)
        ctx.shared["artifact_file"] = self.artifact_file
        try:
            for name in self.scenarios:
                if kind.scenarios is not None and name not in kind.scenarios:
                    continue
                out[name] = await self._scenario(name, kind, ctx)
        finally:
            sampler.stop()
            ctx.conn.close()
            out["peak"] = {"rss_MiB": round(sampler.peak_rss / MiB, 1),
                           "pss_MiB": round(sampler.peak_pss / MiB, 1)}
            srv.stop()
            out["loadavg_after"] = os.getloadavg()[0]
        if kind.name == "trackd":
            seed = out.get("search", {}).get("seed", {})
            if seed.get("runs"):
                self.trackd_search = (db, seed["experiment_id"])
                self.search_runs = int(seed["runs"])
        elif kind.name == "mlflow":
            self.mlflow_db = db
            if out.get("search", {}).get("deferred"):
                out["search"].update(await self._mlflow_on_clone(kind))
        if db is not self.mlflow_db and not (self.trackd_search and self.trackd_search[0] is db):
            databases.drop(db)
        out["footprint"] = _footprint(kind)
        return out

    async def _scenario(self, name: str, kind: servers.ServerKind, ctx: Ctx) -> dict[str, Any]:
        t0 = time.perf_counter()
        fn: Callable[[Ctx], Awaitable[dict[str, Any]]] = {
            "log-metric": log_metric, "log-batch": log_batch, "create-runs": create_runs,
            "get-history": get_history, "artifacts": artifacts, "search": self._search,
        }[name]
        try:
            if ctx.server.proc.poll() is not None:
                raise RuntimeError(f"server exited: {ctx.server.log_tail(300)}")
            result = await fn(ctx)
        except Exception as exc:
            say(f"    {name}: FAILED {type(exc).__name__}: {exc}")
            traceback.print_exc(limit=3, file=sys.stderr)
            result = {"error": f"{type(exc).__name__}: {exc}"[:400],
                      "server_log_tail": _traceback_tail(ctx.server.log_tail(20_000))}
        result["elapsed_s"] = round(time.perf_counter() - t0, 1)
        say(f"    {name}: {result['elapsed_s']} s")
        return result

    async def _search(self, ctx: Ctx) -> dict[str, Any]:
        cfg = self.cfg
        is_mlflow = ctx.server.kind.name == "mlflow"
        # mlflow takes minutes to seed 10,000 runs: it seeds a timed sample to measure its
        # rate, and searches a clone of trackd's seeded database (same schema) instead.
        clone_ready = is_mlflow and self.trackd_search is not None
        budget = cfg.mlflow_seed_budget if is_mlflow else cfg.seed_budget
        # Every server searches as many runs as trackd managed to seed in its budget, so
        # that the search figures compare like with like.
        seed = await seed_search(ctx, self.search_runs, budget)
        say(f"    seeded {seed['runs']} runs in {seed['seconds']} s")
        out: dict[str, Any] = {"seed": seed}
        if seed["complete"] or not clone_ready:
            out["data"] = "seeded by this server"
            out.update(await search_queries(ctx, seed["experiment_id"]))
        else:
            out["deferred"] = True
        return out

    async def _mlflow_on_clone(self, kind: servers.ServerKind) -> dict[str, Any]:
        assert self.trackd_search is not None and self.mlflow_db is not None
        source, experiment = self.trackd_search
        clone = None
        try:
            clone = databases.clone(source, "mlflow-search", self.workdir)
            changes = databases.align_indexes(clone, self.mlflow_db)
            srv = servers.start(kind, clone, self.workdir)
            sampler = PeakSampler(srv.pid).start()
            ctx = Ctx(srv, self.cfg, Connection(servers.HOST, srv.port), sampler, self.workdir)
            try:
                result = await search_queries(ctx, experiment)
            finally:
                sampler.stop()
                ctx.conn.close()
                srv.stop()
            result["data"] = ("a clone of trackd's seeded database with mlflow's own indexes"
                              + (f" ({len(changes)} index changes)" if changes else ""))
            return result
        except Exception as exc:
            return {"error": f"search on the clone: {type(exc).__name__}: {exc}"[:400]}
        finally:
            if clone is not None:
                databases.drop(clone)


def _traceback_tail(log: str) -> str:
    """The server's last traceback (or the log's end): why a scenario got a 500."""
    start = log.rfind("Traceback (most recent call last)")
    return log[start:][-3000:] if start >= 0 else log[-1500:]


def _memory(pid: int) -> dict[str, Any]:
    mem = memory(pid)
    return {"rss_MiB": round(mem.rss / MiB, 1), "pss_MiB": round(mem.pss / MiB, 1),
            "processes": mem.processes}


def _footprint(kind: servers.ServerKind) -> dict[str, Any]:
    try:
        data = servers.footprint(kind)
    except Exception as exc:
        return {"error": str(exc)}
    if "bytes" in data:
        data["MB"] = round(int(data["bytes"]) / 1e6, 1)  # type: ignore[call-overload]
    return data


async def run_backend(backend: str, cfg: Config, names: list[str], scenarios: list[str],
                      skipped: dict[str, str]) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix=f"trackd-bench-{backend}-", dir="/tmp"))
    bench = Bench(backend, cfg, scenarios, workdir)
    skipped = dict(skipped)
    for name in list(names):
        if why := servers.unsupported(name, backend):
            names = [n for n in names if n != name]
            skipped[name] = why
    results: dict[str, Any] = {
        "date": dt.date.today().isoformat(), "started": dt.datetime.now().isoformat("T", "seconds"),
        "backend": backend, "machine": docs.machine(), "config": dataclasses.asdict(cfg),
        "scenarios": scenarios, "servers": {}, "skipped": dict(skipped), "reference": {},
        "niceness": os.getpriority(os.PRIO_PROCESS, 0),
    }
    t0 = time.perf_counter()
    try:
        if "artifacts" in scenarios:
            bench.artifact_file = make_file(workdir / "artifact.bin", cfg.artifact_bytes)
            results["reference"]["cp"] = cp_speed(bench.artifact_file)
        for name in names:
            say(f"[{backend}] {name}")
            results["servers"][name] = await bench.server(servers.KINDS[name])
    finally:
        for db in (bench.mlflow_db, bench.trackd_search[0] if bench.trackd_search else None):
            if db is not None:
                databases.drop(db)
        shutil.rmtree(workdir, ignore_errors=True)
    results["duration_s"] = round(time.perf_counter() - t0, 1)
    results["search_runs"] = bench.search_runs
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--backends", default=",".join(databases.BACKENDS),
                        help="comma-separated: " + ", ".join(databases.BACKENDS)
                        + " (mysql: MariaDB on 127.0.0.1:3306)")
    parser.add_argument("--servers", default=",".join(n for n in servers.KINDS
                                                      if n != "trackd-granian"),
                        help="comma-separated: " + ", ".join(servers.KINDS))
    parser.add_argument("--scenarios", default=",".join(SCENARIOS),
                        help="comma-separated: " + ", ".join(SCENARIOS))
    parser.add_argument("--quick", action="store_true", help="small sizes, short loads (~3 min)")
    parser.add_argument("--duration", type=float, help="seconds per load level")
    parser.add_argument("--artifact-mb", type=int, help="artifact size in MiB")
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite docs/benchmarks.md")
    parser.add_argument("--no-install", action="store_true",
                        help="do not try to pip-install FastTrackML when it is missing")
    parser.add_argument("--nice", type=int, default=0,
                        help="change the suite's (and so the servers') scheduling priority, "
                        "e.g. -10 on a machine that other jobs keep busy (needs root)")
    args = parser.parse_args(argv)
    if args.nice:
        os.nice(args.nice)
    cfg = Config.quick_mode() if args.quick else Config()
    if args.duration:
        cfg.duration = args.duration
    if args.artifact_mb:
        cfg.artifact_bytes = args.artifact_mb * MiB
    names = [n for n in servers.KINDS if n in args.servers.split(",")]
    scenarios = [s for s in SCENARIOS if s in args.scenarios.split(",")]
    skipped: dict[str, str] = {}
    if "fasttrackml" in names and servers.find_fasttrackml() is None:
        why = "not installed" if args.no_install else servers.install_fasttrackml()
        if why:
            names.remove("fasttrackml")
            skipped["fasttrackml"] = why
    RESULTS.mkdir(exist_ok=True)
    # Stopped by a signal, still stop the servers it started (the finally blocks do that).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    for backend in args.backends.split(","):
        if why := databases.available(backend):
            say(f"skipping {backend}: {why}")
            continue
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            results = runner.run(run_backend(backend, cfg, names, scenarios, skipped))
        suffix = "-quick" if cfg.quick else ""
        path = RESULTS / f"{results['date']}-{backend}{suffix}.json"
        path.write_text(json.dumps(results, indent=1) + "\n")
        table = report.build(results)
        print(f"\n## {backend} ({results['duration_s']:.0f} s; {path})\n")
        print(report.plain(table))
        for note in table.notes + docs.notes(results):
            print("  - " + note)
    if not args.no_docs:
        target = docs.write()
        say(f"wrote {target}")
    return 0


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop  # a cheaper generator than the default loop


if __name__ == "__main__":
    sys.exit(main())
