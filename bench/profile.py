"""``python -m bench.profile``: where a trackd server spends its time under a load (py-spy).

Starts trackd on a fresh database, applies one scenario's load from the usual generator while
``py-spy record`` samples the server, and summarises the stacks: share of samples by area
(HTTP server, trackd layers, SQLAlchemy, the driver, ...), by function (self and inclusive)
and by thread. Two passes per scenario: all busy threads, then only the thread holding the
GIL (what costs Python CPU). Results:
bench/results/<date>-profile-<backend>-<scenario>-<mode>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench import databases, servers
from bench.context import API, JSON, Config, Ctx, now_ms
from bench.httpclient import Connection, open_pool
from bench.loads import closed_loop
from bench.procs import PeakSampler
from bench.scen_artifacts import file_chunks, make_file
from bench.scen_read import QUERIES, seed_search

RESULTS = Path(__file__).with_name("results")
PYSPY = Path(sys.executable).parent / "py-spy"

# First match wins, in this order; matched against the frame's file as py-spy shortens it.
AREAS: list[tuple[str, str]] = [
    ("trackd/store/database.py", "trackd database plumbing (group commit, threads)"),
    ("trackd/store/", "trackd store (SQL building, row mapping)"),
    ("trackd/service/", "trackd services (validation, semantics)"),
    ("trackd/api/", "trackd API (parsing, JSON)"),
    ("trackd/", "trackd other"),
    ("sqlalchemy/", "SQLAlchemy"),
    ("sqlite3/", "sqlite3 driver"),
    ("psycopg", "psycopg driver"),
    ("uvicorn/", "uvicorn + HTTP parsing"),
    ("httptools", "uvicorn + HTTP parsing"),
    ("h11/", "uvicorn + HTTP parsing"),
    ("starlette/", "Starlette"),
    ("anyio/", "anyio (thread hand-off)"),
    ("asyncio/", "asyncio event loop"),
    ("threading.py", "threading / queues"),
    ("queue.py", "threading / queues"),
    ("concurrent/", "threading / queues"),
    ("json", "JSON"),
    ("orjson", "JSON"),
    ("logging/", "logging"),
]
_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")


# Leaf frames where a thread waits rather than works: the event loop polling for I/O, the
# writer waiting for work, a reader waiting for a task, and the database's COMMIT (fsync).
WAITS = {
    "Runner.run": "waiting: event loop idle in epoll",
    "Database._writer_loop": "waiting: writer thread idle, no work queued",
    "WorkerThread.run": "waiting: reader thread idle",
    "Condition.wait": "waiting: thread idle",
    "DefaultDialect.do_commit": "COMMIT (the database's fsync)",
}


def _area(file: str, func: str = "") -> str:
    if func in WAITS:
        return WAITS[func]
    for prefix, name in AREAS:
        if prefix in file:
            return name
    return "other (" + file.split("/")[0] + ")"


def summarise(raw: str) -> dict[str, Any]:
    self_fn: Counter[str] = Counter()
    incl_fn: Counter[str] = Counter()
    self_area: Counter[str] = Counter()
    incl_area: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        thread = next((f for f in frames if f.startswith("thread (")), "thread (?)")
        threads[re.sub(r"0x[0-9a-f]+", "", thread).strip()] += count
        parsed = [m for f in frames if (m := _FRAME.match(f)) and not f.startswith(("thread (",
                                                                                    "process "))]
        if not parsed:
            continue
        total += count
        leaf = parsed[-1]
        self_fn[f"{leaf['func']} ({leaf['file']})"] += count
        self_area[_area(leaf["file"], leaf["func"])] += count
        for name in {f"{m['func']} ({m['file']})" for m in parsed}:
            incl_fn[name] += count
        for area in {_area(m["file"]) for m in parsed}:
            incl_area[area] += count

    def pct(counter: Counter[str], n: int) -> list[list[Any]]:
        return [[k, round(100 * v / total, 1)] for k, v in counter.most_common(n)] if total else []

    mine = Counter({k: v for k, v in incl_fn.items() if "(trackd/" in k})
    return {"samples": total, "areas": pct(self_area, 20), "areas_inclusive": pct(incl_area, 20),
            "top_self": pct(self_fn, 40), "top_inclusive": pct(incl_fn, 100),
            "trackd_inclusive": pct(mine, 60), "threads": pct(threads, 10)}


async def _log_metric_load(ctx: Ctx, clients: int, seconds: float) -> str:
    exp = await ctx.experiment("profile")
    pool = await open_pool(ctx.host, ctx.port, clients)
    run_ids = [(await ctx.run(exp, c)).encode() for c in pool]
    path = f"{API}/runs/log-metric"

    def make(i: int, n: int) -> tuple[str, str, bytes, bytes]:
        rid = run_ids[i]
        return ("POST", path, b'{"run_id":"%s","key":"m","value":%d.5,"timestamp":%d,"step":%d}'
                % (rid, n % 1000, now_ms(), n), JSON)

    load = await closed_loop(ctx.host, ctx.port, ctx.pid, clients, make, duration=seconds,
                             max_requests=10**7, conns=pool)
    for c in pool:
        c.close()
    s = load.summary()
    return (f"log-metric, {clients} clients: {s['req_per_s']} req/s, p50 {s['p50_ms']} ms, "
            f"server CPU {s['server_cpu_ms_per_req']} ms/req, {s['errors']} errors")


async def _search_load(ctx: Ctx, experiment: str, clients: int, seconds: float) -> str:
    bodies = [json.dumps({"experiment_ids": [experiment], "run_view_type": "ACTIVE_ONLY",
                          "max_results": 100, **shape}).encode() for shape in QUERIES.values()]
    path = f"{API}/runs/search"

    def make(_i: int, n: int) -> tuple[str, str, bytes, bytes]:
        return ("POST", path, bodies[n % len(bodies)], JSON)

    load = await closed_loop(ctx.host, ctx.port, ctx.pid, clients, make, duration=seconds,
                             max_requests=10**7)
    s = load.summary()
    return (f"search-runs first pages (3 query shapes in turn), {clients} clients: "
            f"{s['req_per_s']} req/s, p50 {s['p50_ms']} ms, {s['errors']} errors "
            f"{s.get('first_error', '')}")


async def _upload_load(ctx: Ctx, seconds: float) -> str:
    source = make_file(ctx.workdir / "upload.bin", 256 << 20)
    size, done, t0 = source.stat().st_size, 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        conn = Connection(ctx.host, ctx.port)
        status, body = await conn.upload(f"/api/2.0/mlflow-artifacts/artifacts/p/{done}.bin",
                                         file_chunks(source), size,
                                         b"Content-Type: application/octet-stream\r\n")
        conn.close()
        if status != 200:
            return f"upload failed: HTTP {status} {body[:200]!r}"
        done += 1
    rate = done * size / (time.perf_counter() - t0) / 1e6
    return f"artifact upload, 256 MiB files one after another: {rate:.0f} MB/s"


async def profile(backend: str, scenario: str, clients: int, seconds: float, runs: int,
                  modes: list[str], keep_stacks: bool) -> list[Path]:
    workdir = Path(tempfile.mkdtemp(prefix="trackd-profile-", dir="/tmp"))
    db = databases.fresh(backend, "trackd-profile", workdir)
    srv = servers.start(servers.KINDS["trackd"], db, workdir)
    sampler = PeakSampler(srv.pid).start()
    cfg = Config()
    ctx = Ctx(srv, cfg, Connection(servers.HOST, srv.port), sampler, workdir)
    written: list[Path] = []
    try:
        experiment = ""
        if scenario == "search":
            seed = await seed_search(ctx, runs, cfg.seed_budget)
            experiment = seed["experiment_id"]
            print(f"seeded {seed['runs']} runs in {seed['seconds']} s", file=sys.stderr)
        for mode in modes:
            out = workdir / f"{mode}.txt"
            cmd = [str(PYSPY), "record", "-p", str(srv.pid), "-r", "200", "-d", str(int(seconds)),
                   "-f", "raw", "-F", "-t", "-o", str(out)] + (["--gil"] if mode == "gil" else [])
            spy = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            await asyncio.sleep(0.5)  # let py-spy attach before the load starts
            if scenario == "log-metric":
                load = await _log_metric_load(ctx, clients, seconds)
            elif scenario == "upload":
                load = await _upload_load(ctx, seconds)
            elif scenario == "seed":
                seed = await seed_search(ctx, 10**6, seconds)
                load = (f"seeding runs (create-run + log-batch of 35 items), 8 clients: "
                        f"{seed['runs_per_s']} runs/s")
            else:
                load = await _search_load(ctx, experiment, clients, seconds)
            _, err = spy.communicate(timeout=60)
            if not out.exists():
                raise RuntimeError(f"py-spy wrote nothing: {err.decode(errors='replace')}")
            result = summarise(out.read_text())
            result.update(date=dt.date.today().isoformat(), backend=backend, scenario=scenario,
                          mode=mode, clients=clients, seconds=seconds, load=load)
            stem = f"{result['date']}-profile-{backend}-{scenario}-{mode}"
            path = RESULTS / f"{stem}.json"
            path.write_text(json.dumps(result, indent=1) + "\n")
            written.append(path)
            if keep_stacks:  # for a flame graph (e.g. speedscope or flamegraph.pl)
                shutil.copy(out, RESULTS / f"{stem}.collapsed.txt")
            print(f"{mode}: {load}", file=sys.stderr)
    finally:
        sampler.stop()
        ctx.conn.close()
        srv.stop()
        databases.drop(db)
        shutil.rmtree(workdir, ignore_errors=True)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--backend", default="sqlite")
    parser.add_argument("--scenario", choices=("log-metric", "seed", "search", "upload"),
                        default="log-metric")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--runs", type=int, default=10_000, help="search: runs to seed")
    parser.add_argument("--modes", default="busy,gil", help="busy (all busy threads), gil")
    parser.add_argument("--keep-stacks", action="store_true",
                        help="keep the collapsed stacks next to the summary")
    args = parser.parse_args(argv)
    RESULTS.mkdir(exist_ok=True)
    paths = asyncio.run(profile(args.backend, args.scenario, args.clients, args.seconds,
                                args.runs, args.modes.split(","), args.keep_stacks))
    for path in paths:
        data = json.loads(path.read_text())
        print(f"\n== {path.name}: {data['samples']} samples; {data['load']}")
        for title, key in (("areas (self)", "areas"), ("areas (inclusive)", "areas_inclusive"),
                           ("threads", "threads"), ("functions (self)", "top_self"),
                           ("trackd functions (inclusive)", "trackd_inclusive"),
                           ("functions (inclusive)", "top_inclusive")):
            print(f"-- {title}")
            for name, pct in data[key][:25]:
                print(f"  {pct:5.1f}%  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
