"""``runs/search`` builds its page straight from the rows (store.runs_load.load_runs_json):
every run must come out exactly as ``runs/get`` (the entities' JSON) writes it — children by
key, NaN and infinities as MLflow's strings, empty values, inputs and outputs."""

from __future__ import annotations

import uuid

from .conftest import Api


def _runs(api: Api, experiment_id: str, **body: object) -> list[dict[str, object]]:
    page = api.ok("POST", "runs/search", {"experiment_ids": [experiment_id], **body})
    return list(page.get("runs", []))


def test_search_page_is_runs_get(api: Api) -> None:
    experiment_id = api.new_experiment(f"page-json-{uuid.uuid4().hex[:8]}")
    plain = api.new_run(experiment_id)  # no data at all
    full = api.new_run(experiment_id, start_time=1_700_000_000_000)
    # Keys logged out of order, some sharing prefixes, non-ASCII and upper case (no two that
    # differ only in case: MySQL's collations make those one primary key).
    api.ok("POST", "runs/log-batch", {"run_id": full, "params": [
        {"key": k, "value": v} for k, v in
        [("zeta", "1"), ("Beta", ""), ("alpha", "x" * 300), ("é", "ü"), ("a_b", "2"), ("a", "3")]
    ], "tags": [{"key": k, "value": v} for k, v in [("t2", "b"), ("T1", ""), ("t10", "c")]],
        "metrics": [{"key": k, "value": v, "timestamp": 5, "step": 3} for k, v in
                    [("nan", "NaN"), ("inf", "Infinity"), ("ninf", "-Infinity"), ("b", 0.1),
                     ("A", -2.5e-12), ("big", 1e300)]]})
    api.ok("POST", "runs/log-metric", {"run_id": full, "key": "b", "value": 7, "timestamp": 9,
                                      "step": 1})
    dataset = {"name": "train", "digest": "abc123", "source_type": "local",
               "source": '{"uri": "/tmp/x"}', "schema": "{}", "profile": '{"n": 1}'}
    api.ok("POST", "runs/log-inputs", {"run_id": full, "datasets": [
        {"dataset": dataset, "tags": [{"key": "mlflow.data.context", "value": "training"},
                                      {"key": "b", "value": "2"}]},
        {"dataset": {**dataset, "name": "eval", "digest": "d2"}}]})
    model = api.ok("POST", "logged-models", {"experiment_id": experiment_id})["model"]
    model_id = model["info"]["model_id"]
    api.ok("POST", "runs/log-inputs", {"run_id": full, "models": [{"model_id": model_id}]})
    api.ok("POST", "runs/outputs", {"run_id": full, "models": [{"model_id": model_id,
                                                                "step": 4}]})
    api.ok("POST", "runs/update", {"run_id": plain, "status": "FINISHED", "end_time": 17})

    found = _runs(api, experiment_id)
    assert {r["info"]["run_id"] for r in found} == {plain, full}  # type: ignore[index]
    for run in found:
        run_id = run["info"]["run_id"]  # type: ignore[index]
        assert run == api.ok("GET", "runs/get", {"run_id": run_id})["run"]
    full_run = next(r for r in found if r["info"]["run_id"] == full)  # type: ignore[index]
    data = full_run["data"]
    assert [m["key"] for m in data["metrics"]] == ["A", "b", "big", "inf", "nan", "ninf"]  # type: ignore[index]
    assert [p["key"] for p in data["params"]] == ["Beta", "a", "a_b", "alpha", "zeta", "é"]  # type: ignore[index]
    # Paged and filtered pages hold the same runs, the same way.
    page = _runs(api, experiment_id, max_results=1, filter="params.zeta = '1'")
    assert page == [full_run]
