"""Scorer routes in-process on every database: bad input answered with MLflow's error codes,
the shapes of the answers, and the two routes trackd does not serve (501).

What the official client does with them is in tests/compat/test_scorers.py.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from support.answers import expect_error as _error

from .conftest import Api

V3 = "/api/3.0/mlflow/scorers"
JUDGE = json.dumps({"name": "j", "builtin_scorer_class": "RelevanceToQuery",
                    "builtin_scorer_pydantic_data": {"model": "openai:/gpt-4o-mini"},
                    "call_source": None})


def _experiment(api: Api) -> str:
    return api.new_experiment(f"sc-{uuid.uuid4().hex[:8]}")


def _register(api: Api, experiment_id: str, name: str = "j", serialized: str = JUDGE
              ) -> tuple[int, Any]:
    return api.post(f"{V3}/register", {"experiment_id": experiment_id, "name": name,
                                       "serialized_scorer": serialized})


def test_register_shapes_and_versions(api: Api) -> None:
    experiment_id = _experiment(api)
    status, first = _register(api, experiment_id)
    assert status == 200, first
    assert first["version"] == 1 and first["experiment_id"] == experiment_id
    assert first["name"] == "j" and first["serialized_scorer"] == JUDGE
    _, second = _register(api, experiment_id)
    assert second["version"] == 2 and second["scorer_id"] == first["scorer_id"]
    got = api.ok("GET", f"{V3}/get", {"experiment_id": experiment_id, "name": "j"})["scorer"]
    assert got["experiment_id"] == int(experiment_id) and got["scorer_version"] == 2
    assert got["creation_time"] == second["creation_time"]
    versions = api.ok("GET", f"{V3}/versions", {"experiment_id": experiment_id, "name": "j"})
    assert [v["scorer_version"] for v in versions["scorers"]] == [1, 2]
    listed = api.ok("GET", f"{V3}/list", {"experiment_id": experiment_id})["scorers"]
    assert [(s["scorer_name"], s["scorer_version"]) for s in listed] == [("j", 2)]
    assert api.ok("GET", f"{V3}/list", {"experiment_ids": [experiment_id]})["scorers"] == listed


@pytest.mark.parametrize(("body", "fragment"), [
    ({"name": "j", "serialized_scorer": JUDGE}, "'experiment_id'"),
    ({"experiment_id": "0", "serialized_scorer": JUDGE}, "'name'"),
    ({"experiment_id": "0", "name": "j"}, "'serialized_scorer'"),
    ({"experiment_id": "0", "name": "  ", "serialized_scorer": JUDGE}, "empty"),
    ({"experiment_id": "0", "name": "x" * 257, "serialized_scorer": JUDGE}, "256"),
    ({"experiment_id": "0", "name": "j", "serialized_scorer": "not json"}, "valid JSON"),
    ({"experiment_id": "0", "name": "j", "serialized_scorer": "[1]"}, "JSON object"),
    ({"experiment_id": "0", "name": "c",
      "serialized_scorer": json.dumps({"name": "c", "call_source": "return 1"})},
     "Custom scorer registration"),
    ({"experiment_id": "0", "name": "e",
      "serialized_scorer": json.dumps({"ensemble_scorer_data": {"scorers": [
          {"name": "inner", "call_source": "return 1"}]}})}, "Custom scorer registration"),
    ({"experiment_id": "0", "name": "t",
      "serialized_scorer": json.dumps({"third_party_scorer_data": {
          "model": "openai:/x", "kwargs": {"completion_kwargs": {"api_base": "http://x"}}}})},
     "'api_base'"),
    ({"experiment_id": "0", "name": "m",
      "serialized_scorer": json.dumps({"builtin_scorer_pydantic_data": {"model": " "}})},
     "Scorer model cannot be empty"),
    ({"experiment_id": "abc", "name": "j", "serialized_scorer": JUDGE}, "valid integer"),
])
def test_register_refuses(api: Api, body: dict[str, Any], fragment: str) -> None:
    message = _error(api.post(f"{V3}/register", body), 400, "INVALID_PARAMETER_VALUE")
    assert fragment in message


def test_unknown_experiment_scorer_and_version(api: Api) -> None:
    _error(_register(api, "987654321"), 404, "RESOURCE_DOES_NOT_EXIST")
    gateway = json.dumps({"builtin_scorer_pydantic_data": {"model": "gateway:/nope"}})
    message = _error(_register(api, "0", "g", gateway), 404, "RESOURCE_DOES_NOT_EXIST")
    assert message == "GatewayEndpoint not found (name='nope')"
    experiment_id = _experiment(api)
    _register(api, experiment_id)
    for path, params in (("get", {"name": "zz"}), ("versions", {"name": "zz"}),
                         ("get", {"name": "j", "version": 7}), ("list", {})):
        query = {"experiment_id": experiment_id if path != "list" else "987654321", **params}
        _error(api.get(f"{V3}/{path}", query), 404, "RESOURCE_DOES_NOT_EXIST")
    message = _error(api.call("DELETE", f"{V3}/delete", {"experiment_id": experiment_id,
                                                          "name": "j", "version": 7}),
                     404, "RESOURCE_DOES_NOT_EXIST")
    assert message == ("Scorer with name 'j' and version 7 not found for experiment "
                       f"{experiment_id}.")
    _error(api.get(f"{V3}/get", {"experiment_id": experiment_id, "name": "j", "version": "x"}),
           400, "INVALID_PARAMETER_VALUE")
    _error(api.get(f"{V3}/list", {"experiment_id": experiment_id,
                                  "experiment_ids": [experiment_id]}),
           400, "INVALID_PARAMETER_VALUE")


def test_case_matters_in_names(api: Api) -> None:
    experiment_id = _experiment(api)
    _register(api, experiment_id, "judge")
    _error(api.get(f"{V3}/get", {"experiment_id": experiment_id, "name": "JUDGE"}), 404,
           "RESOURCE_DOES_NOT_EXIST")


def test_delete_removes_versions_then_the_scorer(api: Api) -> None:
    experiment_id = _experiment(api)
    _register(api, experiment_id)
    _register(api, experiment_id)
    body = {"experiment_id": experiment_id, "name": "j"}
    assert api.ok("DELETE", f"{V3}/delete", {**body, "version": 1}) == {}
    assert api.ok("GET", f"{V3}/get", body)["scorer"]["scorer_version"] == 2
    assert api.ok("DELETE", f"{V3}/delete", body) == {}
    assert api.ok("GET", f"{V3}/list", {"experiment_id": experiment_id}) == {}
    _error(api.call("DELETE", f"{V3}/delete", body), 404, "RESOURCE_DOES_NOT_EXIST")


def test_online_config(api: Api) -> None:
    experiment_id = _experiment(api)
    scorer_id = _register(api, experiment_id)[1]["scorer_id"]
    body = {"experiment_id": experiment_id, "name": "j"}
    for extra, fragment in (({"sample_rate": 0.5}, "gateway model"),
                            ({"sample_rate": 2}, "between 0.0 and 1.0"),
                            ({"sample_rate": "x"}, "sample_rate"),
                            ({}, "'sample_rate'"),
                            ({"sample_rate": 0, "filter_string": 5}, "filter_string"),
                            ({"sample_rate": 0, "filter_string": "bogus stuff"}, "Invalid")):
        message = _error(api.call("PUT", f"{V3}/online-config", {**body, **extra}), 400,
                         "INVALID_PARAMETER_VALUE")
        assert fragment in message
    _error(api.call("PUT", f"{V3}/online-config", {**body, "name": "zz", "sample_rate": 0}),
           404, "RESOURCE_DOES_NOT_EXIST")
    config = api.ok("PUT", f"{V3}/online-config",
                    {**body, "sample_rate": 0, "filter_string": "tags.a = 'b'"})["config"]
    assert config["scorer_id"] == scorer_id and config["experiment_id"] == experiment_id
    assert config["sample_rate"] == 0.0 and config["filter_string"] == "tags.a = 'b'"
    replaced = api.ok("PUT", f"{V3}/online-config", {**body, "sample_rate": 0})["config"]
    assert "filter_string" not in replaced
    found = api.ok("GET", f"{V3}/online-configs", {"scorer_ids": [scorer_id, "nope"]})
    assert found == {"configs": [replaced]}
    _error(api.get(f"{V3}/online-configs", {}), 400, "INVALID_PARAMETER_VALUE")


def test_invoke_routes_are_not_served(api: Api) -> None:
    for path in ("scorer/invoke", "genai/evaluate/invoke"):
        message = _error(api.post(f"/ajax-api/3.0/mlflow/{path}", {"experiment_id": "0"}), 501,
                         "NOT_IMPLEMENTED")
        assert "model providers" in message
        _error(api.post(f"/ajax-api/3.0/mlflow/{path}", {}), 400, "INVALID_PARAMETER_VALUE")
        status, _ = api.post(f"/api/3.0/mlflow/{path}", {"experiment_id": "0"})
        assert status == 404  # MLflow serves them to its web UI only
