"""MLflow 3 logged models: create, read, finalize, tag, search; and the 2.x run model history.

A logged model is MLflow 3's home for a model's files: ``mlflow.<flavor>.log_model`` creates
one (PENDING), uploads its files under ``<experiment location>/models/<model_id>/artifacts``
and finalizes it (READY). ``runs:/<run>/model`` URIs are resolved by searching the run's
experiment for a model of that name, so search must at least handle ``name = '...'``.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from trackd.config import Settings
from trackd.entities.experiments import ACTIVE, DELETED
from trackd.entities.logged_models import STATUS_PENDING, LoggedModel
from trackd.errors import invalid_parameter, not_found
from trackd.service import validation as v
from trackd.service.artifact_paths import logged_model_artifact_uri
from trackd.service.clock import now_ms
from trackd.service.experiments import require_active_experiment
from trackd.service.filters import parse_filter
from trackd.service.order_by import check_key_count
from trackd.service.run_names import random_run_name
from trackd.service.runs import RunService, require_active_run
from trackd.store import logged_models as store
from trackd.store import runs as run_store
from trackd.store.database import Database
from trackd.store.logged_models import DatasetFilter, OrderBy

DEFAULT_MAX_RESULTS = 100
# MLflow has no ceiling; a page is capped here and the client follows next_page_token.
PAGE_CEILING = 50_000
_BAD_NAME_CHARACTERS = ("/", ":", ".", "%", '"', "'")
MAX_TAG_KEY_LENGTH = 255
# The 2.x client's log_model appends the model's summary to this run tag.
LOGGED_MODELS_HISTORY_TAG = "mlflow.log-model.history"


def check_model_name(name: str | None) -> None:
    if name is None:
        return
    if not name or any(c in name for c in _BAD_NAME_CHARACTERS):
        raise invalid_parameter(
            f"Invalid model name ({name!r}) provided. Model name must be a non-empty string "
            f"and cannot contain the following characters: {_BAD_NAME_CHARACTERS}"
        )


def _check_pairs(items: Sequence[tuple[object, object]], what: str) -> list[tuple[str, str]]:
    checked = []
    for i, (key, value) in enumerate(items):
        if not isinstance(key, str) or not key:
            raise invalid_parameter(f"Missing value for required parameter '{what}[{i}].key'.")
        if len(key) > MAX_TAG_KEY_LENGTH:
            raise invalid_parameter(
                f"'{what}[{i}].key' exceeds the maximum length of {MAX_TAG_KEY_LENGTH} characters"
            )
        if value is not None and not isinstance(value, str):
            value = str(value)
        checked.append((key, value or ""))
    return checked


def require_model(conn: Connection, model_id: str, *, allow_deleted: bool = True) -> LoggedModel:
    """The model's row (no children); deleted ones count unless ``allow_deleted`` is False."""
    model = store.get_row(conn, model_id)
    if model is None or (not allow_deleted and model.lifecycle_stage == DELETED):
        raise not_found(f"Logged model with ID '{model_id}' not found.")
    return model


