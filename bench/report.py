"""Turns one run's results into the comparison table: a figure per server, trackd's ratios
against mlflow and FastTrackML, and whether each target of issue 7 is met."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

SERVERS = ("trackd", "mlflow", "mlflow-4w", "fasttrackml")
MLFLOWS = ("mlflow", "mlflow-4w")


class Failed(Exception):
    """A cell whose scenario failed: the cell shows the error."""


@dataclass
class Row:
    label: str
    path: tuple[str, ...]
    better: str | None  # "higher", "lower", or None (information only)
    second: tuple[str, ...] | None = None  # shown after a slash (e.g. p99 after p50)
    vs: dict[str, float] = field(default_factory=dict)  # target ratios vs mlflow/fasttrackml
    cp: float | None = None  # target: at least this share of cp's speed
    max_value: float | None = None  # target: at most this value
    min_value: float | None = None  # target: at least this value


def _rows(n_runs: int, steps: int) -> list[Row]:
    lm = ("log-metric",)
    return [
        Row("start-up, process start → /health 200 (s)", ("startup_s",), "lower"),
        Row("idle memory, PSS of the process tree (MiB)", ("idle", "pss_MiB"), "lower"),
        Row("processes in the tree", ("idle", "processes"), None),
        Row("peak memory over the run, PSS (MiB)", ("peak", "pss_MiB"), "lower"),
        Row("installed size with dependencies (MB)", ("footprint", "MB"), "lower"),
        Row("log-metric, 1 client (req/s)", (*lm, "c1", "req_per_s"), "higher"),
        Row("log-metric, 8 clients (req/s)", (*lm, "c8", "req_per_s"), "higher",
            vs={"mlflow": 25, "fasttrackml": 2.5}),
        Row("log-metric, 32 clients (req/s)", (*lm, "c32", "req_per_s"), "higher"),
        Row("log-metric p50 / p99, 1 client (ms)", (*lm, "c1", "p50_ms"), "lower",
            second=(*lm, "c1", "p99_ms")),
        Row("log-metric p50 / p99, 8 clients (ms)", (*lm, "c8", "p50_ms"), "lower",
            second=(*lm, "c8", "p99_ms")),
        Row("log-metric p50 / p99, 32 clients (ms)", (*lm, "c32", "p50_ms"), "lower",
            second=(*lm, "c32", "p99_ms")),
        Row("server CPU per log-metric, 8 clients (ms)", (*lm, "c8", "server_cpu_ms_per_req"),
            "lower", max_value=0.15),
        Row("load generator CPU per log-metric, 8 clients (µs)",
            (*lm, "c8", "client_cpu_us_per_req"), None),
        Row("other processes' CPU meanwhile, 8 clients (cores)",
            (*lm, "c8", "other_processes_cores"), None),
        Row("log-batch of 1,000, 1 client (points/s)", ("log-batch", "c1", "points_per_s"),
            "higher", vs={"mlflow": 10, "fasttrackml": 3}),
        Row("log-batch of 1,000, 4 clients (points/s)", ("log-batch", "c4", "points_per_s"),
            "higher", vs={"mlflow": 10, "fasttrackml": 3}),
        Row("server CPU per log-batch of 1,000, 1 client (ms)",
            ("log-batch", "c1", "server_cpu_ms_per_req"), "lower"),
        Row("server CPU per log-batch of 1,000, 4 clients (ms)",
            ("log-batch", "c4", "server_cpu_ms_per_req"), "lower"),
        Row("create run, 1 client (runs/s)", ("create-runs", "c1", "runs_per_s"), "higher",
            vs={"mlflow": 20, "fasttrackml": 1.2}),
        Row("create run, 8 clients (runs/s)", ("create-runs", "c8", "runs_per_s"), "higher",
            vs={"mlflow": 20, "fasttrackml": 1.2}),
        Row("server CPU per create run, 1 client (ms)",
            ("create-runs", "c1", "server_cpu_ms_per_req"), "lower"),
        Row("server CPU per create run, 8 clients (ms)",
            ("create-runs", "c8", "server_cpu_ms_per_req"), "lower"),
        Row("seeding search runs: create + log-batch, 8 clients (runs/s)",
            ("search", "seed", "runs_per_s"), "higher"),
        Row("search-runs page of 100, no filter, p50 (ms)",
            ("search", "no_filter", "p50_ms"), "lower", vs={"mlflow": 10, "fasttrackml": 1.5}),
        Row("server CPU per search-runs page of 100, no filter (ms)",
            ("search", "no_filter", "server_cpu_ms_per_req"), "lower"),
        Row("search-runs page of 100, metric filter, p50 (ms)",
            ("search", "metric_filter", "p50_ms"), "lower", vs={"mlflow": 10, "fasttrackml": 1.5}),
        Row("server CPU per search-runs page of 100, metric filter (ms)",
            ("search", "metric_filter", "server_cpu_ms_per_req"), "lower"),
        Row("search-runs page of 100, param filter + metric order, p50 (ms)",
            ("search", "param_filter_metric_order", "p50_ms"), "lower",
            vs={"mlflow": 10, "fasttrackml": 1.5}),
        Row("server CPU per search-runs page of 100, param filter + metric order (ms)",
            ("search", "param_filter_metric_order", "server_cpu_ms_per_req"), "lower"),
        Row(f"search-runs, all {n_runs:,} runs in pages of 1,000 (s)",
            ("search", "all_pages", "p50_s"), "lower"),
        Row(f"server CPU for all {n_runs:,} runs in pages of 1,000 (s)",
            ("search", "all_pages", "server_cpu_s"), "lower"),
        Row(f"get-history, {steps:,} points, pages of 25,000 (s)",
            ("get-history", "history", "p50_s"), "lower", vs={"mlflow": 10, "fasttrackml": 3}),
        Row(f"server CPU per get-history of {steps:,} points, all pages (s)",
            ("get-history", "history", "server_cpu_s"), "lower"),
        Row("get-history-bulk-interval, one run (ms)",
            ("get-history", "bulk_interval", "p50_ms"), "lower"),
        Row("server CPU per get-history-bulk-interval (ms)",
            ("get-history", "bulk_interval", "server_cpu_ms_per_req"), "lower"),
        Row("artifact upload through the proxy (MB/s)", ("artifacts", "upload_MB_per_s"),
            "higher", min_value=1000),
        Row("server CPU per GiB uploaded (s)", ("artifacts", "upload_server_cpu_s_per_GiB"),
            "lower"),
        Row("artifact download through the proxy (MB/s)", ("artifacts", "download_MB_per_s"),
            "higher", min_value=2000),
        Row("server CPU per GiB downloaded (s)",
            ("artifacts", "download_server_cpu_s_per_GiB"), "lower"),
        Row("peak RSS during the artifact transfers (MiB)", ("artifacts", "peak_rss_MiB"),
            "lower", max_value=200),
    ]


def _get(result: dict[str, Any] | None, path: tuple[str, ...]) -> float | None:
    node: Any = result
    if node is None:
        return None
    if "error" in node:
        raise Failed(node["error"])
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
        if isinstance(node, dict) and "error" in node:
            raise Failed(node["error"])
    if isinstance(node, int | float) and not (isinstance(node, float) and math.isnan(node)):
        return float(node)
    return None


def fmt(value: float | None) -> str:
    if value is None:
        return "–"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}" if abs(value) >= 0.1 else f"{value:.3f}"


def _ratio(row: Row, mine: float | None, other: float | None) -> float | None:
    if mine is None or other is None or mine <= 0 or other <= 0 or row.better is None:
        return None
    return mine / other if row.better == "higher" else other / mine


@dataclass
class Table:
    header: list[str]
    lines: list[list[str]]
    notes: list[str]


def build(results: dict[str, Any]) -> Table:
    cfg = results.get("config", {})
    servers = results["servers"]
    present = [s for s in SERVERS if s in servers]
    cp = results.get("reference", {}).get("cp", {}).get("MB_per_s")
    header = ["figure", *[servers[s].get("label", s) for s in present]]
    header += ["trackd vs mlflow", "trackd vs FastTrackML", "target"]
    lines: list[list[str]] = []
    notes: list[str] = []
    n_runs = results.get("search_runs", cfg.get("search_runs", 10_000))
    for row in _rows(n_runs, cfg.get("history_steps", 100_000)):
        values: dict[str, float | None] = {}
        cells: list[str] = [row.label]
        for name in present:
            cells.append(_cell(row, servers[name], values, name, notes))
        mine = values.get("trackd")
        best_mlflow = _best(row, [values.get(m) for m in MLFLOWS])
        r_ml = _ratio(row, mine, best_mlflow)
        r_ft = _ratio(row, mine, values.get("fasttrackml"))
        cells.append(f"{fmt(r_ml)}×" if r_ml is not None else "–")
        cells.append(f"{fmt(r_ft)}×" if r_ft is not None else "–")
        cells.append(_target(row, mine, r_ml, r_ft, cp, "fasttrackml" in present))
        lines.append(cells)
    if cp:
        notes.append(f"`cp` of the same {results['reference']['cp']['bytes'] / 1e9:.2f} GB file "
                     f"on the same disk (page cache warm, median of 3): {fmt(cp)} MB/s.")
    return Table(header, lines, notes)


def _best(row: Row, values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None and v > 0]
    if not known:
        return None
    return max(known) if row.better == "higher" else min(known)


def _cell(row: Row, result: dict[str, Any], values: dict[str, float | None], name: str,
          notes: list[str]) -> str:
    try:
        value = _get(result, row.path)
        second = _get(result, row.second) if row.second else None
    except Failed as exc:
        values[name] = None
        return "error: " + _short(str(exc))
    values[name] = value
    text = fmt(value)
    if row.second is not None:
        text += f" / {fmt(second)}"
    return text


def _short(text: str, n: int = 48) -> str:
    text = " ".join(text.split()).replace("|", "/").removeprefix("HttpError: ")
    text = text.replace("GET /api/2.0/mlflow/", "").replace("POST /api/2.0/mlflow/", "")
    return text if len(text) <= n else text[: n - 1] + "…"


def _target(row: Row, mine: float | None, r_ml: float | None, r_ft: float | None,
            cp: float | None, has_fasttrackml: bool = True) -> str:
    parts: list[str] = []
    for who, need in row.vs.items():
        if who == "fasttrackml" and not has_fasttrackml:  # not run on this backend (MariaDB)
            continue
        got = r_ml if who == "mlflow" else r_ft
        short = "mlflow" if who == "mlflow" else "FTML"
        mark = "?" if got is None else ("✓" if got >= need else "✗")
        parts.append(f"≥{need:g}× {short} {mark}")
    if row.cp is not None:
        mark = "?" if mine is None or not cp else ("✓" if mine >= row.cp * cp else "✗")
        parts.append(f"≥{row.cp:.0%} of cp {mark}")
    if row.min_value is not None:
        mark = "?" if mine is None else ("✓" if mine >= row.min_value else "✗")
        parts.append(f"≥{row.min_value:g} {mark}")
    if row.max_value is not None:
        mark = "?" if mine is None else ("✓" if mine <= row.max_value else "✗")
        parts.append(f"≤{row.max_value:g} {mark}")
    return ", ".join(parts)


def markdown(table: Table) -> str:
    out = ["| " + " | ".join(table.header) + " |",
           "|" + "|".join(["---"] + ["---:"] * (len(table.header) - 2) + ["---"]) + "|"]
    out += ["| " + " | ".join(line) + " |" for line in table.lines]
    return "\n".join(out)


def plain(table: Table) -> str:
    widths = [max(len(r[i]) for r in [table.header, *table.lines])
              for i in range(len(table.header))]
    last = len(widths) - 1

    def cell(i: int, text: str) -> str:
        return text.ljust(widths[i]) if i in (0, last) else text.rjust(widths[i])

    rows = [table.header, ["-" * w for w in widths], *table.lines]
    return "\n".join("  ".join(cell(i, c) for i, c in enumerate(r)) for r in rows)
