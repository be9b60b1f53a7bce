"""Metric history endpoints."""

from __future__ import annotations

from typing import Any

from trackd.api.router import Call
from trackd.entities.metrics import history_json
from trackd.service import validation as v
from trackd.service.metrics import MAX_SAMPLES_PER_RUN


async def get_history(call: Call) -> dict[str, Any]:
    f = await call.fields()
    run_id = v.check_run_id(f.first_string("run_id", "run_uuid"))
    points, token = await call.services.metrics.history(
        run_id,
        f.string("metric_key", required=True),
        f.integer("max_results"),
        f.string("page_token"),
    )
    out: dict[str, Any] = {}
    if points:
        out["metrics"] = history_json(f.string("metric_key"), points)
    if token:
        out["next_page_token"] = token
    return out


async def get_history_bulk_interval(call: Call) -> dict[str, Any]:
    f = await call.fields()
    points = await call.services.metrics.sampled(
        f.string_list("run_ids"),
        f.string("metric_key", required=True),
        f.integer("max_results", default=MAX_SAMPLES_PER_RUN),
        f.integer("start_step"),
        f.integer("end_step"),
    )
    return {"metrics": [p.to_json() for p in points]} if points else {}


async def get_history_bulk(call: Call) -> dict[str, Any]:
    """``get-history-bulk`` (``/ajax-api`` only, as in MLflow): several runs' history of one
    metric, ``run_id`` repeated in the query string."""
    f = await call.fields()
    run_ids = [v.check_run_id(r) for r in f.string_list("run_id")]
    points = await call.services.metrics.history_bulk(
        run_ids, f.string("metric_key"), f.integer("max_results"))
    return {"metrics": [p.to_json() for p in points]}
