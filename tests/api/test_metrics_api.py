"""Metric histories over the API: paging, order, non-finite values, sampling."""

from __future__ import annotations

import math

from .conftest import Api


def _log(api: Api, run_id: str, points: list[tuple[int, int, object]]) -> None:
    for start in range(0, len(points), 1000):
        batch = [
            {"key": "loss", "value": value, "timestamp": ts, "step": step}
            for ts, step, value in points[start : start + 1000]
        ]
        api.ok("POST", "runs/log-batch", {"run_id": run_id, "metrics": batch})


def _history(api: Api, run_id: str, page: int) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    token = None
    while True:
        params = {"run_id": run_id, "metric_key": "loss", "max_results": str(page)}
        if token:
            params["page_token"] = token
        body = api.ok("GET", "metrics/get-history", params)
        out += body.get("metrics", [])
        token = body.get("next_page_token")
        if not token:
            return out


def test_history_pages_cover_every_point_once_in_order(api: Api) -> None:
    run_id = api.new_run(api.new_experiment("history-paging"))
    # Several points share a timestamp, and one (timestamp, step) holds two values: the page
    # boundaries must fall between them without losing or repeating a point.
    points = [(1000 + i // 3, i, float(i)) for i in range(2500)]
    points += [(1000, 0, -1.0), (1000, 0, "NaN")]
    _log(api, run_id, points)
    got = _history(api, run_id, 7)
    assert len(got) == len(points)
    keys = [(p["timestamp"], p["step"]) for p in got]
    assert keys == sorted(keys)
    assert got[:3] == [
        {"key": "loss", "value": -1.0, "timestamp": 1000, "step": 0},
        {"key": "loss", "value": 0.0, "timestamp": 1000, "step": 0},
        {"key": "loss", "value": "NaN", "timestamp": 1000, "step": 0},
    ]
    assert _history(api, run_id, 25000) == got


def test_non_finite_values_round_trip_as_mlflow_stores_them(api: Api) -> None:
    run_id = api.new_run(api.new_experiment("history-non-finite"))
    _log(api, run_id, [(1, 0, "NaN"), (2, 1, "Infinity"), (3, 2, "-Infinity")])
    values = [p["value"] for p in _history(api, run_id, 10)]
    # MLflow's SQL store keeps NaN and clamps infinities to the largest finite doubles.
    assert values == ["NaN", 1.7976931348623157e308, -1.7976931348623157e308]
    latest = api.ok("GET", "runs/get", {"run_id": run_id})["run"]["data"]["metrics"]
    assert latest[0]["value"] == -1.7976931348623157e308 and latest[0]["step"] == 2


def test_bulk_interval_samples_as_mlflow_and_keeps_both_ends(api: Api) -> None:
    run_id = api.new_run(api.new_experiment("history-sampled"))
    _log(api, run_id, [(i, i, math.sqrt(i)) for i in range(5000)])
    body = api.ok(
        "GET",
        "metrics/get-history-bulk-interval",
        {"run_ids": run_id, "metric_key": "loss", "max_results": "100"},
    )
    steps = [p["step"] for p in body["metrics"]]
    assert len(steps) == 100 and steps[0] == 0 and steps[-1] == 4999
    assert all(p["run_id"] == run_id for p in body["metrics"])
    # Every 50th row (NTILE's runs of 50), the last pick replaced by the metric's last point.
    assert steps == [*range(0, 4950, 50), 4999]
    window = api.ok(
        "GET",
        "metrics/get-history-bulk-interval",
        {"run_ids": run_id, "metric_key": "loss", "start_step": "10", "end_step": "19"},
    )
    assert [p["step"] for p in window["metrics"]] == list(range(10, 20))
