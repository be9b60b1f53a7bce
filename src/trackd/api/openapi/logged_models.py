"""Logged-model operations (MLflow 3; api/logged_models.py and its artifact routes)."""

from __future__ import annotations

from trackd.api.openapi.components import page, tag_in, wrapped
from trackd.api.openapi.spec import (
    BOOLEAN,
    INT64,
    NAME,
    STRING,
    Operation,
    Operations,
    array,
    enum,
    limited,
    message,
    ref,
    text,
)
from trackd.entities.logged_models import STATUS_NAMES
from trackd.service import validation as v
from trackd.service.logged_models import MAX_TAG_KEY_LENGTH

_MODEL_ID = {"model_id": text("m- followed by 32 hex digits")}
_BASE = "/mlflow/logged-models/{model_id}"
# Logged-model params and tags: keys up to 255 characters (their columns), values unbounded.
_PAIR = tag_in(MAX_TAG_KEY_LENGTH)

OPERATIONS: Operations = {
    ("POST", "/mlflow/logged-models"): Operation(
        "Create a logged model (status LOGGED_MODEL_PENDING)",
        message(
            ("experiment_id",),
            experiment_id=NAME,
            name=limited(500, "a random name when absent; none of / : . % \" '"),
            model_type=limited(500),
            source_run_id=limited(v.MAX_RUN_ID_LENGTH),
            params=array(_PAIR),
            tags=array(_PAIR),
        ),
        wrapped("model", "LoggedModel"),
    ),
    ("POST", "/mlflow/logged-models/search"): Operation(
        "Search logged models",
        message(
            ("experiment_ids",),
            experiment_ids=array(STRING),
            filter=STRING,
            datasets=array(
                message(("dataset_name",), dataset_name=NAME, dataset_digest=STRING)
            ),
            max_results=INT64,
            order_by=array(
                message(
                    ("field_name",),
                    field_name=NAME,
                    ascending=BOOLEAN,
                    dataset_name=STRING,
                    dataset_digest=STRING,
                )
            ),
            page_token=STRING,
        ),
        page("models", "LoggedModel"),
    ),
    ("GET", _BASE): Operation(
        "Get a logged model",
        message(allow_deleted=BOOLEAN),
        wrapped("model", "LoggedModel"),
        path_params=_MODEL_ID,
    ),
    ("PATCH", _BASE): Operation(
        "Finalize a logged model's upload",
        message(
            ("model_id", "status"),
            model_id=NAME,
            status=enum(tuple(name for number, name in STATUS_NAMES.items() if number)),
        ),
        wrapped("model", "LoggedModel"),
        path_params=_MODEL_ID,
    ),
    ("DELETE", _BASE): Operation("Soft-delete a logged model", path_params=_MODEL_ID),
    ("PATCH", _BASE + "/tags"): Operation(
        "Set logged-model tags", message(tags=array(_PAIR)), path_params=_MODEL_ID
    ),
    ("DELETE", _BASE + "/tags/{tag_key}"): Operation(
        "Delete a logged-model tag", path_params={**_MODEL_ID, "tag_key": STRING}
    ),
    ("POST", _BASE + "/params"): Operation(
        "Log further logged-model params", message(params=array(_PAIR)), path_params=_MODEL_ID
    ),
    ("GET", _BASE + "/artifacts/directories"): Operation(
        "List a logged model's artifacts",
        message(artifact_directory_path=STRING, page_token=STRING),
        message(("root_uri",), root_uri=STRING, files=array(ref("FileInfo"))),
        path_params=_MODEL_ID,
    ),
    ("GET", _BASE + "/artifacts/files"): Operation(
        "Download one of a logged model's files",
        message(("artifact_file_path",), artifact_file_path=NAME),
        kind="download",
        path_params=_MODEL_ID,
    ),
}
