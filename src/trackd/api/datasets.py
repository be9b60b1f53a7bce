"""Evaluation dataset routes (MLflow 3, /api/3.0): parse, call service/datasets.py and
service/dataset_records.py, serialize."""

from __future__ import annotations

import json
from typing import Any

from trackd.api.router import Call


async def create(call: Call) -> dict[str, Any]:
    f = await call.fields()
    made = await call.services.datasets.create(
        f.string("name", required=True), f.string_list("experiment_ids"), f.raw("tags"))
    return {"dataset": made.to_json()}


async def get(call: Call) -> dict[str, Any]:
    found = await call.services.datasets.get(call.params["dataset_id"])
    return {"dataset": found.to_json()}


async def delete(call: Call) -> dict[str, Any]:
    await call.services.datasets.delete(call.params["dataset_id"])
    return {}


async def search(call: Call) -> dict[str, Any]:
    f = await call.fields()
    found, token = await call.services.datasets.search(
        f.string_list("experiment_ids"), f.string("filter_string"), f.integer("max_results"),
        f.string_list("order_by"), f.string("page_token"))
    out: dict[str, Any] = {}
    if found:
        out["datasets"] = [d.to_json() for d in found]
    if token:
        out["next_page_token"] = token
    return out


async def set_tags(call: Call) -> dict[str, Any]:
    f = await call.fields()
    await call.services.datasets.set_tags(call.params["dataset_id"], f.raw("tags"))
    return {}


async def delete_tag(call: Call) -> dict[str, Any]:
    await call.services.datasets.delete_tag(call.params["dataset_id"], call.params["key"])
    return {}


async def experiment_ids(call: Call) -> dict[str, Any]:
    found = await call.services.datasets.experiment_ids(call.params["dataset_id"])
    return {"experiment_ids": found} if found else {}


async def add_experiments(call: Call) -> dict[str, Any]:
    f = await call.fields()
    dataset = await call.services.datasets.add_experiments(
        call.params["dataset_id"], f.string_list("experiment_ids"))
    return {"dataset": dataset.to_json()}


async def remove_experiments(call: Call) -> dict[str, Any]:
    f = await call.fields()
    dataset = await call.services.datasets.remove_experiments(
        call.params["dataset_id"], f.string_list("experiment_ids"))
    return {"dataset": dataset.to_json()}


async def upsert_records(call: Call) -> dict[str, Any]:
    f = await call.fields()
    inserted, updated = await call.services.dataset_records.upsert(
        call.params["dataset_id"], f.raw("records"))
    return {"inserted_count": inserted, "updated_count": updated}


async def get_records(call: Call) -> dict[str, Any]:
    f = await call.fields()
    records, token = await call.services.dataset_records.page(
        call.params["dataset_id"], f.integer("max_results"), f.string("page_token"))
    # MLflow sends the records as one JSON text, written by Python's json.dumps.
    out: dict[str, Any] = {"records": json.dumps([r.to_dict() for r in records])}
    if token:
        out["next_page_token"] = token
    return out


async def delete_records(call: Call) -> dict[str, Any]:
    f = await call.fields()
    deleted = await call.services.dataset_records.delete(
        call.params["dataset_id"], f.string_list("dataset_record_ids"))
    return {"deleted_count": deleted}

