"""Evaluation dataset operations (MLflow 3 GenAI; api/datasets.py). ``tags``, ``schema``,
``profile`` and ``records`` travel as JSON text, as in MLflow's protos."""

from __future__ import annotations

from trackd.api.openapi.spec import (
    INT64,
    NAME,
    STRING,
    Operation,
    Operations,
    array,
    message,
    text,
)

_ID = {"dataset_id": text("d- followed by 32 hex digits")}
_DATASET = message(
    ("dataset_id", "name"),
    dataset_id=STRING,
    name=STRING,
    tags=text("a JSON object, as text"),
    schema=text("a JSON object, as text: field -> inferred type"),
    profile=text('a JSON object, as text: {"num_records": n}'),
    digest=STRING,
    created_time=INT64,
    last_update_time=INT64,
    created_by=STRING,
    last_updated_by=STRING,
    experiment_ids=array(STRING),
)
_ONE = message(("dataset",), dataset=_DATASET)
_EXPERIMENTS = message(experiment_ids=array(STRING))

OPERATIONS: Operations = {
    ("POST", "/mlflow/datasets/create"): Operation(
        "Create an evaluation dataset, linked to the experiments named",
        message(("name",), name=NAME, experiment_ids=array(STRING),
                tags=text("a JSON object, as text")),
        _ONE,
    ),
    ("POST", "/mlflow/datasets/search"): Operation(
        "Search evaluation datasets (by experiment, filter, order)",
        message(experiment_ids=array(STRING), filter_string=STRING, max_results=INT64,
                order_by=array(STRING), page_token=STRING),
        message(datasets=array(_DATASET), next_page_token=STRING),
    ),
    ("GET", "/mlflow/datasets/{dataset_id}"): Operation(
        "Get an evaluation dataset", response=_ONE, path_params=_ID),
    ("DELETE", "/mlflow/datasets/{dataset_id}"): Operation(
        "Delete an evaluation dataset with its records and tags (unknown ids: no-op)",
        path_params=_ID),
    ("PATCH", "/mlflow/datasets/{dataset_id}/tags"): Operation(
        "Set tags (merged with the existing ones; null values are skipped)",
        message(("tags",), tags=text("a JSON object, as text")), path_params=_ID),
    ("DELETE", "/mlflow/datasets/{dataset_id}/tags/{key}"): Operation(
        "Delete a dataset tag (no-op when absent)",
        path_params={**_ID, "key": STRING}),
    ("POST", "/mlflow/datasets/{dataset_id}/records"): Operation(
        "Insert or merge records, keyed by their inputs",
        message(("records",), records=text("a JSON list of record objects, as text")),
        message(inserted_count=INT64, updated_count=INT64), path_params=_ID),
    ("GET", "/mlflow/datasets/{dataset_id}/records"): Operation(
        "A page of records, oldest first",
        message(max_results=INT64, page_token=STRING),
        message(records=text("a JSON list of record objects, as text"),
                next_page_token=STRING),
        path_params=_ID),
    ("DELETE", "/mlflow/datasets/{dataset_id}/records"): Operation(
        "Delete records by id",
        message(dataset_record_ids=array(STRING)), message(deleted_count=INT64),
        path_params=_ID),
    ("GET", "/mlflow/datasets/{dataset_id}/experiment-ids"): Operation(
        "The experiments a dataset is linked to", response=_EXPERIMENTS, path_params=_ID),
    ("POST", "/mlflow/datasets/{dataset_id}/add-experiments"): Operation(
        "Link a dataset to more experiments (each must exist)",
        _EXPERIMENTS, _ONE, path_params=_ID),
    ("POST", "/mlflow/datasets/{dataset_id}/remove-experiments"): Operation(
        "Unlink a dataset from experiments (links that are not there are ignored)",
        _EXPERIMENTS, _ONE, path_params=_ID),
}
# GET search takes the same fields in the query string.
OPERATIONS[("GET", "/mlflow/datasets/search")] = OPERATIONS[("POST", "/mlflow/datasets/search")]
