"""MLflow 3 logged models over HTTP: shapes (capture A), lifecycle, tags, params, linked
metrics, and the 2.x client's ``runs/log-model``."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest

from .conftest import Api

MODEL_ID = re.compile(r"m-[0-9a-f]{32}")


def unique(prefix: str = "lm") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def new_model(api: Api, exp: str, **fields: Any) -> dict[str, Any]:
    return api.ok("POST", "logged-models", {"experiment_id": exp, **fields})["model"]


def test_create_shape_matches_mlflow(api: Api) -> None:
    exp = api.new_experiment(unique("exp"))
    run_id = api.new_run(exp)
    model = new_model(
        api, exp, name="model", source_run_id=run_id,
        params=[{"key": "alpha", "value": "0.5"}],
        tags=[{"key": "mlflow.user", "value": "root"},
              {"key": "mlflow.source.name", "value": "client_exact.py"},
              {"key": "mlflow.source.type", "value": "LOCAL"}],
    )
    info = model["info"]
    assert MODEL_ID.fullmatch(info["model_id"])
    assert info == {
        "model_id": info["model_id"],
        "experiment_id": exp,
        "name": "model",
        "creation_timestamp_ms": info["creation_timestamp_ms"],
        "last_updated_timestamp_ms": info["creation_timestamp_ms"],
        "artifact_uri": f"mlflow-artifacts:/{exp}/models/{info['model_id']}/artifacts",
        "status": "LOGGED_MODEL_PENDING",
        "model_type": "",
        "source_run_id": run_id,
        # Sorted by key, as the stock server returns them.
        "tags": [{"key": "mlflow.source.name", "value": "client_exact.py"},
                 {"key": "mlflow.source.type", "value": "LOCAL"},
                 {"key": "mlflow.user", "value": "root"}],
    }
    assert model["data"] == {"params": [{"key": "alpha", "value": "0.5"}]}
    assert api.ok("GET", f"logged-models/{info['model_id']}")["model"] == model


def test_create_defaults_and_random_name(api: Api) -> None:
    exp = api.new_experiment(unique("exp"))
    model = new_model(api, exp, model_type="sklearn")
    info = model["info"]
    assert info["name"] and "/" not in info["name"]
    assert info["model_type"] == "sklearn"
    assert info["source_run_id"] == ""
    assert "tags" not in info and model["data"] == {}
    assert new_model(api, exp, name="")["info"]["name"]


@pytest.mark.parametrize("name", ["a/b", "a:b", "a.b", "50%", 'say "hi"', "it's"])
def test_create_rejects_bad_names(api: Api, name: str) -> None:
    exp = api.new_experiment(unique("exp"))
    status, payload = api.post("logged-models", {"experiment_id": exp, "name": name})
    assert status == 400 and payload["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "Invalid model name" in payload["message"]


def test_create_needs_an_active_experiment(api: Api) -> None:
    status, payload = api.post("logged-models", {})
    assert status == 400 and "experiment_id" in payload["message"]
    status, payload = api.post("logged-models", {"experiment_id": "987654321"})
    assert status == 404 and payload["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    exp = api.new_experiment(unique("exp"))
    api.ok("POST", "experiments/delete", {"experiment_id": exp})
    status, payload = api.post("logged-models", {"experiment_id": exp})
    assert status == 400 and "active" in payload["message"]


def test_get_unknown(api: Api) -> None:
    status, payload = api.get("logged-models/m-ffffffffffffffffffffffffffffffff")
    assert status == 404
    assert payload["message"] == (
        "Logged model with ID 'm-ffffffffffffffffffffffffffffffff' not found."
    )


@pytest.mark.parametrize(
    ("status", "expected"),
    [("LOGGED_MODEL_READY", "LOGGED_MODEL_READY"), ("LOGGED_MODEL_UPLOAD_FAILED",
      "LOGGED_MODEL_UPLOAD_FAILED"), (2, "LOGGED_MODEL_READY")],
)
def test_finalize(api: Api, status: Any, expected: str) -> None:
    exp = api.new_experiment(unique("exp"))
    model_id = new_model(api, exp)["info"]["model_id"]
    done = api.ok("PATCH", f"logged-models/{model_id}", {"model_id": model_id, "status": status})
    assert done["model"]["info"]["status"] == expected
    assert done["model"]["info"]["last_updated_timestamp_ms"] >= (
        done["model"]["info"]["creation_timestamp_ms"]
    )
    got = api.ok("GET", f"logged-models/{model_id}")["model"]["info"]
    assert got["status"] == expected


def test_finalize_errors(api: Api) -> None:
    exp = api.new_experiment(unique("exp"))
    model_id = new_model(api, exp)["info"]["model_id"]
    for body in ({"model_id": model_id}, {"status": "LOGGED_MODEL_READY"},
                 {"model_id": model_id, "status": "DONE"}):
        status, payload = api.call("PATCH", f"logged-models/{model_id}", body)
        assert status == 400, body
    missing = "m-" + "0" * 32
    status, _ = api.call("PATCH", f"logged-models/{missing}",
                         {"model_id": missing, "status": "LOGGED_MODEL_READY"})
    assert status == 404


def test_delete_is_soft(api: Api) -> None:
    exp = api.new_experiment(unique("exp"))
    model_id = new_model(api, exp, name="gone")["info"]["model_id"]
    assert api.ok("DELETE", f"logged-models/{model_id}") == {}
    status, _ = api.get(f"logged-models/{model_id}")
    assert status == 404
    kept = api.ok("GET", f"logged-models/{model_id}", {"allow_deleted": "true"})["model"]
    assert kept["info"]["name"] == "gone"
    found = api.ok("POST", "logged-models/search", {"experiment_ids": [exp]})
    assert found == {}


def test_tags(api: Api) -> None:
    exp = api.new_experiment(unique("exp"))
    model_id = new_model(api, exp, tags=[{"key": "a", "value": "1"}])["info"]["model_id"]
    assert api.ok("PATCH", f"logged-models/{model_id}/tags",
                  {"tags": [{"key": "a", "value": "2"}, {"key": "b", "value": "x"},
                            {"key": "b", "value": "y"}]}) == {}
    info = api.ok("GET", f"logged-models/{model_id}")["model"]["info"]
    assert info["tags"] == [{"key": "a", "value": "2"}, {"key": "b", "value": "y"}]
    assert api.ok("DELETE", f"logged-models/{model_id}/tags/a") == {}
    info = api.ok("GET", f"logged-models/{model_id}")["model"]["info"]
    assert info["tags"] == [{"key": "b", "value": "y"}]
    status, payload = api.call("DELETE", f"logged-models/{model_id}/tags/a")
    assert status == 404 and payload["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_registrations_follow_the_model_versions_tag(api: Api) -> None:
    exp = api.new_experiment(unique("exp"))
    model_id = new_model(api, exp)["info"]["model_id"]
    value = json.dumps([{"name": "clf", "version": 1}, {"name": "clf", "version": "1"},
                        {"name": "clf", "version": 2}])
    api.ok("PATCH", f"logged-models/{model_id}/tags",
           {"tags": [{"key": "mlflow.modelVersions", "value": value}]})
    info = api.ok("GET", f"logged-models/{model_id}")["model"]["info"]
    assert info["registrations"] == [{"name": "clf", "version": "1"},
                                     {"name": "clf", "version": "2"}]


def test_log_params(api: Api) -> None:
    exp = api.new_experiment(unique("exp"))
    first = [{"key": f"p{i:03d}", "value": str(i)} for i in range(100)]
    model_id = new_model(api, exp, params=first)["info"]["model_id"]
    more = [{"key": f"p{i:03d}", "value": str(i)} for i in range(100, 150)]
    assert api.ok("POST", f"logged-models/{model_id}/params",
                  {"model_id": model_id, "params": more}) == {}
    params = api.ok("GET", f"logged-models/{model_id}")["model"]["data"]["params"]
    assert len(params) == 150 and params[-1] == {"key": "p149", "value": "149"}


def test_metrics_linked_through_log_batch(api: Api) -> None:
    exp = api.new_experiment(unique("exp"))
    run_id = api.new_run(exp)
    model_id = new_model(api, exp, source_run_id=run_id)["info"]["model_id"]
    api.ok("POST", "runs/outputs", {"run_id": run_id, "models": [{"model_id": model_id,
                                                                  "step": 0}]})
    api.ok("POST", "runs/log-batch", {"run_id": run_id, "metrics": [
        {"key": "acc", "value": 0.9, "timestamp": 1000, "step": 0, "model_id": model_id},
        {"key": "inf", "value": "Infinity", "timestamp": 1000, "step": 0, "model_id": model_id},
        {"key": "acc", "value": 0.95, "timestamp": 2000, "step": 1, "model_id": model_id,
         "dataset_name": "val", "dataset_digest": "abc"},
    ]})
    metrics = api.ok("GET", f"logged-models/{model_id}")["model"]["data"]["metrics"]
    assert metrics == [
        {"key": "acc", "value": 0.9, "timestamp": 1000, "step": 0, "run_id": run_id,
         "model_id": model_id},
        {"key": "acc", "value": 0.95, "timestamp": 2000, "step": 1, "run_id": run_id,
         "model_id": model_id, "dataset_name": "val", "dataset_digest": "abc"},
        # Stored as MLflow stores it: infinities become the largest finite double.
        {"key": "inf", "value": 1.7976931348623157e308, "timestamp": 1000, "step": 0,
         "run_id": run_id, "model_id": model_id},
    ]
    run = api.ok("GET", "runs/get", {"run_id": run_id})["run"]
    assert run["outputs"] == {"model_outputs": [{"model_id": model_id, "step": 0}]}


def test_run_log_model_history(api: Api) -> None:
    exp = api.new_experiment(unique("exp"))
    run_id = api.new_run(exp)
    model = {
        "run_id": run_id, "artifact_path": "model", "utc_time_created": "2026-11-26 12:19:59",
        "model_uuid": "u1", "mlflow_version": "2.22.5",
        "flavors": {"python_function": {"loader_module": "mlflow.sklearn", "config": {"x": 1}},
                    "sklearn": {"pickled_model": "model.pkl"}},
    }
    assert api.ok("POST", "runs/log-model", {"run_id": run_id,
                                             "model_json": json.dumps(model)}) == {}
    second = {**model, "artifact_path": "model2", "model_uuid": "u2"}
    api.ok("POST", "runs/log-model", {"run_id": run_id, "model_json": json.dumps(second)})
    tags = {t["key"]: t["value"] for t in api.ok("GET", "runs/get", {"run_id": run_id})
            ["run"]["data"]["tags"]}
    history = json.loads(tags["mlflow.log-model.history"])
    assert history == [
        {"run_id": run_id, "artifact_path": "model", "utc_time_created": "2026-11-26 12:19:59",
         "model_uuid": "u1",
         "flavors": {"python_function": {"loader_module": "mlflow.sklearn"},
                     "sklearn": {"pickled_model": "model.pkl"}}},
        {"run_id": run_id, "artifact_path": "model2", "utc_time_created": "2026-11-26 12:19:59",
         "model_uuid": "u2",
         "flavors": {"python_function": {"loader_module": "mlflow.sklearn"},
                     "sklearn": {"pickled_model": "model.pkl"}}},
    ]


def test_run_log_model_errors(api: Api) -> None:
    exp = api.new_experiment(unique("exp"))
    run_id = api.new_run(exp)
    status, payload = api.post("runs/log-model", {"run_id": run_id, "model_json": "{not json"})
    assert status == 400 and "Malformed model info" in payload["message"]
    status, payload = api.post("runs/log-model", {"run_id": run_id,
                                                  "model_json": json.dumps({"run_id": run_id})})
    assert status == 400 and "missing mandatory fields" in payload["message"]
    status, _ = api.post("runs/log-model", {"run_id": run_id})
    assert status == 400
    ok = {"run_id": run_id, "artifact_path": "m", "utc_time_created": "t", "flavors": {}}
    status, _ = api.post("runs/log-model", {"run_id": "a" * 32, "model_json": json.dumps(ok)})
    assert status == 404
    api.ok("POST", "runs/delete", {"run_id": run_id})
    status, _ = api.post("runs/log-model", {"run_id": run_id, "model_json": json.dumps(ok)})
    assert status == 400


def test_metric_for_unknown_model_is_refused_whole(api: Api) -> None:
    exp = api.new_experiment(unique("exp"))
    run_id = api.new_run(exp)
    status, payload = api.post("runs/log-batch", {"run_id": run_id, "metrics": [
        {"key": "kept-out", "value": 1, "timestamp": 1, "step": 0},
        {"key": "acc", "value": 1, "timestamp": 1, "step": 0, "model_id": "m-" + "1" * 32},
    ]})
    assert status == 404 and payload["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert "m-" + "1" * 32 in payload["message"]
    run = api.ok("GET", "runs/get", {"run_id": run_id})["run"]
    assert "metrics" not in run["data"]
