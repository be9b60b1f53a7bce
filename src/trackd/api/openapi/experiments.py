"""Experiment operations (api/experiments.py)."""

from __future__ import annotations

from trackd.api.openapi.components import page, tag_in, wrapped
from trackd.api.openapi.spec import (
    INT64,
    NAME,
    STRING,
    Operation,
    Operations,
    array,
    enum,
    limited,
    message,
    text,
)
from trackd.entities.experiments import VIEW_TYPES
from trackd.service import validation as v

_EXPERIMENT_ID = text("a decimal integer; 0 is the Default experiment", min_length=1)
_NAME = limited(v.MAX_EXPERIMENT_NAME_LENGTH, min_length=1)
_TAG_KEY = limited(v.MAX_EXPERIMENT_TAG_KEY_LENGTH, min_length=1)
_TAG_VALUE = limited(v.MAX_EXPERIMENT_TAG_VALUE_LENGTH)

_SEARCH = Operation(
    "Search experiments",
    message(
        max_results=INT64,
        page_token=STRING,
        filter=text("an MLflow search filter over name, tags and times"),
        order_by=array(STRING),
        view_type=enum(VIEW_TYPES),
    ),
    page("experiments", "Experiment"),
    description="`max_results` is required by MLflow's store (1..50000).",
)

OPERATIONS: Operations = {
    ("POST", "/mlflow/experiments/create"): Operation(
        "Create an experiment",
        message(
            ("name",),
            name=_NAME,
            artifact_location=limited(v.MAX_ARTIFACT_LOCATION_LENGTH),
            tags=array(tag_in(v.MAX_EXPERIMENT_TAG_KEY_LENGTH, v.MAX_EXPERIMENT_TAG_VALUE_LENGTH)),
        ),
        message(("experiment_id",), experiment_id=STRING),
    ),
    ("GET", "/mlflow/experiments/get"): Operation(
        "Get an experiment by id",
        message(("experiment_id",), experiment_id=_EXPERIMENT_ID),
        wrapped("experiment", "Experiment"),
    ),
    ("GET", "/mlflow/experiments/get-by-name"): Operation(
        "Get an experiment by name (deleted ones too)",
        message(("experiment_name",), experiment_name=NAME),
        wrapped("experiment", "Experiment"),
    ),
    ("POST", "/mlflow/experiments/search"): _SEARCH,
    ("POST", "/mlflow/experiments/search-datasets"): Operation(
        "The datasets runs of 1 to 20 experiments took as inputs (at most 1,000)",
        message(("experiment_ids",), experiment_ids=array(STRING)),
        message(dataset_summaries=array(message(
            ("experiment_id", "name", "digest"), experiment_id=STRING, name=STRING,
            digest=STRING, context=STRING))),
        errors=(400,),
    ),
    ("GET", "/mlflow/experiments/search"): _SEARCH,
    ("POST", "/mlflow/experiments/update"): Operation(
        "Rename an experiment",
        message(("experiment_id", "new_name"), experiment_id=_EXPERIMENT_ID, new_name=_NAME),
    ),
    ("POST", "/mlflow/experiments/delete"): Operation(
        "Soft-delete an experiment and its runs",
        message(("experiment_id",), experiment_id=_EXPERIMENT_ID),
    ),
    ("POST", "/mlflow/experiments/restore"): Operation(
        "Restore a deleted experiment and its runs",
        message(("experiment_id",), experiment_id=_EXPERIMENT_ID),
    ),
    ("POST", "/mlflow/experiments/set-experiment-tag"): Operation(
        "Set an experiment tag",
        message(
            ("experiment_id", "key"),
            experiment_id=_EXPERIMENT_ID,
            key=_TAG_KEY,
            value=_TAG_VALUE,
        ),
    ),
    ("POST", "/mlflow/experiments/delete-experiment-tag"): Operation(
        "Delete an experiment tag",
        message(("experiment_id", "key"), experiment_id=_EXPERIMENT_ID, key=NAME),
    ),
}
