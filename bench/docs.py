"""docs/benchmarks.md: the machine, the method, the newest table per backend, the profiles.

Regenerated from bench/results/*.json after every run, so the document always shows what was
measured; hand-written analysis lives in bench/analysis.md and is included as it is.
"""

from __future__ import annotations

import importlib.metadata as md
import json
import os
import platform
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from bench import report

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DOC = ROOT / "docs" / "benchmarks.md"
ANALYSIS = ROOT / "bench" / "analysis.md"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _mem_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / (1 << 20), 1)
    return 0.0


def _version(dist: str) -> str:
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return "not installed"


def machine() -> dict[str, Any]:
    from bench.servers import find_fasttrackml

    info: dict[str, Any] = {
        "nproc": os.cpu_count(), "memory_GiB": _mem_gib(), "cpu": _cpu_model(),
        "kernel": platform.release(), "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version, "trackd": _version("trackd"),
        "mlflow": _version("mlflow"),
    }
    fml = find_fasttrackml()
    if fml is not None:
        out = subprocess.run([str(fml), "--version"], capture_output=True, text=True, timeout=30)
        info["fasttrackml"] = out.stdout.strip().split()[-1] if out.stdout.strip() else "?"
    try:
        import psycopg

        with psycopg.connect("host=127.0.0.1 port=5432 user=root dbname=postgres",
                             connect_timeout=3) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            info["postgresql"] = row[0] if row else "?"
    except Exception:  # no PostgreSQL here: leave it out
        pass
    try:
        import pymysql

        conn = pymysql.connect(host="127.0.0.1", port=3306, user="root", password="",
                               connect_timeout=3)
        with conn.cursor() as cur:
            cur.execute("SELECT VERSION()")
            row = cur.fetchone()
            info["mariadb"] = row[0] if row else "?"
        conn.close()
    except Exception:  # no MariaDB here: leave it out
        pass
    return info


