"""Bad input gets MLflow's error code and HTTP status, a message, and writes nothing.

Each case names a request built against a fresh experiment and run, the status and
``error_code`` MLflow answers (checked against a real ``mlflow server`` 3.18 while writing
them), and, where a write was attempted, what must still be true afterwards.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from .conftest import Api

_names = itertools.count()


@dataclass
class Ctx:
    api: Api
    experiment_id: str
    run_id: str
    deleted_run_id: str
    deleted_experiment_id: str


@dataclass
class Case:
    name: str
    method: str
    path: str
    body: Callable[[Ctx], Any]
    status: int
    code: str | None  # None: a plain (non-JSON) answer, as for unknown routes
    # Checked after the request: nothing of a rejected write may be visible.
    after: Callable[[Ctx], None] = field(default=lambda ctx: None)
    headers: dict[str, str] | None = None
    raw: bytes | None = None


def run_data(ctx: Ctx) -> dict[str, Any]:
    return ctx.api.ok("GET", "runs/get", {"run_id": ctx.run_id})["run"]["data"]


def no_metrics(ctx: Ctx) -> None:
    assert "metrics" not in run_data(ctx)


def only_param_a(ctx: Ctx) -> None:
    assert run_data(ctx).get("params") == [{"key": "a", "value": "1"}]


def metric(key: str = "m", value: Any = 1.0, timestamp: Any = 1, step: Any = 0) -> dict[str, Any]:
    return {"key": key, "value": value, "timestamp": timestamp, "step": step}


CASES = [
    Case(
        "unknown experiment id",
        "GET",
        "experiments/get",
        lambda c: {"experiment_id": "987654321"},
        404,
        "RESOURCE_DOES_NOT_EXIST",
    ),
    Case(
        "non-integer experiment id",
        "GET",
        "experiments/get",
        lambda c: {"experiment_id": "abc"},
        400,
        "INVALID_PARAMETER_VALUE",
    ),
    Case(
        "unknown experiment name",
        "GET",
        "experiments/get-by-name",
        lambda c: {"experiment_name": "no-such-experiment"},
        404,
        "RESOURCE_DOES_NOT_EXIST",
    ),
    Case(
        "experiment without name",
        "POST",
        "experiments/create",
        lambda c: {},
        400,
        "INVALID_PARAMETER_VALUE",
    ),
    Case(
        "blank experiment name",
        "POST",
        "experiments/create",
        lambda c: {"name": "   "},
        400,
        "INVALID_PARAMETER_VALUE",
    ),
    Case(
        "experiment name of the wrong type",
        "POST",
        "experiments/create",
        lambda c: {"name": 5},
        400,
        "INVALID_PARAMETER_VALUE",
    ),
    Case(
        "over-long experiment name",
        "POST",
        "experiments/create",
        lambda c: {"name": "x" * 501},
        400,
        "INVALID_PARAMETER_VALUE",
    ),
    Case(
        "duplicate experiment name",
        "POST",
        "experiments/create",
        lambda c: {
            "name": c.api.ok("GET", "experiments/get", {"experiment_id": c.experiment_id})[
                "experiment"
            ]["name"]
        },
        400,
        "RESOURCE_ALREADY_EXISTS",
    ),
    Case(
        "malformed JSON",
        "POST",
        "runs/log-metric",
        lambda c: None,
        400,
        "INVALID_PARAMETER_VALUE",
        raw=b'{"run_id": ',
        headers={"content-type": "application/json"},
    ),
    Case(
        "JSON that is not an object",
        "POST",
        "experiments/create",
        lambda c: None,
        400,
        "INVALID_PARAMETER_VALUE",
        raw=b"[1, 2]",
        headers={"content-type": "application/json"},
    ),
    Case(
        "wrong content type",
        "POST",
        "runs/log-metric",
        lambda c: None,
        400,
        "INVALID_PARAMETER_VALUE",
        raw=b'{"run_id": "x"}',
        headers={"content-type": "text/plain"},
    ),
    Case(
        "unknown run",
        "GET",
        "runs/get",
        lambda c: {"run_id": "f" * 32},
        404,
        "RESOURCE_DOES_NOT_EXIST",
    ),
    Case(
        "run in unknown experiment",
        "POST",
        "runs/create",
        lambda c: {"experiment_id": "987654321"},
        404,
        "RESOURCE_DOES_NOT_EXIST",
    ),
    Case(
        "run in deleted experiment",
        "POST",
        "runs/create",
        lambda c: {"experiment_id": c.deleted_experiment_id},
        400,
        "INVALID_PARAMETER_VALUE",
    ),
    Case(
        "start_time of the wrong type",
        "POST",
        "runs/create",
        lambda c: {"experiment_id": c.experiment_id, "start_time": "abc"},
        400,
        "INVALID_PARAMETER_VALUE",
    ),
    Case(
        "non-numeric metric",
        "POST",
        "runs/log-metric",
        lambda c: {"run_id": c.run_id, **metric(value="abc")},
        400,
        "INVALID_PARAMETER_VALUE",
        after=no_metrics,
    ),
    Case(
        "boolean metric",
        "POST",
        "runs/log-metric",
        lambda c: {"run_id": c.run_id, **metric(value=True)},
        400,
        "INVALID_PARAMETER_VALUE",
        after=no_metrics,
    ),
    Case(
        "metric without timestamp",
        "POST",
        "runs/log-metric",
        lambda c: {"run_id": c.run_id, "key": "m", "value": 1.0},
        400,
        "INVALID_PARAMETER_VALUE",
        after=no_metrics,
    ),
    Case(
        "negative timestamp",
        "POST",
        "runs/log-metric",
        lambda c: {"run_id": c.run_id, **metric(timestamp=-5)},
        400,
        "INVALID_PARAMETER_VALUE",
        after=no_metrics,
    ),
    Case(
        "metric key with forbidden characters",
        "POST",
        "runs/log-metric",
        lambda c: {"run_id": c.run_id, **metric(key="a!b")},
        400,
        "INVALID_PARAMETER_VALUE",
        after=no_metrics,
    ),
    Case(
        "metric key that is not path-normal",
        "POST",
        "runs/log-metric",
        lambda c: {"run_id": c.run_id, **metric(key="../m")},
        400,
        "INVALID_PARAMETER_VALUE",
        after=no_metrics,
    ),
    Case(
        "over-long param key",
        "POST",
        "runs/log-parameter",
        lambda c: {"run_id": c.run_id, "key": "k" * 251, "value": "1"},
        400,
        "INVALID_PARAMETER_VALUE",
        after=only_param_a,
    ),
    Case(
        "changing a param value",
        "POST",
        "runs/log-parameter",
        lambda c: {"run_id": c.run_id, "key": "a", "value": "2"},
        400,
        "INVALID_PARAMETER_VALUE",
        after=only_param_a,
    ),
    Case(
        "batch over 1000 metrics",
        "POST",
        "runs/log-batch",
        lambda c: {"run_id": c.run_id, "metrics": [metric(f"m{i}") for i in range(1001)]},
        400,
        "INVALID_PARAMETER_VALUE",
        after=no_metrics,
    ),
    Case(
        "batch over 100 params",
        "POST",
        "runs/log-batch",
        lambda c: {
            "run_id": c.run_id,
            "params": [{"key": f"p{i}", "value": "v"} for i in range(101)],
        },
        400,
        "INVALID_PARAMETER_VALUE",
        after=only_param_a,
    ),
    Case(
        "batch with duplicate param keys",
        "POST",
        "runs/log-batch",
        lambda c: {
            "run_id": c.run_id,
            "params": [{"key": "d", "value": "1"}, {"key": "d", "value": "2"}],
        },
        400,
        "INVALID_PARAMETER_VALUE",
        after=only_param_a,
    ),
    Case(
        "batch with one bad metric among good ones",
        "POST",
        "runs/log-batch",
        lambda c: {
            "run_id": c.run_id,
            "metrics": [metric("ok1"), metric("bad", "x"), metric("ok2")],
        },
        400,
        "INVALID_PARAMETER_VALUE",
        after=no_metrics,
    ),
    Case(
        "batch changing a param next to new metrics",
        "POST",
        "runs/log-batch",
        lambda c: {
            "run_id": c.run_id,
            "metrics": [metric("fresh")],
            "params": [{"key": "new", "value": "1"}, {"key": "a", "value": "9"}],
        },
        400,
        "INVALID_PARAMETER_VALUE",
        after=lambda c: (no_metrics(c), only_param_a(c)),
    ),
    Case(
        "write to a deleted run",
        "POST",
        "runs/set-tag",
        lambda c: {"run_id": c.deleted_run_id, "key": "t", "value": "v"},
        400,
        "INVALID_PARAMETER_VALUE",
    ),
    Case(
        "metric to a deleted run",
        "POST",
        "runs/log-batch",
        lambda c: {"run_id": c.deleted_run_id, "metrics": [metric()]},
        400,
        "INVALID_PARAMETER_VALUE",
    ),
    Case(
        "deleting a missing tag",
        "POST",
        "runs/delete-tag",
        lambda c: {"run_id": c.run_id, "key": "no-such-tag"},
        404,
        "RESOURCE_DOES_NOT_EXIST",
    ),
    Case(
        "filter with OR",
        "POST",
        "runs/search",
        lambda c: {"experiment_ids": [c.experiment_id], "filter": "metrics.a > 1 OR metrics.b < 2"},
        400,
        "INVALID_PARAMETER_VALUE",
    ),
    Case(
        "filter comparing a param with a number",
        "POST",
        "runs/search",
        lambda c: {"experiment_ids": [c.experiment_id], "filter": "params.a = 1"},
        400,
        "INVALID_PARAMETER_VALUE",
    ),
    Case(
        "invalid order_by",
        "POST",
        "runs/search",
        lambda c: {"experiment_ids": [c.experiment_id], "order_by": ["metrics.a SIDEWAYS"]},
        400,
        "INVALID_PARAMETER_VALUE",
    ),
    Case(
        "search max_results over the limit",
        "POST",
        "runs/search",
        lambda c: {"experiment_ids": [c.experiment_id], "max_results": 50001},
        400,
        "INVALID_PARAMETER_VALUE",
    ),
    Case(
        "experiment search without max_results",
        "POST",
        "experiments/search",
        lambda c: {},
        400,
        "INVALID_PARAMETER_VALUE",
    ),
    Case(
        "history page size zero",
        "GET",
        "metrics/get-history",
        lambda c: {"run_id": c.run_id, "metric_key": "m", "max_results": "0"},
        400,
        "INVALID_PARAMETER_VALUE",
    ),
    Case("unknown route", "GET", "no/such/route", lambda c: None, 404, None),
    Case("wrong method", "GET", "runs/create", lambda c: None, 405, None),
]


@pytest.fixture
def ctx(api: Api) -> Ctx:
    n = next(_names)
    experiment_id = api.new_experiment(f"bad-input-{n}")
    run_id = api.new_run(experiment_id)
    api.ok("POST", "runs/log-parameter", {"run_id": run_id, "key": "a", "value": "1"})
    deleted_run_id = api.new_run(experiment_id)
    api.ok("POST", "runs/delete", {"run_id": deleted_run_id})
    deleted_experiment_id = api.new_experiment(f"bad-input-deleted-{n}")
    api.ok("POST", "experiments/delete", {"experiment_id": deleted_experiment_id})
    return Ctx(api, experiment_id, run_id, deleted_run_id, deleted_experiment_id)


def test_there_are_at_least_twenty_cases() -> None:
    assert len(CASES) >= 20


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input(ctx: Ctx, case: Case) -> None:
    body = case.body(ctx)
    url = f"/api/2.0/mlflow/{case.path}"
    client = ctx.api.client
    if case.raw is not None:
        response = client.request(case.method, url, content=case.raw, headers=case.headers)
    elif case.method == "GET":
        response = client.get(url, params=body)
    else:
        response = client.request(case.method, url, json=body)
    assert response.status_code == case.status, response.text
    if case.code is None:
        assert not response.headers.get("content-type", "").startswith("application/json")
    else:
        payload = response.json()
        assert payload["error_code"] == case.code, payload
        assert payload["message"], payload
        assert "Traceback" not in payload["message"]
    case.after(ctx)
