"""Logged-model endpoints (MLflow 3), and the 2.x client's ``runs/log-model``."""

from __future__ import annotations

from typing import Any

from trackd.api._http import Fields
from trackd.api.router import Call
from trackd.entities.logged_models import status_from_wire
from trackd.errors import invalid_parameter, missing_parameter
from trackd.service import validation as v
from trackd.store.logged_models import DatasetFilter, OrderBy


def _pairs(f: Fields, name: str) -> list[tuple[object, object]]:
    return [(item.get("key"), item.get("value")) for item in f.objects(name)]


async def create(call: Call) -> dict[str, Any]:
    f = await call.fields()
    model = await call.services.logged_models.create(
        v.parse_experiment_id(f.string("experiment_id", required=True)),
        f.string("name") or None,
        # MLflow stores the proto's "" for absent strings, and sends them back as "".
        f.string("model_type", default=""),
        f.string("source_run_id", default=""),
        _pairs(f, "params"),
        _pairs(f, "tags"),
    )
    return {"model": model.to_json()}


async def get(call: Call) -> dict[str, Any]:
    f = await call.fields()
    model = await call.services.logged_models.get(
        call.params["model_id"], allow_deleted=f.boolean("allow_deleted")
    )
    return {"model": model.to_json()}


async def finalize(call: Call) -> dict[str, Any]:
    f = await call.fields()
    f.string("model_id", required=True)
    if f.raw("status") is None:
        raise missing_parameter("status")
    model = await call.services.logged_models.finalize(
        call.params["model_id"], status_from_wire(f.raw("status"))
    )
    return {"model": model.to_json()}


async def delete(call: Call) -> None:
    await call.services.logged_models.delete(call.params["model_id"])


async def set_tags(call: Call) -> None:
    f = await call.fields()
    await call.services.logged_models.set_tags(call.params["model_id"], _pairs(f, "tags"))


async def delete_tag(call: Call) -> None:
    await call.services.logged_models.delete_tag(call.params["model_id"], call.params["tag_key"])


async def log_params(call: Call) -> None:
    f = await call.fields()
    await call.services.logged_models.log_params(call.params["model_id"], _pairs(f, "params"))


def _order_by(f: Fields) -> list[OrderBy]:
    out = []
    for i, item in enumerate(f.objects("order_by")):
        name = item.get("field_name")
        if not isinstance(name, str) or not name:
            raise missing_parameter(f"order_by[{i}].field_name")
        ascending = item.get("ascending", True)
        if isinstance(ascending, str):
            ascending = ascending.lower() != "false"
        out.append(
            OrderBy(name, bool(ascending),
                    v.optional_string(item, "dataset_name", f"order_by[{i}]"),
                    v.optional_string(item, "dataset_digest", f"order_by[{i}]"))
        )
    return out


async def search(call: Call) -> dict[str, Any]:
    f = await call.fields()
    if f.raw("experiment_ids") is None:
        raise missing_parameter("experiment_ids")
    datasets = []
    for i, item in enumerate(f.objects("datasets")):
        name = item.get("dataset_name")
        if name is not None and not isinstance(name, str):
            raise invalid_parameter("`dataset_name` in the `datasets` clause must be a string.")
        digest = v.optional_string(item, "dataset_digest", f"datasets[{i}]")
        datasets.append(DatasetFilter(name or "", digest))
    models, token = await call.services.logged_models.search(
        f.string_list("experiment_ids"),
        f.string("filter"),
        datasets,
        f.integer("max_results"),
        _order_by(f),
        f.string("page_token"),
    )
    out: dict[str, Any] = {}
    if models:
        out["models"] = [m.to_json() for m in models]
    if token:
        out["next_page_token"] = token
    return out


async def log_run_model(call: Call) -> None:
    """``POST runs/log-model``: what 2.x clients send after uploading a model's files."""
    f = await call.fields()
    run_id = v.check_run_id(f.string("run_id", required=True))
    await call.services.logged_models.record_run_model(
        run_id, f.string("model_json", required=True)
    )