class LoggedModelService:
    def __init__(self, db: Database, settings: Settings, runs: RunService) -> None:
        self.db = db
        self.settings = settings
        self.runs = runs

    async def create(
        self,
        experiment_id: int,
        name: str | None,
        model_type: str | None,
        source_run_id: str | None,
        params: Sequence[tuple[object, object]],
        tags: Sequence[tuple[object, object]],
    ) -> LoggedModel:
        check_model_name(name)
        # logged_models.name / model_type are VARCHAR(500), source_run_id VARCHAR(32).
        v.check_length("name", 500, name)
        v.check_length("model_type", 500, model_type)
        v.check_length("source_run_id", v.MAX_RUN_ID_LENGTH, source_run_id)
        checked_params = _check_pairs(params, "params")
        checked_tags = _check_pairs(tags, "tags")
        model_id = "m-" + uuid.uuid4().hex
        final_name = name or random_run_name()

        def work(conn: Connection) -> LoggedModel:
            experiment = require_active_experiment(conn, experiment_id)
            now = now_ms()
            values = {
                "model_id": model_id,
                "experiment_id": experiment_id,
                "name": final_name,
                "artifact_location": logged_model_artifact_uri(
                    experiment.artifact_location or "", model_id
                ),
                "creation_timestamp_ms": now,
                "last_updated_timestamp_ms": now,
                "status": STATUS_PENDING,
                "lifecycle_stage": ACTIVE,
                "model_type": model_type,
                "source_run_id": source_run_id,
                "status_message": None,
            }
            store.insert_model(conn, values, checked_params, checked_tags)
            found = store.get_model(conn, model_id)
            assert found is not None
            return found

        return await self.db.write(work)

    async def get(self, model_id: str, *, allow_deleted: bool = False) -> LoggedModel:
        def work(conn: Connection) -> LoggedModel:
            model = store.get_model(conn, model_id, allow_deleted=allow_deleted)
            if model is None:
                raise not_found(f"Logged model with ID '{model_id}' not found.")
            return model

        return await self.db.read(work)

    async def finalize(self, model_id: str, status: int) -> LoggedModel:
        def work(conn: Connection) -> LoggedModel:
            require_model(conn, model_id)
            store.update_model(
                conn, model_id, {"status": status, "last_updated_timestamp_ms": now_ms()}
            )
            found = store.get_model(conn, model_id)
            assert found is not None
            return found

        return await self.db.write(work)

    async def delete(self, model_id: str) -> None:
        def work(conn: Connection) -> None:
            require_model(conn, model_id)
            store.update_model(
                conn, model_id, {"lifecycle_stage": DELETED, "last_updated_timestamp_ms": now_ms()}
            )

        await self.db.write(work)

    async def set_tags(self, model_id: str, tags: Sequence[tuple[object, object]]) -> None:
        checked = _check_pairs(tags, "tags")

        def work(conn: Connection) -> None:
            model = require_model(conn, model_id)
            store.set_tags(conn, model_id, model.experiment_id, checked)

        await self.db.write(work)

    async def delete_tag(self, model_id: str, key: str) -> None:
        def work(conn: Connection) -> None:
            require_model(conn, model_id)
            if not store.delete_tag(conn, model_id, key):
                raise not_found(f"No tag with key {key!r} found for model with ID {model_id!r}.")

        await self.db.write(work)

    async def log_params(self, model_id: str, params: Sequence[tuple[object, object]]) -> None:
        checked = _check_pairs(params, "params")

        def work(conn: Connection) -> None:
            model = require_model(conn, model_id)
            store.insert_params(conn, model_id, model.experiment_id, checked)

        await self.db.write(work)

    async def search(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None,
        datasets: Sequence[DatasetFilter],
        max_results: int | None,
        order_by: Sequence[OrderBy],
        page_token: str | None,
    ) -> tuple[list[LoggedModel], str | None]:
        if any(not d.name for d in datasets):
            raise invalid_parameter("`dataset_name` in the `datasets` clause must be specified.")
        if max_results is not None and max_results < 0:
            raise invalid_parameter(
                f"Invalid value {max_results} for parameter 'max_results' supplied."
            )
        check_key_count(order_by)
        ids = [v.parse_experiment_id(e) for e in experiment_ids]
        clauses = parse_filter("logged_models", filter_string or None)
        echo = _TokenEcho(list(experiment_ids), filter_string or None, _order_echo(order_by))
        offset = echo.offset_from(page_token) if page_token else 0
        limit = min(max_results or DEFAULT_MAX_RESULTS, PAGE_CEILING)

        def work(conn: Connection) -> tuple[list[LoggedModel], str | None]:
            found = store.search_ids(conn, ids, clauses, datasets, order_by, offset, limit + 1)
            token = echo.token(offset + limit) if len(found) > limit else None
            return store.load_models(conn, found[:limit]), token

        return await self.db.read(work)

    # -- the 2.x client's POST runs/log-model ------------------------------------------------

    async def record_run_model(self, run_id: str, model_json: str) -> None:
        """Append a model's summary to the run's ``mlflow.log-model.history`` tag, as MLflow
        does for clients older than 3.0 (their models live under the run's artifacts)."""
        try:
            model = json.loads(model_json)
        except ValueError:
            raise invalid_parameter(
                f"Malformed model info. \n {model_json} \n is not a valid JSON."
            ) from None
        if not isinstance(model, dict):
            raise invalid_parameter(
                f"Malformed model info. \n {model_json} \n is not a valid JSON."
            )
        missing = {"artifact_path", "flavors", "utc_time_created", "run_id"} - set(model)
        if missing:
            raise invalid_parameter(f"Model json is missing mandatory fields: {missing}")
        entry = _history_entry(model)

        def work(conn: Connection) -> None:
            require_active_run(conn, run_id)
            previous = run_store.get_tag(conn, run_id, LOGGED_MODELS_HISTORY_TAG)
            history = json.loads(previous) if previous else []
            if not isinstance(history, list):
                history = []
            value = json.dumps([*history, entry])
            key, checked = self.runs.check_tag(LOGGED_MODELS_HISTORY_TAG, value)
            run_store.set_tags(conn, run_id, [(key, checked)])

        await self.db.write(work)


