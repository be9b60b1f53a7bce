"""Requests the API fuzzer (test_fuzz.py) found answered with a 500; each must be a 400 now.

Most of them only failed on PostgreSQL (NUL characters, values wider than their column), so
every test runs on each database kind: the answer is the same 400 everywhere.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from .conftest import Api

INT64_MAX = 2**63 - 1


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def refused(status: int, body: Any, *words: str) -> None:
    assert status == 400, body
    assert body["error_code"] == "INVALID_PARAMETER_VALUE", body
    for word in words:
        assert word in body["message"], body


@pytest.fixture
def run_id(api: Api) -> str:
    return api.new_run(api.new_experiment(unique("fuzz")))


# -- numbers beyond their columns ---------------------------------------------------------------


@pytest.mark.parametrize("experiment_id", ["999999999999999999999999999999", "2147483648", "²"])
def test_experiment_ids_outside_the_integer_column(api: Api, experiment_id: str) -> None:
    refused(*api.get("experiments/get", {"experiment_id": experiment_id}), "Experiment ID")
    refused(*api.post("runs/create", {"experiment_id": experiment_id}), "Experiment ID")


def test_history_page_of_the_largest_size(api: Api, run_id: str) -> None:
    api.ok("POST", "runs/log-metric", {"run_id": run_id, "key": "m", "value": 1, "timestamp": 1})
    status, body = api.get(
        "metrics/get-history", {"run_id": run_id, "metric_key": "m", "max_results": INT64_MAX}
    )
    assert status == 200, body
    assert [p["value"] for p in body["metrics"]] == [1.0]
    assert "next_page_token" not in body


@pytest.mark.parametrize("field", ["timestamp", "step"])
def test_metric_numbers_beyond_64_bits(api: Api, run_id: str, field: str) -> None:
    point = {"key": "m", "value": 1.0, "timestamp": 1, "step": 0, field: INT64_MAX + 1}
    refused(*api.post("runs/log-metric", {"run_id": run_id, **point}), field)
    refused(*api.post("runs/log-batch", {"run_id": run_id, "metrics": [point]}), field)
    # The batch fast path (a name already accepted earlier in the same batch) checks them too.
    first = {"key": "m", "value": 1.0, "timestamp": 1, "step": 0}
    status, body = api.post("runs/log-batch", {"run_id": run_id, "metrics": [first, point]})
    assert status == 400, body


def test_multipart_part_numbers_must_be_integers(api: Api) -> None:
    body = {"path": "f.bin", "upload_id": "u", "parts": [{"part_number": [1], "etag": "e"}]}
    refused(*api.post("/api/2.0/mlflow-artifacts/mpu/complete/1/run/artifacts", body),
            "part_number")


# -- values of the wrong type in nested objects ---------------------------------------------------


@pytest.mark.parametrize("field", ["model_id", "dataset_name", "dataset_digest"])
def test_metric_links_must_be_strings(api: Api, run_id: str, field: str) -> None:
    point = {"key": "m", "value": 1.0, "timestamp": 1, field: [None, None]}
    refused(*api.post("runs/log-metric", {"run_id": run_id, **point}), field)
    refused(*api.post("runs/log-batch", {"run_id": run_id, "metrics": [point]}), field)


def test_input_and_output_models(api: Api, run_id: str) -> None:
    refused(*api.post("runs/log-inputs", {"run_id": run_id, "models": [{"model_id": [1]}]}),
            "models[0].model_id")
    refused(*api.post("runs/log-inputs", {"run_id": run_id, "models": [{"model_id": "m" * 37}]}),
            "models[0].model_id")
    refused(*api.post("runs/outputs", {"run_id": run_id, "models": [{"model_id": "m" * 37}]}),
            "models[0].model_id")
    refused(*api.post("runs/outputs",
                      {"run_id": run_id, "models": [{"model_id": "m-1", "step": "soon"}]}),
            "step")


def test_dataset_inputs_are_checked(api: Api, run_id: str) -> None:
    dataset = {"name": "d", "digest": "x", "source_type": "local", "source": "s"}
    bad_tags = {"run_id": run_id, "datasets": [{"dataset": dataset, "tags": "oops"}]}
    refused(*api.post("runs/log-inputs", bad_tags), "datasets[0].tags")
    long_type = {"run_id": run_id, "datasets": [{"dataset": {**dataset, "source_type": "t" * 37}}]}
    refused(*api.post("runs/log-inputs", long_type), "source_type")


def test_logged_model_search_strings(api: Api) -> None:
    experiment = api.new_experiment(unique("fuzz"))
    datasets = {"experiment_ids": [experiment],
                "datasets": [{"dataset_name": "d", "dataset_digest": [None]}]}
    refused(*api.post("logged-models/search", datasets), "dataset_digest")
    order = {"experiment_ids": [experiment],
             "order_by": [{"field_name": "name", "dataset_name": 5}]}
    refused(*api.post("logged-models/search", order), "dataset_name")


# -- NUL characters (PostgreSQL cannot store them) ------------------------------------------------


def test_nul_in_a_body_query_or_path(api: Api, run_id: str) -> None:
    refused(*api.post("experiments/create", {"name": "a\x00b"}), "NUL")
    refused(*api.post("runs/set-tag", {"run_id": run_id, "key": "k", "value": "x\x00"}), "NUL")
    refused(*api.post("runs/log-batch",
                      {"run_id": run_id, "params": [{"key": "k", "value": "\x00"}]}), "NUL")
    refused(*api.get("experiments/get-by-name", {"experiment_name": "a\x00b"}), "NUL")
    refused(*api.get("/api/2.0/mlflow/logged-models/m-%00"), "NUL")
    # A backslash followed by "u0000" is ordinary text, not a NUL.
    name = unique("back\\u0000slash")
    api.ok("POST", "experiments/create", {"name": name})


# -- strings wider than their columns -------------------------------------------------------------


def test_experiment_name_and_location_fit_their_columns(api: Api) -> None:
    refused(*api.post("experiments/create", {"name": "e" * 257}), "name", "256")
    api.ok("POST", "experiments/create", {"name": unique("e").ljust(256, "e")})
    refused(*api.post("experiments/create",
                      {"name": unique("e"), "artifact_location": "/" + "a" * 256}),
            "artifact_location")


def test_a_run_artifact_uri_must_fit_its_column(api: Api) -> None:
    experiment = api.ok("POST", "experiments/create",
                        {"name": unique("e"), "artifact_location": "/tmp/" + "a" * 180})
    refused(*api.post("runs/create", {"experiment_id": experiment["experiment_id"]}),
            "artifact URI")


def test_run_names_and_users_fit_their_columns(api: Api, run_id: str) -> None:
    experiment = api.new_experiment(unique("e"))
    refused(*api.post("runs/create", {"experiment_id": experiment, "run_name": "r" * 251}),
            "run_name")
    refused(*api.post("runs/create", {"experiment_id": experiment, "user_id": "u" * 257}),
            "user_id")
    refused(*api.post("runs/update", {"run_id": run_id, "run_name": "r" * 251}), "run_name")
    refused(*api.post("runs/set-tag",
                      {"run_id": run_id, "key": "mlflow.runName", "value": "r" * 251}), "250")
    api.ok("POST", "runs/set-tag", {"run_id": run_id, "key": "mlflow.runName", "value": "r" * 250})


def test_logged_model_fields_fit_their_columns(api: Api) -> None:
    experiment = api.new_experiment(unique("e"))
    for field, width in (("name", 500), ("model_type", 500), ("source_run_id", 32)):
        body = {"experiment_id": experiment, field: "x" * (width + 1)}
        refused(*api.post("logged-models", body), field)


def test_model_version_run_id_fits_its_column(api: Api) -> None:
    name = unique("m")
    api.ok("POST", "registered-models/create", {"name": name})
    body = {"name": name, "source": "s3://bucket/model", "run_id": "r" * 33}
    refused(*api.post("model-versions/create", body), "run_id")


@pytest.mark.parametrize("version", ["99999999999", "²"])
def test_model_version_numbers_beyond_the_column(api: Api, version: str) -> None:
    name = unique("m")
    api.ok("POST", "registered-models/create", {"name": name})
    refused(*api.get("model-versions/get", {"name": name, "version": version}))
    refused(*api.post("registered-models/alias", {"name": name, "alias": "a", "version": version}))
    refused(*api.post("model-versions/create",
                      {"name": name, "source": f"models:/{name}/{version}"}))
