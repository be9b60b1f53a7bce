"""Registered scorer routes (MLflow 3, /api/3.0): parse, call service/scorers.py, serialize.

The two routes that run judges (``scorer/invoke``, ``genai/evaluate/invoke``: MLflow submits
jobs that call model providers) answer NOT_IMPLEMENTED: trackd runs no jobs and calls no model.
"""

from __future__ import annotations

from typing import Any

from trackd.api.router import Call
from trackd.errors import NOT_IMPLEMENTED, MlflowError, invalid_parameter


async def register(call: Call) -> dict[str, Any]:
    f = await call.fields()
    made = await call.services.scorers.register(
        f.string("experiment_id", required=True), f.string("name", required=True),
        f.string("serialized_scorer", required=True))
    return made.registered_json()


async def list_scorers(call: Call) -> dict[str, Any]:
    f = await call.fields()
    ids = f.string_list("experiment_ids") if "experiment_ids" in f else None
    found = await call.services.scorers.list_latest(f.string("experiment_id"), ids)
    return {"scorers": [s.to_json() for s in found]} if found else {}


async def versions(call: Call) -> dict[str, Any]:
    f = await call.fields()
    found = await call.services.scorers.versions(f.string("experiment_id", required=True),
                                                 f.string("name", required=True))
    return {"scorers": [s.to_json() for s in found]}


async def get(call: Call) -> dict[str, Any]:
    f = await call.fields()
    found = await call.services.scorers.get(f.string("experiment_id", required=True),
                                            f.string("name", required=True),
                                            f.integer("version"))
    return {"scorer": found.to_json()}


async def delete(call: Call) -> dict[str, Any]:
    f = await call.fields()
    await call.services.scorers.delete(f.string("experiment_id", required=True),
                                       f.string("name", required=True), f.integer("version"))
    return {}


async def set_online_config(call: Call) -> dict[str, Any]:
    f = await call.fields()
    filter_string = f.raw("filter_string")
    if filter_string is not None and not isinstance(filter_string, str):
        raise invalid_parameter(
            f"Invalid value {filter_string!r} for parameter 'filter_string' supplied: Value was "
            f"of type '{type(filter_string).__name__}'. Expected type 'str' or None.")
    config = await call.services.scorers.set_online_config(
        f.string("experiment_id", required=True), f.string("name", required=True),
        f.number("sample_rate", required=True), filter_string)
    return {"config": config.to_json()}


async def online_configs(call: Call) -> dict[str, Any]:
    f = await call.fields()
    ids = f.string_list("scorer_ids")
    if not ids:
        raise invalid_parameter("Missing value for required parameter 'scorer_ids'. See the API "
                                "docs for more information about request parameters.")
    found = await call.services.scorers.online_configs(ids)
    return {"configs": [c.to_json() for c in found]}


async def invoke_scorer(call: Call) -> dict[str, Any]:
    (await call.fields()).string("experiment_id", required=True)  # MLflow checks it first
    raise MlflowError("Running scorers on traces (scorer/invoke) calls model providers through "
                      "MLflow's job runner, which trackd does not have: run the judges with "
                      "mlflow.genai.evaluate in the client instead.", NOT_IMPLEMENTED)


async def invoke_evaluate(call: Call) -> dict[str, Any]:
    (await call.fields()).string("experiment_id", required=True)
    raise MlflowError("Server-side evaluation (genai/evaluate/invoke) calls model providers "
                      "through MLflow's job runner, which trackd does not have: run "
                      "mlflow.genai.evaluate in the client instead.", NOT_IMPLEMENTED)
