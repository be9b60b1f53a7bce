"""Review queue routes (MLflow 3.18): parse, call service/review_queues.py, serialize."""

from __future__ import annotations

from typing import Any

from trackd.api.router import Call


def _caller(call: Call) -> str | None:
    """The signed-in user when auth is on: MLflow then stamps owners and reviewers from the
    login, never from the body (which could name someone else)."""
    state = call.request.scope.get("state") or {}
    name = state.get("trackd_user")
    return name if isinstance(name, str) else None


async def create(call: Call) -> dict[str, Any]:
    f = await call.fields()
    made = await call.services.review_queues.create(
        f.string("experiment_id", required=True), f.string("name", required=True),
        f.raw("queue_type"), f.string_list("users"), f.string_list("schema_ids"),
        _caller(call))
    return {"review_queue": made.to_json()}


async def get_or_create_user(call: Call) -> dict[str, Any]:
    f = await call.fields()
    queue = await call.services.review_queues.get_or_create_user_queue(
        f.string("experiment_id", required=True), f.string("user", required=True))
    return {"review_queue": queue.to_json()}


async def get(call: Call) -> dict[str, Any]:
    f = await call.fields()
    queue = await call.services.review_queues.get(f.string("queue_id", required=True))
    return {"review_queue": queue.to_json()}


async def get_by_name(call: Call) -> dict[str, Any]:
    f = await call.fields()
    queue = await call.services.review_queues.get_by_name(
        f.string("experiment_id", required=True), f.string("name", required=True))
    return {"review_queue": queue.to_json()}


async def list_queues(call: Call) -> dict[str, Any]:
    f = await call.fields()
    queues, token = await call.services.review_queues.list_queues(
        f.string("experiment_id", required=True), f.string("user"), f.string("item_id"),
        f.integer("max_results"), f.string("page_token"))
    out: dict[str, Any] = {"next_page_token": token or ""}
    if queues:
        out["review_queues"] = [q.to_json() for q in queues]
    return out


async def update(call: Call) -> dict[str, Any]:
    f = await call.fields()
    # The lists only count with their update_* flag: an empty list is a real answer.
    updated = await call.services.review_queues.update(
        f.string("queue_id", required=True),
        f.string_list("users") if f.boolean("update_users") else None,
        f.string_list("schema_ids") if f.boolean("update_schema_ids") else None,
        f.string("name"), f.string("new_owner"))
    return {"review_queue": updated.to_json()}


async def delete(call: Call) -> dict[str, Any]:
    f = await call.fields()
    await call.services.review_queues.delete(f.string("queue_id", required=True))
    return {}


async def add_items(call: Call) -> dict[str, Any]:
    f = await call.fields()
    items = await call.services.review_queues.add_items(
        f.string("queue_id", required=True), f.string_list("item_ids"), f.raw("item_type"))
    return {"items": [i.to_json() for i in items]}


async def remove_items(call: Call) -> dict[str, Any]:
    f = await call.fields()
    await call.services.review_queues.remove_items(
        f.string("queue_id", required=True), f.string_list("item_ids"))
    return {}


async def list_items(call: Call) -> dict[str, Any]:
    f = await call.fields()
    items, token = await call.services.review_queues.list_items(
        f.string("queue_id", required=True), f.raw("status"), f.integer("max_results"),
        f.string("page_token"))
    out: dict[str, Any] = {"next_page_token": token or ""}
    if items:
        out["items"] = [i.to_json() for i in items]
    return out


async def set_item_status(call: Call) -> dict[str, Any]:
    f = await call.fields()
    queue_id = f.string("queue_id", required=True)
    item_id = f.string("item_id", required=True)
    status = f.raw("status")
    caller = _caller(call)
    if caller is None:  # no auth: one anonymous user, so the client's word is taken
        completed_by = f.string("completed_by")
    else:  # with auth: the reviewer is whoever is signed in (cleared on reopening)
        completed_by = None if str(status).upper() in ("PENDING", "1") else caller
    item = await call.services.review_queues.set_status(queue_id, item_id, status, completed_by)
    return {"item": item.to_json()}
