"""Compare runs: params and metrics side by side with differences marked, overlaid metric
charts, a parallel-coordinates plot and a scatter plot (``/compare?runs=id1,id2,...``).

The tables are rendered here; the plots are drawn by compare.js from the same numbers, which
the page embeds as JSON, so no plot needs a second request except the metric histories.
"""

from __future__ import annotations

import math
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from trackd.entities.runs import Run
from trackd.errors import invalid_parameter
from trackd.service.validation import check_run_id
from trackd.web.data import get_runs

MAX_RUNS = 100  # metrics/get-history-bulk-interval takes at most 100 runs per request
PALETTE = (
    "#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#65a30d",
    "#ea580c", "#4f46e5", "#0d9488", "#be123c",
)


def run_color(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def _json_number(value: float) -> float | str:
    return value if math.isfinite(value) else str(value)


def _rows(runs: list[Run], values: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per key: the values per run and whether they differ."""
    keys = sorted({k for v in values for k in v})
    rows = []
    for key in keys:
        cells = [v.get(key) for v in values]
        present = [c for c in cells if c is not None]
        rows.append({
            "key": key,
            "cells": cells,
            "differs": len({repr(c) for c in cells}) > 1,
            "missing": len(present) < len(cells),
        })
    return rows


async def compare_page(ui: Any, request: Request) -> Response:
    raw = request.query_params.get("runs", "")
    ids = list(dict.fromkeys(p.strip() for p in raw.split(",") if p.strip()))
    if len(ids) > MAX_RUNS:
        raise invalid_parameter(f"Compare takes at most {MAX_RUNS} runs; got {len(ids)}.")
    runs = await get_runs(ui.services, [check_run_id(i) for i in ids])
    params = [dict(r.params) for r in runs]
    metrics = [{m.key: m.value for m in r.metrics} for r in runs]
    payload = {
        "runs": [
            {
                "id": r.info.run_id,
                "name": r.info.run_name or r.info.run_id[:8],
                "color": run_color(i),
                "status": r.info.status,
                "experiment_id": str(r.info.experiment_id),
                "params": params[i],
                "metrics": {k: _json_number(v) for k, v in metrics[i].items()},
            }
            for i, r in enumerate(runs)
        ],
    }
    experiment_ids = sorted({r.info.experiment_id for r in runs})
    return ui.page(
        request,
        "compare.html",
        runs=runs,
        colors=[run_color(i) for i in range(len(runs))],
        param_rows=_rows(runs, params),
        metric_rows=_rows(runs, metrics),
        payload=payload,
        experiment_ids=experiment_ids,
        only_diff=request.query_params.get("diff") == "1",
        missing=len(ids) - len(runs),
    )
