"""Registered-model endpoints: CRUD, tags, aliases, latest versions and search."""

from __future__ import annotations

from typing import Any

from trackd.api.model_versions import version_field
from trackd.api.router import Call
from trackd.service.model_versions import tags_of


async def create(call: Call) -> dict[str, Any]:
    f = await call.fields()
    model = await call.services.registered_models.create(
        f.string("name", required=True),
        tags_of(f.objects("tags")),
        # MLflow's handler passes the proto default, so an absent description is stored as "".
        f.string("description", default=""),
    )
    return {"registered_model": model.to_json()}


async def get(call: Call) -> dict[str, Any]:
    f = await call.fields()
    model = await call.services.registered_models.get(f.string("name", required=True))
    return {"registered_model": model.to_json()}


async def rename(call: Call) -> dict[str, Any]:
    f = await call.fields()
    model = await call.services.registered_models.rename(
        f.string("name", required=True), f.string("new_name", required=True)
    )
    return {"registered_model": model.to_json()}


async def update(call: Call) -> dict[str, Any]:
    f = await call.fields()
    model = await call.services.registered_models.update(
        f.string("name", required=True), f.string("description", default="")
    )
    return {"registered_model": model.to_json()}


async def delete(call: Call) -> None:
    f = await call.fields()
    await call.services.registered_models.delete(f.string("name", required=True))


async def search(call: Call) -> dict[str, Any]:
    f = await call.fields()
    models, token = await call.services.registered_models.search(
        f.string("filter"),
        f.integer("max_results"),
        f.string_list("order_by"),
        f.string("page_token"),
    )
    out: dict[str, Any] = {}
    if models:
        out["registered_models"] = [m.to_json() for m in models]
    if token:
        out["next_page_token"] = token
    return out


async def set_tag(call: Call) -> None:
    f = await call.fields()
    await call.services.registered_models.set_tag(
        f.string("name", required=True), f.string("key", required=True), f.string("value")
    )


async def delete_tag(call: Call) -> None:
    f = await call.fields()
    await call.services.registered_models.delete_tag(
        f.string("name", required=True), f.string("key", required=True)
    )


async def get_latest_versions(call: Call) -> dict[str, Any]:
    f = await call.fields()
    versions = await call.services.registered_models.latest_versions(
        f.string("name", required=True), f.string_list("stages")
    )
    return {"model_versions": [mv.to_json() for mv in versions]} if versions else {}


async def set_alias(call: Call) -> None:
    f = await call.fields()
    await call.services.registered_models.set_alias(
        f.string("name", required=True),
        f.string("alias", required=True),
        version_field(f),
    )


async def delete_alias(call: Call) -> None:
    f = await call.fields()
    await call.services.registered_models.delete_alias(
        f.string("name", required=True), f.string("alias", required=True)
    )


async def get_by_alias(call: Call) -> dict[str, Any]:
    f = await call.fields()
    version = await call.services.registered_models.get_by_alias(
        f.string("name", required=True), f.string("alias", required=True)
    )
    return {"model_version": version.to_json()}

