"""Evaluation dataset routes in-process on every database: bad input answered with MLflow's
error codes (never a traceback), and what MLflow's store does at the edges.

What the official client does with them is in tests/compat/test_datasets.py.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from support.answers import expect_error as _error

from .conftest import Api

V3 = "/api/3.0/mlflow/datasets"
UNKNOWN = "d-" + "0" * 32


def _dataset(api: Api, **fields: Any) -> dict[str, Any]:
    experiment_id = api.new_experiment(f"ds-{uuid.uuid4().hex[:8]}")
    body = {"name": "ds", "experiment_ids": [experiment_id], **fields}
    return dict(api.ok("POST", f"{V3}/create", body)["dataset"])


def _records(api: Api, dataset_id: str) -> list[dict[str, Any]]:
    return list(json.loads(api.ok("GET", f"{V3}/{dataset_id}/records")["records"]))


def test_create_needs_a_name(api: Api) -> None:
    for body in ({}, {"name": ""}, {"experiment_ids": ["0"]}):
        message = _error(api.post(f"{V3}/create", body), 400, "INVALID_PARAMETER_VALUE")
        assert "'name'" in message
    _error(api.post(f"{V3}/create", {"name": 123}), 400, "INVALID_PARAMETER_VALUE")
    _error(api.post(f"{V3}/create", {"name": "x" * 256}), 400, "INVALID_PARAMETER_VALUE")


@pytest.mark.parametrize("tags", ["not json", "[1, 2]", {"a": "b"}, '{"": "empty key"}',
                                  json.dumps({"k": "v" * 5001})])
def test_create_refuses_bad_tags(api: Api, tags: Any) -> None:
    _error(api.post(f"{V3}/create", {"name": "t", "tags": tags}), 400, "INVALID_PARAMETER_VALUE")


def test_duplicate_names_make_two_datasets(api: Api) -> None:
    # MLflow's store does not keep names unique; get_dataset(name=...) refuses on the client.
    first = _dataset(api, name="twice")
    second = api.ok("POST", f"{V3}/create", {"name": "twice"})["dataset"]
    assert first["dataset_id"] != second["dataset_id"]
    found = api.ok("POST", f"{V3}/search", {"filter_string": "name = 'twice'"})["datasets"]
    assert {d["dataset_id"] for d in found} >= {first["dataset_id"], second["dataset_id"]}


def test_shapes(api: Api) -> None:
    made = _dataset(api, tags=json.dumps({"n": 5, "mlflow.user": "bob"}))
    assert made["tags"] == json.dumps({"n": "5", "mlflow.user": "bob"})
    assert made["created_by"] == made["last_updated_by"] == "bob"
    assert len(made["digest"]) == 8 and "schema" not in made and "profile" not in made
    assert len(made["experiment_ids"]) == 1
    got = api.ok("GET", f"{V3}/{made['dataset_id']}")["dataset"]
    assert "experiment_ids" not in got  # MLflow's get leaves them to experiment-ids
    assert api.ok("GET", f"{V3}/{made['dataset_id']}/experiment-ids") == {
        "experiment_ids": made["experiment_ids"]}


def test_unknown_dataset(api: Api) -> None:
    message = _error(api.get(f"{V3}/{UNKNOWN}"), 404, "RESOURCE_DOES_NOT_EXIST")
    assert message == f"Evaluation dataset with id '{UNKNOWN}' not found"
    _error(api.call("PATCH", f"{V3}/{UNKNOWN}/tags", {"tags": "{}"}), 404,
           "RESOURCE_DOES_NOT_EXIST")
    _error(api.post(f"{V3}/{UNKNOWN}/records", {"records": '[{"inputs": {"a": 1}}]'}), 404,
           "RESOURCE_DOES_NOT_EXIST")
    for path in ("add-experiments", "remove-experiments"):
        _error(api.post(f"{V3}/{UNKNOWN}/{path}", {"experiment_ids": ["0"]}), 404,
               "RESOURCE_DOES_NOT_EXIST")
    # What MLflow answers with success for an unknown dataset.
    assert api.ok("DELETE", f"{V3}/{UNKNOWN}") == {}
    assert api.ok("DELETE", f"{V3}/{UNKNOWN}/tags/k") == {}
    assert api.ok("GET", f"{V3}/{UNKNOWN}/records") == {"records": "[]"}
    assert api.ok("GET", f"{V3}/{UNKNOWN}/experiment-ids") == {}
    assert api.ok("DELETE", f"{V3}/{UNKNOWN}/records", {"dataset_record_ids": ["x"]}) == {
        "deleted_count": 0}


@pytest.mark.parametrize("records", [
    None, "not json", "{}", "[1]", '[{"inputs": {"x": NaN}}]', '[{"inputs": "text"}]',
    '[{"inputs": {}, "tags": [1]}]',
    '[{"inputs": {}, "expectations": "x"}]', '[{"inputs": {"c": 1}, "source": "text"}]',
    '[{"inputs": {"c": 1}, "source": {"source_type": "bogus"}}]',
    '[{"inputs": {"c": 1}, "source": {"source_type": "TRACE", "extra": 1}}]',
    '[{"inputs": {"c": 1}, "source": {"source_type": "TRACE", "source_data": "x"}}]',
    json.dumps([{"inputs": {}, "source": {"source_type": "DOCUMENT",
                                           "source_data": {"source_id": "x" * 37}}}]),
])
def test_bad_records_are_refused(api: Api, records: Any) -> None:
    dataset_id = _dataset(api)["dataset_id"]
    body = {} if records is None else {"records": records}
    _error(api.post(f"{V3}/{dataset_id}/records", body), 400, "INVALID_PARAMETER_VALUE")
    assert _records(api, dataset_id) == []  # nothing half-written


def test_upsert_merges_by_inputs(api: Api) -> None:
    dataset_id = _dataset(api)["dataset_id"]
    first = [{"inputs": {"b": 2, "a": 1}, "expectations": {"e": [1, 2]}, "outputs": {"o": 1.5},
              "tags": {"t": "v", "mlflow.user": "ann"},
              "source": {"source_type": "trace", "source_data": {"trace_id": "tr-1"}}},
             {"inputs": {"a": 1, "b": 2}, "expectations": {"f": None}}]  # the same inputs
    counts = api.ok("POST", f"{V3}/{dataset_id}/records", {"records": json.dumps(first)})
    assert counts == {"inserted_count": 1, "updated_count": 1}
    again = [{"inputs": {"a": 1, "b": 2}, "outputs": None, "tags": {"u": "w"}}, {}]
    counts = api.ok("POST", f"{V3}/{dataset_id}/records", {"records": json.dumps(again)})
    assert counts == {"inserted_count": 1, "updated_count": 1}
    records = {json.dumps(r["inputs"], sort_keys=True): r for r in _records(api, dataset_id)}
    merged = records['{"a": 1, "b": 2}']
    assert merged["expectations"] == {"e": [1, 2], "f": None}
    assert merged["tags"] == {"t": "v", "mlflow.user": "ann", "u": "w"}
    assert "outputs" not in merged  # replaced by null
    assert merged["source"] == {"source_type": "TRACE", "source_data": {"trace_id": "tr-1"}}
    assert merged["source_id"] == "tr-1" and merged["created_by"] == "ann"
    assert records["{}"]["outputs"] == {} and "source" not in records["{}"]
    dataset = api.ok("GET", f"{V3}/{dataset_id}")["dataset"]
    assert json.loads(dataset["profile"]) == {"num_records": 2}
    assert json.loads(dataset["schema"]) == {
        "inputs": {"b": "integer", "a": "integer"}, "outputs": {"o": "float"},
        "expectations": {"e": "array", "f": "null"}, "version": "1.0"}
    assert "last_updated_by" not in dataset  # the last upsert named no mlflow.user


def test_record_pages_and_deletion(api: Api) -> None:
    dataset_id = _dataset(api)["dataset_id"]
    rows = json.dumps([{"inputs": {"i": i}} for i in range(3)])
    api.ok("POST", f"{V3}/{dataset_id}/records", {"records": rows})
    page = api.ok("GET", f"{V3}/{dataset_id}/records", {"max_results": 2})
    assert len(json.loads(page["records"])) == 2 and page["next_page_token"]
    rest = api.ok("GET", f"{V3}/{dataset_id}/records", {"page_token": page["next_page_token"]})
    assert len(json.loads(rest["records"])) == 1 and "next_page_token" not in rest
    _error(api.get(f"{V3}/{dataset_id}/records", {"page_token": "%%%"}), 400,
           "INVALID_PARAMETER_VALUE")
    for bad in ({"max_results": "x"}, {"max_results": 2**63 - 1}, {"max_results": -1},
                {"page_token": "99999999999999999999999"},
                {"page_token": "OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk6eHg="}):  # base64 "<huge>:xx"
        _error(api.get(f"{V3}/{dataset_id}/records", bad), 400, "INVALID_PARAMETER_VALUE")
    ids = [r["dataset_record_id"] for r in _records(api, dataset_id)]
    assert api.ok("DELETE", f"{V3}/{dataset_id}/records", {"dataset_record_ids": ids}) == {
        "deleted_count": 3}
    # MLflow writes the JSON text null once no record is left.
    assert api.ok("GET", f"{V3}/{dataset_id}")["dataset"]["profile"] == "null"


def test_tags_and_links(api: Api) -> None:
    made = _dataset(api)
    dataset_id = made["dataset_id"]
    _error(api.call("PATCH", f"{V3}/{dataset_id}/tags", {}), 400, "INVALID_PARAMETER_VALUE")
    _error(api.call("PATCH", f"{V3}/{dataset_id}/tags", {"tags": "[1]"}), 400,
           "INVALID_PARAMETER_VALUE")
    api.ok("PATCH", f"{V3}/{dataset_id}/tags", {"tags": json.dumps({"n": 5, "x": None})})
    assert api.ok("GET", f"{V3}/{dataset_id}")["dataset"]["tags"] == '{"n": "5"}'
    for bad in (["987654321"], ["not-a-number"]):
        message = _error(api.post(f"{V3}/{dataset_id}/add-experiments", {"experiment_ids": bad}),
                         404, "RESOURCE_DOES_NOT_EXIST")
        assert message == f"No Experiment with id={bad[0]}"
    # Unlinking what is not linked changes nothing.
    before = api.ok("GET", f"{V3}/{dataset_id}")["dataset"]["last_update_time"]
    after = api.ok("POST", f"{V3}/{dataset_id}/remove-experiments",
                   {"experiment_ids": ["424242"]})["dataset"]["last_update_time"]
    assert after == before


@pytest.mark.parametrize(("body", "fragment"), [
    ({"filter_string": "bogus = 1"}, "Invalid attribute key 'bogus'"),
    ({"filter_string": "tags.n > '5'"}, ">"),
    ({"filter_string": "created_time > 'x'"}, "created_time"),
    ({"filter_string": "attribute.name = 'x'"}, "attribute"),
    ({"order_by": ["bogus"]}, "Invalid attribute key 'bogus'"),
    ({"order_by": ["tags.x"]}, "Invalid order_by entity: tag"),
    ({"max_results": -1}, "max_results"),
    ({"max_results": 100000}, "at most 50000"),
    ({"page_token": "bad"}, "page token"),
])
def test_search_refuses(api: Api, body: dict[str, Any], fragment: str) -> None:
    message = _error(api.post(f"{V3}/search", body), 400, "INVALID_PARAMETER_VALUE")
    assert fragment in message


def test_search_filters_and_pages(api: Api) -> None:
    made = _dataset(api, name=f"find-{uuid.uuid4().hex[:6]}")
    experiment_id = made["experiment_ids"][0]
    second = api.ok("POST", f"{V3}/create", {"name": "second-one",
                                             "experiment_ids": [experiment_id]})["dataset"]
    page = api.ok("GET", f"{V3}/search", {"experiment_ids": experiment_id, "max_results": 1})
    assert [d["dataset_id"] for d in page["datasets"]] == [second["dataset_id"]]
    rest = api.ok("POST", f"{V3}/search", {"experiment_ids": [experiment_id], "max_results": 1,
                                           "page_token": page["next_page_token"]})
    assert [d["dataset_id"] for d in rest["datasets"]] == [made["dataset_id"]]
    assert "next_page_token" not in rest
    name = made["name"]
    for filter_string in (f"name IN ('{name}', 'zz')", f"name ILIKE '{name[:4].upper()}%'",
                          f"created_time >= {made['created_time']} AND name LIKE 'find-%'"):
        found = api.ok("POST", f"{V3}/search", {"experiment_ids": [experiment_id],
                                                "filter_string": filter_string})
        assert [d["dataset_id"] for d in found["datasets"]] == [made["dataset_id"]], filter_string
    assert api.ok("POST", f"{V3}/search", {"experiment_ids": ["424242"]}) == {}


def test_search_run_input_datasets(api: Api) -> None:
    experiment_id = api.new_experiment(f"inputs-{uuid.uuid4().hex[:8]}")
    run_id = api.new_run(experiment_id)
    dataset = {"name": "train", "digest": "abc123", "source_type": "local",
               "source": '{"uri": "/tmp/x"}'}
    api.ok("POST", "runs/log-inputs", {"run_id": run_id, "datasets": [
        {"dataset": dataset, "tags": [{"key": "mlflow.data.context", "value": "training"}]},
        {"dataset": {**dataset, "name": "eval", "digest": "def456"}}]})
    path = "/ajax-api/2.0/mlflow/experiments/search-datasets"
    found = api.ok("POST", path, {"experiment_ids": [experiment_id]})["dataset_summaries"]
    assert sorted(found, key=lambda s: s["name"]) == [
        {"experiment_id": experiment_id, "name": "eval", "digest": "def456"},
        {"experiment_id": experiment_id, "name": "train", "digest": "abc123",
         "context": "training"}]
    assert api.ok("POST", path, {"experiment_ids": ["424242"]}) == {}
    for body, fragment in (({}, "at least one"), ({"experiment_ids": ["1"] * 21}, "20"),
                           ({"experiment_ids": ["x"]}, "valid integer")):
        assert fragment in _error(api.post(path, body), 400, "INVALID_PARAMETER_VALUE")