def _history_entry(model: dict[str, Any]) -> dict[str, Any]:
    """The fields MLflow keeps in the history tag, in MLflow's order; flavors lose ``config``."""
    entry: dict[str, Any] = {"run_id": model["run_id"], "artifact_path": model["artifact_path"]}
    entry["utc_time_created"] = str(model["utc_time_created"])
    entry["model_uuid"] = model.get("model_uuid") or uuid.uuid4().hex
    flavors = model.get("flavors") or {}
    entry["flavors"] = {
        name: ({k: val for k, val in conf.items() if k != "config"} if isinstance(conf, dict)
               else conf)
        for name, conf in (flavors.items() if isinstance(flavors, dict) else [])
    }
    return entry


def _order_echo(order_by: Sequence[OrderBy]) -> list[dict[str, Any]] | None:
    if not order_by:
        return None
    return [
        {"field_name": o.field_name, "ascending": o.ascending,
         "dataset_name": o.dataset_name, "dataset_digest": o.dataset_digest}
        for o in order_by
    ]


class _TokenEcho:
    """MLflow's logged-model page token: base64 JSON of the offset and the request it pages,
    refused when the next request asks for something else."""

    def __init__(self, experiment_ids: list[str], filter_string: str | None,
                 order_by: list[dict[str, Any]] | None) -> None:
        self.request = {"experiment_ids": experiment_ids, "filter_string": filter_string,
                        "order_by": order_by}

    def token(self, offset: int) -> str:
        return base64.b64encode(json.dumps({**self.request, "offset": offset}).encode()).decode()

    def offset_from(self, token: str) -> int:
        try:
            data = json.loads(base64.b64decode(token.encode(), validate=False).decode())
            offset = int(data.get("offset") or 0)
        except (ValueError, binascii.Error, AttributeError, TypeError, UnicodeDecodeError):
            raise invalid_parameter(f"Invalid page token: {token}.") from None
        checks = (
            ("experiment_ids", "Experiment IDs", "experiment IDs"),
            ("filter_string", "Filter string", "filter string"),
            ("order_by", "Order by", "order by"),
        )
        for key, label, noun in checks:
            found = data.get(key) or (None if key != "experiment_ids" else data.get(key))
            expected = self.request[key]
            if found != expected:
                raise invalid_parameter(
                    f"{label} in the page token do not match the requested {noun}. "
                    f"Expected: {expected}. Found: {found}"
                    if key == "experiment_ids"
                    else f"{label} in the page token does not match the requested {noun}. "
                    f"Expected: {expected}. Found: {found}"
                )
        if offset < 0:
            raise invalid_parameter(f"Invalid page token: {token}.")
        return offset
