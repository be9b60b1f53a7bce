"""Label schema routes (MLflow 3.18): parse, call service/label_schemas.py, serialize."""

from __future__ import annotations

from typing import Any

from trackd.api._http import Fields
from trackd.api.router import Call
from trackd.errors import invalid_parameter


def _comment(f: Fields) -> bool | None:
    value = f.raw("enable_comment")
    if value is None:
        return None
    if not isinstance(value, bool):
        raise invalid_parameter(
            f"Label schema `enable_comment` must be a bool; got {type(value).__name__}.")
    return value


async def create(call: Call) -> dict[str, Any]:
    f = await call.fields()
    made = await call.services.label_schemas.create(
        f.string("experiment_id", required=True), f.string("name", required=True),
        f.raw("type"), f.raw("input"), f.string("instruction"), bool(_comment(f)))
    return {"label_schema": made.to_json()}


async def get(call: Call) -> dict[str, Any]:
    f = await call.fields()
    found = await call.services.label_schemas.get(f.string("schema_id", required=True))
    return {"label_schema": found.to_json()}


async def get_by_name(call: Call) -> dict[str, Any]:
    f = await call.fields()
    found = await call.services.label_schemas.get_by_name(
        f.string("experiment_id", required=True), f.string("name", required=True))
    return {"label_schema": found.to_json()}


async def list_schemas(call: Call) -> dict[str, Any]:
    f = await call.fields()
    schemas, token = await call.services.label_schemas.list_schemas(
        f.string("experiment_id", required=True), f.integer("max_results"),
        f.string("page_token"))
    out: dict[str, Any] = {"next_page_token": token or ""}
    if schemas:
        out["label_schemas"] = [s.to_json() for s in schemas]
    return out


async def update(call: Call) -> dict[str, Any]:
    f = await call.fields()
    updated = await call.services.label_schemas.update(
        f.string("schema_id", required=True), f.string("name"), f.string("instruction"),
        _comment(f), f.raw("input"))
    return {"label_schema": updated.to_json()}


async def delete(call: Call) -> dict[str, Any]:
    f = await call.fields()
    await call.services.label_schemas.delete(f.string("schema_id", required=True))
    return {}
