"""Assessment routes (MLflow 3): parse, call service/assessments.py, serialize."""

from __future__ import annotations

from typing import Any

from trackd.api.router import Call


async def create(call: Call) -> dict[str, Any]:
    f = await call.fields()
    made = await call.services.assessments.create(call.params["trace_id"], f.raw("assessment"))
    return {"assessment": made.to_json()}


async def get(call: Call) -> dict[str, Any]:
    found = await call.services.assessments.get(call.params["trace_id"],
                                                call.params["assessment_id"])
    return {"assessment": found.to_json()}


async def update(call: Call) -> dict[str, Any]:
    f = await call.fields()
    updated = await call.services.assessments.update(
        call.params["trace_id"], call.params["assessment_id"], f.raw("assessment"),
        f.raw("update_mask"))
    return {"assessment": updated.to_json()}


async def delete(call: Call) -> dict[str, Any]:
    await call.services.assessments.delete(call.params["trace_id"], call.params["assessment_id"])
    return {}
