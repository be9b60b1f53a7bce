"""Issue 12, finding 4: oversized searches get 400 INVALID_PARAMETER_VALUE, never a 5xx.

Before the limits, 1,000+ AND-ed clauses made SQLite answer "Expression tree is too large"
(503), 100+ order_by keys hit MySQL's join limit (503) and 600+ a RecursionError (500), 2,000
tag clauses in experiments/search a 500. MLflow's client retries 5xx, multiplying the load.
Every kind of search is checked on every database, and the largest allowed request must work.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from trackd.service.filters import MAX_FILTER_CLAUSES
from trackd.service.order_by import MAX_ORDER_BY_KEYS


def _and(clause: str, n: int) -> str:
    return " and ".join(clause.format(i=i) for i in range(n))


@pytest.fixture(scope="module")
def experiment(api: Any) -> str:
    experiment_id = api.new_experiment(f"limits-{uuid.uuid4().hex[:8]}")
    run_id = api.new_run(experiment_id)
    api.ok("POST", "runs/log-batch", {"run_id": run_id, "metrics": [
        {"key": f"m{i}", "value": 1.0, "timestamp": 1, "step": 0} for i in range(3)]})
    return experiment_id


def _refused(status: int, body: Any) -> None:
    assert status == 400, body
    assert body["error_code"] == "INVALID_PARAMETER_VALUE"


@pytest.mark.parametrize("n", [MAX_FILTER_CLAUSES + 1, 1_000, 2_000])
def test_runs_search_with_too_many_clauses(api: Any, experiment: str, n: int) -> None:
    status, body = api.post("runs/search", {"experiment_ids": [experiment],
                                            "filter": _and("metrics.m{i} > 0", n)})
    _refused(status, body)
    assert f"at most {MAX_FILTER_CLAUSES}" in body["message"]


def test_runs_search_at_the_clause_limit_works(api: Any, experiment: str) -> None:
    for clause in ("metrics.m{i} > -1", "params.p{i} != 'x'", "tags.t{i} != 'x'"):
        status, body = api.post("runs/search", {
            "experiment_ids": [experiment], "filter": _and(clause, MAX_FILTER_CLAUSES)})
        assert status == 200, (clause, body)


@pytest.mark.parametrize("n", [MAX_ORDER_BY_KEYS + 1, 100, 600])
def test_runs_search_with_too_many_sort_keys(api: Any, experiment: str, n: int) -> None:
    status, body = api.post("runs/search", {
        "experiment_ids": [experiment], "order_by": [f"metrics.k{i} DESC" for i in range(n)]})
    _refused(status, body)


def test_runs_search_at_the_sort_key_limit_works(api: Any, experiment: str) -> None:
    status, body = api.post("runs/search", {
        "experiment_ids": [experiment],
        "order_by": [f"metrics.m{i} DESC" for i in range(MAX_ORDER_BY_KEYS)]})
    assert status == 200, body
    assert len(body["runs"]) == 1


def test_other_searches_with_too_many_clauses(api: Any) -> None:
    many_tags = _and("tags.t{i} = 'x'", 2_000)
    _refused(*api.post("experiments/search", {"filter": many_tags, "max_results": 10}))
    _refused(*api.get("registered-models/search", {"filter": _and("name = 'x{i}'", 2_000)}))
    _refused(*api.get("model-versions/search", {"filter": _and("name = 'x{i}'", 2_000)}))
    _refused(*api.post("experiments/search", {
        "max_results": 10, "order_by": [f"name{i}" for i in range(600)]}))


def test_logged_model_search_with_too_many_sort_keys(api: Any, experiment: str) -> None:
    order = [{"field_name": f"metrics.k{i}", "ascending": True} for i in range(100)]
    _refused(*api.post("logged-models/search", {"experiment_ids": [experiment],
                                                "order_by": order}))
    many = _and("metrics.k{i} > 0", MAX_FILTER_CLAUSES + 1)
    _refused(*api.post("logged-models/search", {"experiment_ids": [experiment],
                                                "filter": many}))
