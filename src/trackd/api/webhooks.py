"""Webhook routes (MLflow 3.18): parse, call service/webhooks.py, serialize."""

from __future__ import annotations

from typing import Any

from trackd.api.router import Call


async def create(call: Call) -> dict[str, Any]:
    f = await call.fields()
    made = await call.services.webhooks.create(
        f.string("name"), f.string("url"), f.raw("events"), f.string("description"),
        f.string("secret"), f.raw("status"))
    return {"webhook": made.to_json()}


async def list_webhooks(call: Call) -> dict[str, Any]:
    f = await call.fields()
    found, token = await call.services.webhooks.list(f.integer("max_results"),
                                                     f.string("page_token"))
    out: dict[str, Any] = {}
    if found:  # MLflow leaves empty lists out
        out["webhooks"] = [w.to_json() for w in found]
    if token:
        out["next_page_token"] = token
    return out


async def get(call: Call) -> dict[str, Any]:
    found = await call.services.webhooks.get(call.params["webhook_id"])
    return {"webhook": found.to_json()}


async def update(call: Call) -> dict[str, Any]:
    f = await call.fields()
    fields = {"name": f.string("name"), "url": f.string("url"), "events": f.raw("events"),
              "description": f.string("description"), "secret": f.string("secret"),
              "status": f.raw("status")}
    updated = await call.services.webhooks.update(call.params["webhook_id"], fields)
    return {"webhook": updated.to_json()}


async def delete(call: Call) -> dict[str, Any]:
    await call.services.webhooks.delete(call.params["webhook_id"])
    return {}


async def test(call: Call) -> dict[str, Any]:
    f = await call.fields()
    result = await call.services.webhooks.test(call.params["webhook_id"], f.raw("event"))
    return {"result": result.to_json()}
