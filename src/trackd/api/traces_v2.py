"""MLflow's deprecated v2 trace routes (/api/2.0 only), still what mlflow-skinny 2.x sends:
parse, call service/traces_v2.py or service/traces.py, answer in the v2 shape."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from trackd.api._http import Fields
from trackd.api.router import Call
from trackd.entities.traces_v2 import END_STATUSES, UNSPECIFIED_STATUS, v2_json
from trackd.errors import invalid_parameter, missing_parameter

MAX_SEARCH_RESULTS = 500  # the v2 search's own limit (the v3 search allows more)


def _key_values(f: Fields, name: str) -> dict[str, str]:
    """A ``[{key, value}, ...]`` list (TraceRequestMetadata / TraceTag) as a dict; a key sent
    twice keeps its last value, a missing value is the empty string (proto3's default)."""
    out: dict[str, str] = {}
    for entry in f.objects(name):
        key, value = entry.get("key"), entry.get("value", "")
        if not isinstance(key, str) or not isinstance(value, str):
            shown = orjson.dumps(entry).decode()[:100]
            raise invalid_parameter(
                f"Invalid value {shown} in parameter '{name}': each entry needs a string 'key' "
                "and a string 'value'"
            )
        out[key] = value
    return out


async def start(call: Call) -> dict[str, Any]:
    f = await call.fields()
    experiment_id = f.string("experiment_id")
    if not experiment_id:
        raise missing_parameter("experiment_id")
    info = await call.services.traces_v2.start(
        experiment_id,
        f.integer("timestamp_ms", default=0),
        _key_values(f, "request_metadata"),
        _key_values(f, "tags"),
    )
    return {"trace_info": v2_json(info)}


async def end(call: Call) -> dict[str, Any]:
    f = await call.fields()
    timestamp_ms = f.integer("timestamp_ms", default=0)
    status = f.enum("status", END_STATUSES, default=UNSPECIFIED_STATUS)
    if status == UNSPECIFIED_STATUS:
        # mlflow server fails with an internal error here; a trace's end needs a status.
        raise invalid_parameter(
            f"Invalid value for parameter 'status': a trace ends with one of {list(END_STATUSES)}"
        )
    info = await call.services.traces_v2.end(
        call.params["request_id"],
        timestamp_ms,
        status,
        _key_values(f, "request_metadata"),
        _key_values(f, "tags"),
    )
    return {"trace_info": v2_json(info)}


async def get_info(call: Call) -> dict[str, Any]:
    info = await call.services.traces.get_info(call.params["request_id"])
    return {"trace_info": v2_json(info)}


async def search(call: Call) -> dict[str, Any]:
    f = await call.fields()
    experiment_ids = f.string_list("experiment_ids")
    if not experiment_ids:
        raise missing_parameter("experiment_ids")
    max_results = f.integer("max_results")
    if max_results is not None and max_results > MAX_SEARCH_RESULTS:
        raise invalid_parameter(
            f"Invalid value {max_results} for parameter 'max_results' supplied. It must be at "
            f"most {MAX_SEARCH_RESULTS}"
        )
    infos, token = await call.services.traces.search(
        experiment_ids, f.string("filter"), max_results, f.string_list("order_by"),
        f.string("page_token"))
    out: dict[str, Any] = {}
    if infos:
        out["traces"] = [v2_json(i) for i in infos]
    if token:
        out["next_page_token"] = token
    return out


async def databricks_only(call: Call) -> Response:
    """``get-online-trace-details`` and ``unified-traces`` read Databricks inference tables and
    SQL warehouses; mlflow server routes them to its "not implemented" answer, an empty 404."""
    return Response(b"", status_code=404, media_type="text/html; charset=utf-8")
