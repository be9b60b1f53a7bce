"""``POST logged-models/search``: the §6.5 filter, structured order_by, datasets, page tokens."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest

from .conftest import Api


def unique(prefix: str = "lms") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def world(api: Api) -> dict[str, Any]:
    """Two experiments; four models in the first with params, tags, statuses and metrics."""
    exp, other = api.new_experiment(unique("exp")), api.new_experiment(unique("exp"))
    run_id = api.new_run(exp)
    ids: dict[str, str] = {}
    specs = [
        ("alpha", "sklearn", {"lr": "0.1"}, {"team": "red"}, 0.70, "LOGGED_MODEL_READY"),
        ("beta", "torch", {"lr": "0.01"}, {"team": "Blue"}, 0.90, "LOGGED_MODEL_READY"),
        ("gamma", "sklearn", {"lr": "0.1"}, {"team": "blue"}, 0.80, "LOGGED_MODEL_UPLOAD_FAILED"),
        ("delta", "", {}, {}, None, None),
    ]
    for name, model_type, params, tags, acc, status in specs:
        model = api.ok("POST", "logged-models", {
            "experiment_id": exp, "name": name, "model_type": model_type,
            "source_run_id": run_id,
            "params": [{"key": k, "value": v} for k, v in params.items()],
            "tags": [{"key": k, "value": v} for k, v in tags.items()],
        })["model"]["info"]
        ids[name] = model["model_id"]
        if status:
            api.ok("PATCH", f"logged-models/{model['model_id']}",
                   {"model_id": model["model_id"], "status": status})
        if acc is not None:
            api.ok("POST", "runs/log-batch", {"run_id": run_id, "metrics": [
                # An older, better point must not count: the latest step wins.
                {"key": "acc", "value": 0.99, "timestamp": 1, "step": 0,
                 "model_id": model["model_id"]},
                {"key": "acc", "value": acc, "timestamp": 2, "step": 1,
                 "model_id": model["model_id"], "dataset_name": "val", "dataset_digest": "d1"},
            ]})
    api.ok("POST", "logged-models", {"experiment_id": other, "name": "alpha"})
    return {"exp": exp, "other": other, "ids": ids, "run_id": run_id}


def names(api: Api, world: dict[str, Any], **body: Any) -> list[str]:
    body.setdefault("experiment_ids", [world["exp"]])
    payload = api.ok("POST", "logged-models/search", body)
    by_id = {v: k for k, v in world["ids"].items()}
    return [by_id.get(m["info"]["model_id"], "?") for m in payload.get("models", [])]


def test_default_order_is_newest_first(api: Api, world: dict[str, Any]) -> None:
    assert names(api, world) == ["delta", "gamma", "beta", "alpha"]


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("name = 'alpha'", ["alpha"]),
        ("name = 'model'", []),
        ("attributes.name != 'alpha'", ["delta", "gamma", "beta"]),
        ("name LIKE '%a'", ["delta", "gamma", "beta", "alpha"]),
        ("name LIKE 'AL%'", []),
        ("name ILIKE 'AL%'", ["alpha"]),
        ("name IN ('alpha', 'beta')", ["beta", "alpha"]),
        ("name NOT IN ('alpha', 'beta')", ["delta", "gamma"]),
        ("model_type = 'sklearn'", ["gamma", "alpha"]),
        ("status = 'READY'", ["beta", "alpha"]),
        ("status = 'FAILED'", ["gamma"]),
        ("status != 'PENDING'", ["gamma", "beta", "alpha"]),
        ("status IN ('PENDING', 'FAILED')", ["delta", "gamma"]),
        ("params.lr = '0.1'", ["gamma", "alpha"]),
        ("params.lr != '0.1'", ["beta"]),
        ("tags.team = 'blue'", ["gamma"]),
        ("tags.team ILIKE 'blue'", ["gamma", "beta"]),
        ("tags.`team` LIKE 'B%'", ["beta"]),
        ("metrics.acc > 0.75", ["gamma", "beta"]),
        ("metrics.acc >= 0.9", ["beta"]),
        ("metrics.acc < 0.75 AND params.lr = '0.1'", ["alpha"]),
        ("creation_timestamp > 0", ["delta", "gamma", "beta", "alpha"]),
        ("last_updated_timestamp < 0", []),
    ],
)
def test_filters(api: Api, world: dict[str, Any], filter_string: str, expected: list[str]) -> None:
    assert names(api, world, filter=filter_string) == expected


def test_filter_by_source_run_and_model_id(api: Api, world: dict[str, Any]) -> None:
    alpha = world["ids"]["alpha"]
    assert names(api, world, filter=f"model_id = '{alpha}'") == ["alpha"]
    assert len(names(api, world, filter=f"source_run_id = '{world['run_id']}'")) == 4


def test_search_several_experiments(api: Api, world: dict[str, Any]) -> None:
    payload = api.ok("POST", "logged-models/search", {
        "experiment_ids": [world["exp"], world["other"]], "filter": "name = 'alpha'"})
    assert sorted(m["info"]["experiment_id"] for m in payload["models"]) == sorted(
        [world["exp"], world["other"]])
    assert api.ok("POST", "logged-models/search", {"experiment_ids": []}) == {}


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        ([{"field_name": "name"}], ["alpha", "beta", "delta", "gamma"]),
        ([{"field_name": "name", "ascending": False}], ["gamma", "delta", "beta", "alpha"]),
        ([{"field_name": "creation_timestamp", "ascending": True}],
         ["alpha", "beta", "gamma", "delta"]),
        ([{"field_name": "metrics.acc", "ascending": False}], ["beta", "gamma", "alpha", "delta"]),
        # No value sorts last either way.
        ([{"field_name": "metrics.acc"}], ["alpha", "gamma", "beta", "delta"]),
        ([{"field_name": "metrics.acc", "dataset_name": "val", "dataset_digest": "d1"}],
         ["alpha", "gamma", "beta", "delta"]),
        ([{"field_name": "model_type"}, {"field_name": "name", "ascending": False}],
         ["delta", "gamma", "alpha", "beta"]),
    ],
)
def test_order_by(api: Api, world: dict[str, Any], order_by: list[dict[str, Any]],
                  expected: list[str]) -> None:
    assert names(api, world, order_by=order_by) == expected


def test_datasets(api: Api, world: dict[str, Any]) -> None:
    assert names(api, world, datasets=[{"dataset_name": "val"}]) == ["gamma", "beta", "alpha"]
    assert names(api, world, datasets=[{"dataset_name": "test"}]) == []
    assert names(api, world, datasets=[{"dataset_name": "val", "dataset_digest": "nope"}]) == []
    assert names(api, world, filter="metrics.acc > 0.85",
                 datasets=[{"dataset_name": "val"}]) == ["beta"]


def test_paging(api: Api, world: dict[str, Any]) -> None:
    body: dict[str, Any] = {"experiment_ids": [world["exp"]], "max_results": 3,
                            "order_by": [{"field_name": "name"}]}
    first = api.ok("POST", "logged-models/search", body)
    assert len(first["models"]) == 3
    token = first["next_page_token"]
    decoded = json.loads(base64.b64decode(token))
    assert decoded["offset"] == 3 and decoded["experiment_ids"] == [world["exp"]]
    second = api.ok("POST", "logged-models/search", {**body, "page_token": token})
    assert [m["info"]["name"] for m in second["models"]] == ["gamma"]
    assert "next_page_token" not in second
    # A token is only good for the search that made it.
    status, payload = api.post("logged-models/search",
                               {**body, "filter": "name = 'alpha'", "page_token": token})
    assert status == 400 and "Filter string in the page token" in payload["message"]
    status, payload = api.post("logged-models/search", {**body, "page_token": "!!!"})
    assert status == 400


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({}, "experiment_ids"),
        ({"experiment_ids": ["x"]}, "Invalid experiment ID"),
        ({"filter": "name = "}, "Invalid filter string"),
        ({"filter": "foo.bar = 'x'"}, "Invalid entity type"),
        ({"filter": "status > 'READY'"}, "comparison operator"),
        ({"filter": "status = 'DONE'"}, "Unknown model status"),
        ({"filter": "metrics.acc > 'high'"}, "Expected numeric value"),
        ({"order_by": [{"field_name": "nonsense"}]}, "Invalid order by field name"),
        ({"order_by": [{"field_name": "params.lr"}]}, "Only metrics are supported"),
        ({"datasets": [{"dataset_digest": "x"}]}, "dataset_name"),
    ],
)
def test_search_errors(api: Api, world: dict[str, Any], body: dict[str, Any],
                       fragment: str) -> None:
    if "experiment_ids" not in body and body:
        body = {"experiment_ids": [world["exp"]], **body}
    status, payload = api.post("logged-models/search", body)
    assert status == 400, payload
    assert payload["error_code"] == "INVALID_PARAMETER_VALUE"
    assert fragment in payload["message"], payload["message"]
