"""Model-registry operations (api/registered_models.py, api/model_versions.py)."""

from __future__ import annotations

from trackd.api.openapi.components import page, tag_in, wrapped
from trackd.api.openapi.spec import (
    BOOLEAN,
    INT64,
    STRING,
    Operation,
    Operations,
    Schema,
    array,
    limited,
    message,
    ref,
    text,
)
from trackd.service import registered_models as rm
from trackd.service import validation as v

_RM = "/mlflow/registered-models"
_MV = "/mlflow/model-versions"
_NAME = limited(rm.MAX_NAME_LENGTH, "a registered model's name", min_length=1)
_KEY = limited(v.MAX_REGISTRY_TAG_KEY_LENGTH, min_length=1)
_ALIAS = limited(rm.MAX_ALIAS_LENGTH, min_length=1)
_DESCRIPTION = limited(rm.MAX_DESCRIPTION_LENGTH)
_SOURCE_LIMIT = 500  # model_versions.source / run_link: VARCHAR(500)
# A string in the proto; a JSON number is accepted too, as protobuf's JSON parser does.
_VERSION = {**text("a version number (a JSON number is accepted too)", min_length=1),
            "pattern": "^[0-9]+$"}


def _version(required: tuple[str, ...] = (), **fields: Schema) -> Schema:
    """A request naming one model version (name and version), plus its own fields."""
    return message(("name", "version", *required), name=_NAME, version=_VERSION, **fields)


def _search(what: str, name: str, item: str) -> Operation:
    return Operation(
        f"Search {what}",
        message(filter=STRING, max_results=INT64, order_by=array(STRING), page_token=STRING),
        page(name, item),
    )


_LATEST = Operation(
    "The newest version per stage",
    message(("name",), name=_NAME, stages=array(STRING)),
    message(model_versions=array(ref("ModelVersion"))),
)

OPERATIONS: Operations = {
    ("POST", f"{_RM}/create"): Operation(
        "Create a registered model",
        message(
            ("name",),
            name=_NAME,
            tags=array(tag_in(v.MAX_REGISTRY_TAG_KEY_LENGTH, rm.MAX_MODEL_TAG_VALUE_LENGTH)),
            description=_DESCRIPTION,
        ),
        wrapped("registered_model", "RegisteredModel"),
    ),
    ("GET", f"{_RM}/get"): Operation(
        "Get a registered model with its latest versions, tags and aliases",
        message(("name",), name=_NAME),
        wrapped("registered_model", "RegisteredModel"),
    ),
    ("POST", f"{_RM}/rename"): Operation(
        "Rename a registered model",
        message(("name", "new_name"), name=_NAME, new_name=_NAME),
        wrapped("registered_model", "RegisteredModel"),
    ),
    ("PATCH", f"{_RM}/update"): Operation(
        "Update a registered model's description",
        message(("name",), name=_NAME, description=_DESCRIPTION),
        wrapped("registered_model", "RegisteredModel"),
    ),
    ("DELETE", f"{_RM}/delete"): Operation(
        "Delete a registered model and its versions", message(("name",), name=_NAME)
    ),
    ("GET", f"{_RM}/search"): _search("registered models", "registered_models", "RegisteredModel"),
    ("POST", f"{_RM}/set-tag"): Operation(
        "Set a registered-model tag",
        message(
            ("name", "key"),
            name=_NAME,
            key=_KEY,
            value=limited(rm.MAX_MODEL_TAG_VALUE_LENGTH),
        ),
    ),
    ("DELETE", f"{_RM}/delete-tag"): Operation(
        "Delete a registered-model tag", message(("name", "key"), name=_NAME, key=_KEY)
    ),
    ("POST", f"{_RM}/get-latest-versions"): _LATEST,
    ("GET", f"{_RM}/get-latest-versions"): _LATEST,
    ("POST", f"{_RM}/alias"): Operation(
        "Point an alias at a version",
        message(("name", "alias", "version"), name=_NAME, alias=_ALIAS, version=_VERSION),
    ),
    ("DELETE", f"{_RM}/alias"): Operation(
        "Delete an alias", message(("name", "alias"), name=_NAME, alias=_ALIAS)
    ),
    ("GET", f"{_RM}/alias"): Operation(
        "The version an alias points at",
        message(("name", "alias"), name=_NAME, alias=_ALIAS),
        wrapped("model_version", "ModelVersion"),
    ),
    ("POST", f"{_MV}/create"): Operation(
        "Register a new version of a model",
        message(
            ("name", "source"),
            name=_NAME,
            source=limited(_SOURCE_LIMIT, "runs:/..., models:/m-... or an artifact URI",
                           min_length=1),
            run_id=limited(v.MAX_RUN_ID_LENGTH),
            tags=array(tag_in(v.MAX_REGISTRY_TAG_KEY_LENGTH, v.MAX_REGISTRY_TAG_VALUE_LENGTH)),
            run_link=limited(_SOURCE_LIMIT),
            description=_DESCRIPTION,
            model_id=STRING,
        ),
        wrapped("model_version", "ModelVersion"),
    ),
    ("GET", f"{_MV}/get"): Operation(
        "Get a model version", _version(), wrapped("model_version", "ModelVersion")
    ),
    ("PATCH", f"{_MV}/update"): Operation(
        "Update a version's description",
        _version(description=_DESCRIPTION),
        wrapped("model_version", "ModelVersion"),
    ),
    ("DELETE", f"{_MV}/delete"): Operation("Delete a model version", _version()),
    ("GET", f"{_MV}/search"): _search("model versions", "model_versions", "ModelVersion"),
    ("POST", f"{_MV}/set-tag"): Operation(
        "Set a model-version tag",
        _version(("key",), key=_KEY, value=limited(v.MAX_REGISTRY_TAG_VALUE_LENGTH)),
    ),
    ("DELETE", f"{_MV}/delete-tag"): Operation(
        "Delete a model-version tag", _version(("key",), key=_KEY)
    ),
    ("POST", f"{_MV}/transition-stage"): Operation(
        "Move a version to a stage",
        _version(
            ("stage",),
            stage=text("None, Staging, Production or Archived (any case)", min_length=1),
            archive_existing_versions=BOOLEAN,
        ),
        wrapped("model_version", "ModelVersion"),
    ),
    ("GET", f"{_MV}/get-download-uri"): Operation(
        "Where a version's files are",
        _version(),
        message(("artifact_uri",), artifact_uri=STRING),
    ),
}
