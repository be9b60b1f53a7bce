"""Read scenarios: metric histories and search-runs over a seeded 10,000-run experiment."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson

from bench.context import API, JSON, Ctx, create_run_body
from bench.httpclient import Connection, HttpError, open_pool
from bench.loads import percentile, timed_cpu
from bench.scen_write import HISTORY_KEY, ensure_history

# -- histories -----------------------------------------------------------------------------


async def get_history(ctx: Ctx) -> dict[str, Any]:
    """The client's ``get_metric_history`` loop (25,000 per page) and the UI's sampled read."""
    run_id = await ensure_history(ctx)
    cfg = ctx.cfg
    counts: list[int] = []

    async def whole_history() -> None:
        token, total = "", 0
        while True:
            params = {"run_uuid": run_id, "run_id": run_id, "metric_key": HISTORY_KEY,
                      "max_results": 25000}
            if token:
                params["page_token"] = token
            reply = await ctx.conn.get_json(f"{API}/metrics/get-history", params)
            total += len(reply.get("metrics", ()))
            token = reply.get("next_page_token", "")
            if not token:
                break
        counts.append(total)

    out: dict[str, Any] = {}
    try:
        times, cpu = await timed_cpu(whole_history, cfg.history_repeats, cfg.history_budget,
                                     ctx.pid)
        out["history"] = {
            "points": counts[-1], "expected": cfg.history_steps, "repeats": len(times),
            "p50_s": round(percentile(times, 50), 4), "min_s": round(min(times), 4),
            "server_cpu_s": round(cpu, 4),  # per whole history (all its pages)
        }
        if counts[-1] != cfg.history_steps:
            out["history"]["warning"] = f"read {counts[-1]} points, expected {cfg.history_steps}"
    except (HttpError, OSError, ValueError) as exc:
        out["history"] = {"error": str(exc)}

    points: list[int] = []

    async def interval() -> None:
        reply = await ctx.conn.get_json(f"{API}/metrics/get-history-bulk-interval",
                                        {"run_ids": run_id, "metric_key": HISTORY_KEY})
        points.append(len(reply.get("metrics", ())))

    try:
        times, cpu = await timed_cpu(interval, 20, cfg.query_budget, ctx.pid)
        out["bulk_interval"] = {"points": points[-1], "repeats": len(times),
                                "p50_ms": round(percentile(times, 50) * 1e3, 2),
                                "server_cpu_ms_per_req": round(cpu * 1e3, 3)}
    except (HttpError, OSError, ValueError) as exc:
        out["bulk_interval"] = {"error": str(exc)}
    return out


# -- search --------------------------------------------------------------------------------

N_PARAMS, N_METRICS, N_TAGS = 20, 10, 5


def _run_data(run_id: str, i: int, ts: int) -> bytes:
    """Run number i's 20 params, 10 metrics and 5 tags; deterministic, so every server
    gets the same data and a filter matches the same share of runs."""
    params = [{"key": f"p{k}", "value": f"v{i % 10}" if k == 0 else f"value-{(i * 31 + k) % 997}"}
              for k in range(N_PARAMS)]
    metrics = [{"key": f"m{k}", "value": ((i * 7919 + k * 104729) % 10007) / 10007.0,
                "timestamp": ts, "step": 0} for k in range(N_METRICS)]
    tags = [{"key": f"t{k}", "value": f"tag-{i % (k + 2)}"} for k in range(N_TAGS)]
    return orjson.dumps({"run_id": run_id, "params": params, "metrics": metrics, "tags": tags})


async def seed_search(ctx: Ctx, runs: int, budget: float) -> dict[str, Any]:
    """Create ``runs`` runs with their data through the API, 8 clients at once, within budget."""
    exp = await ctx.experiment("search")
    base = 1_700_000_000_000
    state = {"next": 0}
    deadline = time.perf_counter() + budget

    async def client(conn: Connection) -> None:
        while state["next"] < runs and time.perf_counter() < deadline:
            i = state["next"]
            state["next"] += 1
            reply = await conn.post_json(f"{API}/runs/create",
                                         create_run_body(exp, start_time=base + i))
            run_id = reply["run"]["info"]["run_id"]
            status, body = await conn.request("POST", f"{API}/runs/log-batch",
                                              _run_data(run_id, i, base + i), JSON)
            if status != 200:
                raise HttpError(status, body, "log-batch while seeding")

    pool = await open_pool(ctx.host, ctx.port, ctx.cfg.seed_clients)
    t0 = time.perf_counter()
    tasks = [asyncio.create_task(client(c)) for c in pool]
    try:
        finished, _ = await asyncio.wait(tasks, timeout=budget + 120,
                                         return_when=asyncio.FIRST_EXCEPTION)
    finally:
        for task in tasks:
            task.cancel()
        for conn in pool:
            conn.close()
    for task in finished:
        error = task.exception()
        if error is not None:
            raise error
    seconds = time.perf_counter() - t0
    done = min(state["next"], runs)
    rate = done / seconds if seconds else 0.0
    return {"experiment_id": exp, "runs": done, "target_runs": runs, "complete": done >= runs,
            "seconds": round(seconds, 2), "runs_per_s": round(rate, 1),
            "projected_s": round(runs / rate, 1) if rate else None}


QUERIES: dict[str, dict[str, Any]] = {
    "no_filter": {"filter": "", "order_by": []},
    "metric_filter": {"filter": "metrics.m0 > 0.5", "order_by": []},
    "param_filter_metric_order": {"filter": "params.p0 = 'v3'", "order_by": ["metrics.m1 DESC"]},
}


async def search_queries(ctx: Ctx, experiment_id: str) -> dict[str, Any]:
    """First pages of 100 for each query shape, then every page of 1,000 through all runs."""
    out: dict[str, Any] = {}
    path = f"{API}/runs/search"
    for name, shape in QUERIES.items():
        body = {"experiment_ids": [experiment_id], "run_view_type": "ACTIVE_ONLY",
                "max_results": 100, **shape}
        returned: list[int] = []

        async def first_page(body: dict[str, Any] = body, returned: list[int] = returned) -> None:
            returned.append(len((await ctx.conn.post_json(path, body)).get("runs", ())))

        try:
            times, cpu = await timed_cpu(first_page, ctx.cfg.query_repeats,
                                         ctx.cfg.query_budget, ctx.pid)
            out[name] = {"p50_ms": round(percentile(times, 50) * 1e3, 2),
                         "min_ms": round(min(times) * 1e3, 2), "repeats": len(times),
                         "returned": returned[-1], "server_cpu_ms_per_req": round(cpu * 1e3, 3)}
        except (HttpError, OSError, ValueError, KeyError) as exc:
            out[name] = {"error": str(exc)}

    pages: list[tuple[int, int]] = []

    async def all_pages() -> None:
        token, total, n = "", 0, 0
        while True:
            body = {"experiment_ids": [experiment_id], "run_view_type": "ACTIVE_ONLY",
                    "max_results": 1000, "order_by": []}
            if token:
                body["page_token"] = token
            reply = await ctx.conn.post_json(path, body)
            total += len(reply.get("runs", ()))
            n += 1
            token = reply.get("next_page_token", "")
            if not token or n > 200:
                break
        pages.append((n, total))

    try:
        times, cpu = await timed_cpu(all_pages, ctx.cfg.paging_repeats, ctx.cfg.paging_budget,
                                     ctx.pid)
        out["all_pages"] = {"p50_s": round(percentile(times, 50), 3), "repeats": len(times),
                            "pages": pages[-1][0], "returned": pages[-1][1],
                            "server_cpu_s": round(cpu, 3)}
    except (HttpError, OSError, ValueError, KeyError) as exc:
        out["all_pages"] = {"error": str(exc)}
    return out
