"""Write scenarios: log-metric, log-batch (which seeds the 100,000-step history), create-run."""

from __future__ import annotations

import time
from typing import Any

import orjson

from bench.context import API, JSON, Ctx, create_run_body, now_ms
from bench.httpclient import HttpError, open_pool
from bench.loads import closed_loop

HISTORY_KEY = "loss"


async def log_metric(ctx: Ctx) -> dict[str, Any]:
    """One value per request, as ``mlflow.log_metric`` in a training loop sends it."""
    out: dict[str, Any] = {}
    exp = await ctx.experiment("log-metric")
    for clients in ctx.cfg.log_metric_clients:
        pool = await open_pool(ctx.host, ctx.port, clients)
        try:
            # One run per client, like one training process per run.
            run_ids = [(await ctx.run(exp, conn)).encode() for conn in pool]
            path = f"{API}/runs/log-metric"

            def make(i: int, n: int, run_ids: list[bytes] = run_ids, path: str = path):
                rid = run_ids[i]
                body = (b'{"run_uuid":"%s","run_id":"%s","key":"m","value":%d.5,'
                        b'"timestamp":%d,"step":%d}' % (rid, rid, n % 1000, now_ms(), n))
                return ("POST", path, body, JSON)

            load = await closed_loop(ctx.host, ctx.port, ctx.pid, clients, make,
                                     duration=ctx.cfg.duration, max_requests=ctx.cfg.max_requests,
                                     warmup=ctx.cfg.warmup, conns=pool)
            out[f"c{clients}"] = load.summary()
        finally:
            for conn in pool:
                conn.close()
    return out


def _batch_body(run_id: str, key: str, first_step: int, size: int, ts: int) -> bytes:
    metrics = b",".join(
        b'{"key":"%s","value":%d.25,"timestamp":%d,"step":%d}'
        % (key.encode(), (first_step + k) % 977, ts, first_step + k)
        for k in range(size)
    )
    return b'{"run_id":"%s","metrics":[%s]}' % (run_id.encode(), metrics)


async def log_batch(ctx: Ctx) -> dict[str, Any]:
    """1,000 metric values per request.

    One client writes the 100,000-step history of one metric (what get-history reads later);
    then ``batch_clients`` clients write to runs of their own at once.
    """
    cfg = ctx.cfg
    out: dict[str, Any] = {}
    exp = await ctx.experiment("log-batch")
    run_id = await ctx.run(exp)
    ctx.shared["history_run"] = run_id
    batches = cfg.history_steps // cfg.batch_size
    path = f"{API}/runs/log-batch"
    ts = now_ms()

    def make_history(_i: int, n: int) -> tuple[str, str, bytes, bytes]:
        return ("POST", path, _batch_body(run_id, HISTORY_KEY, n * cfg.batch_size,
                                          cfg.batch_size, ts), JSON)

    load = await closed_loop(ctx.host, ctx.port, ctx.pid, 1, make_history,
                             duration=cfg.duration * 2, max_requests=batches)
    out["c1"] = _points(load.summary(), cfg.batch_size)
    # The history must be whole for get-history, even when the timed part stopped early.
    await _seed_history(ctx, run_id, start_batch=load.requests, batches=batches, ts=ts)

    pool = await open_pool(ctx.host, ctx.port, cfg.batch_clients)
    try:
        runs = [await ctx.run(exp, conn) for conn in pool]

        def make(i: int, n: int) -> tuple[str, str, bytes, bytes]:
            return ("POST", path, _batch_body(runs[i], "b", n * cfg.batch_size,
                                              cfg.batch_size, ts), JSON)

        load = await closed_loop(ctx.host, ctx.port, ctx.pid, cfg.batch_clients, make,
                                 duration=cfg.duration, max_requests=cfg.max_requests,
                                 conns=pool)
        out[f"c{cfg.batch_clients}"] = _points(load.summary(), cfg.batch_size)
    finally:
        for conn in pool:
            conn.close()
    return out


def _points(summary: dict[str, Any], size: int) -> dict[str, Any]:
    seconds = float(summary["seconds"])
    summary["points_per_s"] = round(int(summary["requests"]) * size / seconds) if seconds else 0
    return summary


async def _seed_history(ctx: Ctx, run_id: str, start_batch: int, batches: int, ts: int) -> None:
    size = ctx.cfg.batch_size
    t0 = time.perf_counter()
    for n in range(start_batch, batches):
        status, body = await ctx.conn.request(
            "POST", f"{API}/runs/log-batch", _batch_body(run_id, HISTORY_KEY, n * size, size, ts),
            JSON)
        if status != 200:
            raise HttpError(status, body, "seeding the history")
        if time.perf_counter() - t0 > 600:
            raise TimeoutError("seeding the 100,000-step history took over 600 s")
    ctx.shared["history_points"] = batches * size


async def ensure_history(ctx: Ctx) -> str:
    """The history run, seeded here when the log-batch scenario was not selected."""
    if "history_points" not in ctx.shared:
        exp = await ctx.experiment("history")
        run_id = await ctx.run(exp)
        ctx.shared["history_run"] = run_id
        await _seed_history(ctx, run_id, 0, ctx.cfg.history_steps // ctx.cfg.batch_size,
                            now_ms())
    return str(ctx.shared["history_run"])


async def create_runs(ctx: Ctx) -> dict[str, Any]:
    """``mlflow.start_run()``'s request, sequentially and from concurrent clients."""
    out: dict[str, Any] = {}
    exp = await ctx.experiment("create-runs")
    body = orjson.dumps(create_run_body(exp, start_time=1_700_000_000_000))
    path = f"{API}/runs/create"

    def make(_i: int, _n: int) -> tuple[str, str, bytes, bytes]:
        return ("POST", path, body, JSON)

    for clients in ctx.cfg.create_clients:
        load = await closed_loop(ctx.host, ctx.port, ctx.pid, clients, make,
                                 duration=ctx.cfg.duration, max_requests=ctx.cfg.max_requests,
                                 warmup=ctx.cfg.warmup)
        summary = load.summary()
        summary["runs_per_s"] = summary["req_per_s"]
        out[f"c{clients}"] = summary
    return out
