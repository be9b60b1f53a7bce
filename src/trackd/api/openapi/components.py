"""Shared shapes (``#/components/schemas``): the entities responses carry, and the error.

Response entities list the fields trackd always sends as required and leave the rest optional,
mirroring the ``to_json`` methods in :mod:`trackd.entities` (MLflow omits unset fields, so an
optional field may be absent). Extra fields are allowed, as MLflow's client ignores them.
"""

from __future__ import annotations

from trackd.api.openapi.spec import (
    BOOLEAN,
    DOUBLE,
    INT64,
    STRING,
    Schema,
    array,
    enum,
    limited,
    message,
    ref,
    text,
)
from trackd.entities.logged_models import STATUS_NAMES as LOGGED_MODEL_STATUSES
from trackd.entities.registry import ALL_STAGES
from trackd.entities.runs import RUN_STATUSES
from trackd.service import validation as v

LIFECYCLE = enum(("active", "deleted"))

TAG_OUT = message(("key", "value"), key=STRING, value=STRING)


def tag_in(key_limit: int, value_limit: int | None = None) -> Schema:
    """A tag or param as a request sends it: the key is required, a missing value means ""
    (no ``value_limit`` where MLflow cuts over-long values instead of refusing them)."""
    value = STRING if value_limit is None else limited(value_limit)
    return message(("key",), key=limited(key_limit, min_length=1), value=value)


# Run tags and params: keys up to 250 characters, values cut at 8000 / 6000.
RUN_TAG_IN = tag_in(v.MAX_ENTITY_KEY_LENGTH)

_METRIC_FIELDS: dict[str, Schema] = {
    "key": STRING,
    "value": DOUBLE,
    "timestamp": {**INT64, "description": "milliseconds since the epoch"},
    "step": INT64,
    "model_id": STRING,
    "dataset_name": STRING,
    "dataset_digest": STRING,
}
# A point as requests send it; the optional links are stored in logged_model_metrics.
METRIC_IN = message(
    ("key", "value", "timestamp"),
    **{
        **_METRIC_FIELDS,
        "key": limited(v.MAX_ENTITY_KEY_LENGTH, min_length=1),
        "timestamp": {**INT64, "minimum": 0, "description": "milliseconds since the epoch"},
        "model_id": limited(36),
        "dataset_name": limited(500),
        "dataset_digest": limited(36),
    },
)

SCHEMAS: dict[str, Schema] = {
    "Error": message(
        ("error_code", "message"),
        error_code=text("an MLflow ErrorCode name, e.g. INVALID_PARAMETER_VALUE"),
        message=STRING,
    ),
    "Tag": TAG_OUT,
    "Metric": message(("key", "value", "timestamp", "step"), run_id=STRING, **_METRIC_FIELDS),
    "Experiment": message(
        ("experiment_id", "name", "artifact_location", "lifecycle_stage"),
        experiment_id=STRING,
        name=STRING,
        artifact_location=STRING,
        lifecycle_stage=LIFECYCLE,
        last_update_time=INT64,
        creation_time=INT64,
        tags=array(ref("Tag")),
        workspace=STRING,
    ),
    "RunInfo": message(
        ("run_id", "run_uuid", "experiment_id", "status", "lifecycle_stage"),
        run_id=STRING,
        run_uuid=STRING,
        run_name=STRING,
        experiment_id=STRING,
        user_id=STRING,
        status=enum(RUN_STATUSES),
        start_time=INT64,
        end_time=INT64,
        artifact_uri=STRING,
        lifecycle_stage=LIFECYCLE,
    ),
    "Dataset": message(
        ("name", "digest", "source_type", "source"),
        name=STRING,
        digest=STRING,
        source_type=STRING,
        source=STRING,
        schema=STRING,
        profile=STRING,
    ),
    "DatasetInput": message(("dataset",), tags=array(ref("Tag")), dataset=ref("Dataset")),
    "Run": message(
        ("info", "data"),
        info=ref("RunInfo"),
        data=message(
            metrics=array(ref("Metric")), params=array(ref("Tag")), tags=array(ref("Tag"))
        ),
        inputs=message(
            dataset_inputs=array(ref("DatasetInput")),
            model_inputs=array(message(("model_id",), model_id=STRING)),
        ),
        outputs=message(
            model_outputs=array(message(("model_id",), model_id=STRING, step=INT64)),
        ),
    ),
    "FileInfo": message(("path", "is_dir"), path=STRING, is_dir=BOOLEAN, file_size=INT64),
    "LoggedModel": message(
        ("info",),
        info=message(
            ("model_id", "experiment_id", "name", "artifact_uri", "status"),
            model_id=text("m- followed by 32 hex digits"),
            experiment_id=STRING,
            name=STRING,
            creation_timestamp_ms=INT64,
            last_updated_timestamp_ms=INT64,
            artifact_uri=STRING,
            status=enum(tuple(LOGGED_MODEL_STATUSES.values())),
            model_type=STRING,
            source_run_id=STRING,
            status_message=STRING,
            tags=array(ref("Tag")),
            registrations=array(message(("name", "version"), name=STRING, version=STRING)),
        ),
        data=message(params=array(ref("Tag")), metrics=array(ref("Metric"))),
    ),
    "ModelVersion": message(
        ("name", "version", "current_stage", "status"),
        name=STRING,
        version=text("the version number, as a string"),
        creation_timestamp=INT64,
        last_updated_timestamp=INT64,
        user_id=STRING,
        current_stage=enum(ALL_STAGES),
        description=STRING,
        source=STRING,
        run_id=STRING,
        status=enum(("PENDING_REGISTRATION", "FAILED_REGISTRATION", "READY")),
        status_message=STRING,
        tags=array(ref("Tag")),
        run_link=STRING,
        aliases=array(STRING),
    ),
    "RegisteredModel": message(
        ("name",),
        name=STRING,
        creation_timestamp=INT64,
        last_updated_timestamp=INT64,
        description=STRING,
        latest_versions=array(ref("ModelVersion")),
        tags=array(ref("Tag")),
        aliases=array(message(("alias", "version"), alias=STRING, version=STRING)),
    ),
}


def page(name: str, item: str) -> Schema:
    """A search answer: a list that is absent when empty, and a token when more pages exist."""
    return message(**{name: array(ref(item)), "next_page_token": STRING})


def wrapped(name: str, entity: str) -> Schema:
    """``{name: <entity>}``, the shape of every get/create answer."""
    return message((name,), **{name: ref(entity)})