def notes(results: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for name, why in results.get("skipped", {}).items():
        out.append(f"{name} skipped: {why}")
    servers = results["servers"]
    for name, res in servers.items():
        search = res.get("search") if isinstance(res.get("search"), dict) else {}
        seed = search.get("seed", {}) if search else {}
        if seed and "runs" in seed:
            out.append(f"{res.get('label', name)} seeded {seed['runs']:,} of "
                       f"{seed['target_runs']:,} runs in {seed['seconds']} s "
                       f"({seed['runs_per_s']} runs/s, so "
                       f"{_projected(results['config']['search_runs'], seed['runs_per_s'])} "
                       f"for {results['config']['search_runs']:,}).")
        if search and search.get("data", "").startswith("a clone"):
            out.append(f"{res.get('label', name)} searched {search['data']}.")
        history = res.get("get-history", {}).get("history", {})
        if isinstance(history, dict) and history.get("warning"):
            out.append(f"{res.get('label', name)} get-history: {history['warning']}.")
    for query in ("no_filter", "metric_filter", "param_filter_metric_order", "all_pages"):
        counts = {res.get("label", n): res["search"][query]["returned"]
                  for n, res in servers.items()
                  if isinstance(res.get("search"), dict)
                  and "returned" in res["search"].get(query, {})}
        if len(set(counts.values())) > 1:
            out.append(f"search `{query}` returned different numbers of runs: {counts}.")
    return out


def _projected(runs: int, rate: float) -> str:
    return f"{runs / rate:,.0f} s" if rate else "?"


def _latest() -> dict[str, dict[str, Any]]:
    """The newest full run per backend (a --quick run only when there is no full one)."""
    chosen: dict[str, tuple[tuple[int, str], dict[str, Any]]] = {}
    for path in sorted(RESULTS.glob("*.json")):
        if "-profile-" in path.name:
            continue
        data = json.loads(path.read_text())
        backend = data.get("backend")
        if backend is None:  # another tool's results (bench/ui_bench.py)
            continue
        rank = (0 if data.get("config", {}).get("quick") else 1, data.get("started", ""))
        if backend not in chosen or rank > chosen[backend][0]:
            chosen[backend] = (rank, data)
    order = {"sqlite": 0, "postgresql": 1, "mysql": 2}
    return {b: chosen[b][1] for b in sorted(chosen, key=lambda b: order.get(b, 9))}


def _profiles() -> list[dict[str, Any]]:
    latest: dict[str, dict[str, Any]] = {}
    for path in sorted(RESULTS.glob("*-profile-*.json")):
        data = json.loads(path.read_text())
        latest[f"{data['backend']}-{data['scenario']}-{data['mode']}"] = data
    return list(latest.values())


def _machine_line(m: dict[str, Any]) -> str:
    parts = [f"{m['nproc']} cores ({m['cpu']})", f"{m['memory_GiB']} GiB",
             f"Linux {m['kernel']}", f"Python {m['python']}", f"SQLite {m['sqlite']}"]
    if "postgresql" in m:
        parts.append(f"PostgreSQL {m['postgresql']}")
    if "mariadb" in m:
        parts.append(f"MariaDB {m['mariadb']}")
    parts += [f"trackd {m['trackd']}", f"mlflow {m['mlflow']}"]
    if "fasttrackml" in m:
        parts.append(f"FastTrackML {m['fasttrackml']}")
    return ", ".join(parts)


METHOD = """\
How: `python -m bench` (flags: `--backends sqlite,postgresql,mysql`,
`--servers trackd,mlflow,mlflow-4w,fasttrackml`, `--scenarios
log-metric,log-batch,create-runs,get-history,search,artifacts`, `--quick`,
`--duration S`, `--artifact-mb N`). The suite starts every server itself, one at a time,
each on a fresh database (a new SQLite file, or a new database `bench_<server>` on
PostgreSQL, 127.0.0.1:5432, or MariaDB, 127.0.0.1:3306, which mlflow reaches through
`mysql+pymysql://`; FastTrackML does not support MySQL/MariaDB and is skipped there), and
drives it over the REST API on 127.0.0.1 from an asyncio load generator (uvloop, a
hand-written HTTP/1.1 client, one keep-alive connection per client, closed loop). Its own
CPU per request is in the table: it takes little from the server it measures.
`python -m bench.profile` samples trackd with py-spy under a load.

- Ratios are trackd's advantage: throughput trackd ÷ other, times and sizes other ÷ trackd;
  above 1× trackd is better. "vs mlflow" is against the better of mlflow's two configurations.
- `mlflow server` runs with `MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false`; "1 worker" is
  `--workers 1`, "4 workers" its default, measured on the write paths only.
- Server CPU is read from `/proc/<pid>/stat` of the whole process tree; memory is the tree's
  PSS (`smaps_rollup`), idle = 2 s after start-up, peak = sampled over the whole run.
- log-batch with one client writes the 100,000-step history that get-history reads.
- search: trackd seeds up to 10,000 runs (20 params, 10 metrics, 5 tags each: create-run +
  log-batch, 8 clients) through its API within a time budget (`seed_budget`, 120 s by
  default); FastTrackML then seeds as many as trackd did, so both search the same amount of
  data. mlflow seeds for `mlflow_seed_budget` (20 s) only, as it would take many minutes,
  and searches a copy of trackd's database, whose schema is MLflow's own, with trackd-only
  indexes dropped and any of mlflow's own added. The seeding row compares rates.
- Installed size: the server's distribution and its dependency closure as pip installed them
  (FastTrackML: its single Go binary).
- Every load level is bounded in requests and seconds; figures vary ±10–30 % between runs on
  a shared machine: compare servers within one run.
"""


def write() -> Path:
    runs = _latest()
    lines = ["# Benchmarks", "",
             "trackd against `mlflow server` 3.18 and FastTrackML, same machine, same run.", "",
             METHOD]
    for backend, results in runs.items():
        table = report.build(results)
        quick = " (--quick)" if results.get("config", {}).get("quick") else ""
        lines += [f"## {backend}{quick}: {results['started']}", "",
                  f"Machine: {_machine_line(results['machine'])}. "
                  f"The run took {results['duration_s']:.0f} s"
                  + (f", at niceness {results['niceness']}" if results.get("niceness") else "")
                  + ".", "",
                  report.markdown(table), ""]
        lines += [f"- {n}" for n in table.notes + notes(results)]
        lines.append("")
    # The GIL passes only (where Python CPU goes); the busy passes stay in the JSON files.
    profiles = [p for p in _profiles() if p["mode"] == "gil"]
    if profiles:
        lines += ["## Where trackd's time goes (py-spy)", "",
                  "Summaries of `python -m bench.profile` (the thread holding the GIL; "
                  "all busy threads in bench/results/*-profile-*-busy.json).", ""]
        for prof in profiles:
            lines += _profile_section(prof)
    if ANALYSIS.exists():
        lines += [ANALYSIS.read_text().strip(), ""]
    DOC.parent.mkdir(exist_ok=True)
    DOC.write_text("\n".join(lines).rstrip() + "\n")
    return DOC


def _profile_section(prof: dict[str, Any]) -> list[str]:
    what = "all busy threads" if prof["mode"] == "busy" else "the thread holding the GIL"
    lines = [f"### {prof['scenario']} on {prof['backend']}, {what} ({prof['date']})", "",
             f"{prof['samples']:,} samples; load: {prof['load']}.", ""]
    lines += ["| by area (the frame running when sampled) | % of samples |", "|---|---:|"]
    lines += [f"| {a} | {p:.1f} |" for a, p in prof["areas"][:8]]
    lines += ["", "| trackd functions (inclusive) | % |", "|---|---:|"]
    lines += [f"| `{f}` | {p:.1f} |" for f, p in prof.get("trackd_inclusive", [])[:10]]
    lines += ["", "| top functions (self time) | % |", "|---|---:|"]
    lines += [f"| `{f}` | {p:.1f} |" for f, p in prof["top_self"][:10]]
    lines.append("")
    return lines
