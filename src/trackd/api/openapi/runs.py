"""Run and metric-history operations (api/runs.py, api/metrics.py)."""

from __future__ import annotations

from trackd.api.openapi.components import METRIC_IN, RUN_TAG_IN, page, wrapped
from trackd.api.openapi.spec import (
    INT64,
    NAME,
    STRING,
    Operation,
    Operations,
    Schema,
    array,
    enum,
    limited,
    message,
    ref,
    text,
)
from trackd.entities.experiments import VIEW_TYPES
from trackd.entities.runs import RUN_STATUSES
from trackd.service import validation as v

_RUN_ID = text(
    "32 hex digits; one of run_id and run_uuid (legacy spelling) is required", min_length=1
)
# Most run calls name the run as `run_id` or, for older clients, `run_uuid`.
_RUN = {"run_id": _RUN_ID, "run_uuid": _RUN_ID}


def _with_run(required: tuple[str, ...] = (), **fields: Schema) -> Schema:
    return message(required, **_RUN, **fields)


_KEY = limited(v.MAX_ENTITY_KEY_LENGTH, min_length=1)
_RUN_NAME = limited(v.MAX_RUN_NAME_LENGTH)
_MODEL_ID = limited(36, "m- followed by 32 hex digits", min_length=1)

_DATASET_INPUT = message(
    ("dataset",),
    tags=array(message(("key", "value"), key=limited(255, min_length=1), value=limited(500))),
    dataset=message(
        ("name", "digest", "source_type", "source"),
        name=limited(500, min_length=1),
        digest=limited(36, min_length=1),
        source_type=limited(36, min_length=1),
        source=limited(65535, min_length=1),
        schema=text("at most 1048575 characters"),
        profile=text("at most 16777215 characters"),
    ),
)

OPERATIONS: Operations = {
    ("POST", "/mlflow/runs/create"): Operation(
        "Start a run",
        message(
            experiment_id=text("defaults to 0, the Default experiment"),
            user_id=limited(v.MAX_USER_ID_LENGTH),
            run_name=_RUN_NAME,
            start_time=INT64,
            tags=array(RUN_TAG_IN),
        ),
        wrapped("run", "Run"),
    ),
    ("GET", "/mlflow/runs/get"): Operation(
        "Get a run with its latest metrics, params, tags, inputs and outputs",
        _with_run(),
        wrapped("run", "Run"),
    ),
    ("POST", "/mlflow/runs/update"): Operation(
        "Update a run's status, end time or name",
        _with_run(status=enum(RUN_STATUSES), end_time=INT64, run_name=_RUN_NAME),
        message(("run_info",), run_info=ref("RunInfo")),
    ),
    ("POST", "/mlflow/runs/search"): Operation(
        "Search runs",
        message(
            experiment_ids=array(STRING),
            filter=text("an MLflow search filter over attributes, metrics, params and tags"),
            run_view_type=enum(VIEW_TYPES),
            max_results=INT64,
            order_by=array(STRING),
            page_token=STRING,
        ),
        page("runs", "Run"),
    ),
    ("POST", "/mlflow/runs/delete"): Operation("Soft-delete a run", _with_run()),
    ("POST", "/mlflow/runs/restore"): Operation("Restore a deleted run", _with_run()),
    ("POST", "/mlflow/runs/set-tag"): Operation(
        "Set a run tag", _with_run(("key",), key=_KEY, value=STRING)
    ),
    ("POST", "/mlflow/runs/delete-tag"): Operation(
        "Delete a run tag", _with_run(("key",), key=NAME)
    ),
    ("POST", "/mlflow/runs/log-parameter"): Operation(
        "Log a param (the same value again is a no-op)",
        _with_run(("key",), key=_KEY, value=STRING),
    ),
    ("POST", "/mlflow/runs/log-metric"): Operation(
        "Log one metric point",
        _with_run(
            ("key", "value", "timestamp"),
            **METRIC_IN["properties"],
        ),
    ),
    ("POST", "/mlflow/runs/log-batch"): Operation(
        "Log metrics, params and tags in one transaction",
        message(
            ("run_id",),
            run_id=_RUN_ID,
            metrics=array(METRIC_IN),
            params=array(RUN_TAG_IN),
            tags=array(RUN_TAG_IN),
        ),
        description="At most 1000 metrics, 100 params, 100 tags and 1 MB per request.",
    ),
    ("POST", "/mlflow/runs/outputs"): Operation(
        "Link logged models to a run as outputs",
        message(
            ("run_id",),
            run_id=_RUN_ID,
            models=array(message(("model_id",), model_id=_MODEL_ID, step=INT64)),
        ),
    ),
    ("POST", "/mlflow/runs/log-inputs"): Operation(
        "Log the datasets (and models) a run used",
        message(
            ("run_id",),
            run_id=_RUN_ID,
            datasets=array(_DATASET_INPUT),
            models=array(message(("model_id",), model_id=_MODEL_ID)),
        ),
    ),
    ("POST", "/mlflow/runs/log-model"): Operation(
        "2.x clients: record an MLmodel in the run's mlflow.log-model.history tag",
        message(
            ("run_id", "model_json"),
            run_id=_RUN_ID,
            model_json=text("the MLmodel file as a JSON string", min_length=1),
        ),
    ),
    ("GET", "/mlflow/metrics/get-history"): Operation(
        "A metric's history, paged",
        _with_run(("metric_key",), metric_key=NAME, max_results=INT64, page_token=STRING),
        page("metrics", "Metric"),
    ),
    ("GET", "/mlflow/metrics/get-history-bulk"): Operation(
        "Whole histories of one metric for up to 100 runs (/ajax-api only, for MLflow's UI)",
        message(("run_id", "metric_key"), run_id=array(STRING), metric_key=NAME,
                max_results=INT64),
        message(metrics=array(ref("Metric"))),
        errors=(400,),
    ),
    ("GET", "/mlflow/metrics/get-history-bulk-interval"): Operation(
        "Evenly sampled histories of up to 100 runs",
        message(
            ("metric_key",),
            run_ids=array(STRING),
            metric_key=NAME,
            max_results=INT64,
            start_step=INT64,
            end_step=INT64,
        ),
        message(metrics=array(ref("Metric"))),
    ),
}
